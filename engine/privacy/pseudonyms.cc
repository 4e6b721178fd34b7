#include "engine/privacy/pseudonyms.h"

#include <fstream>
#include <sstream>

#include "engine/privacy/keyed_hash.h"

namespace recdb::privacy {
namespace {

constexpr std::string_view kCheckProbe = "recdb: pseudonym key check";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

StatusOr<std::vector<std::string>> PseudonymChain::ParseKeyFile(std::string_view text) {
  std::vector<std::string> keys;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() % 2 != 0 || line.size() < 2 * kMinPseudonymKeyBytes) {
      return Status::InvalidArgument("key file line " + std::to_string(line_no) +
                                     ": a key is at least " +
                                     std::to_string(2 * kMinPseudonymKeyBytes) +
                                     " hex digits (an even number)");
    }
    std::string key;
    for (size_t i = 0; i < line.size(); i += 2) {
      const int hi = HexDigit(line[i]), lo = HexDigit(line[i + 1]);
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("key file line " + std::to_string(line_no) +
                                       ": not hexadecimal");
      }
      key.push_back(static_cast<char>(hi * 16 + lo));
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty()) return Status::InvalidArgument("key file holds no key");
  return keys;
}

StatusOr<std::vector<std::string>> PseudonymChain::ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound("pseudonym key file " + path +
                            " is missing or unreadable (Options::pseudonyms.key_file; recdb: "
                            "RECDB_PSEUDONYM_KEY_FILE or an options file's pseudonyms.key_file)");
  }
  std::stringstream text;
  text << in.rdbuf();
  auto keys = ParseKeyFile(text.str());
  if (!keys.ok()) return keys.status().WithContext(path);
  return keys;
}

StatusOr<PseudonymChain> PseudonymChain::FromOptions(const PseudonymOptions& options) {
  std::vector<std::string> keys = options.keys;
  if (keys.empty() && !options.key_file.empty()) {
    RECDB_ASSIGN_OR_RETURN(keys, ReadKeyFile(options.key_file));
  }
  for (const std::string& k : keys) {
    if (k.size() < kMinPseudonymKeyBytes) {
      return Status::InvalidArgument("pseudonym key shorter than " +
                                     std::to_string(kMinPseudonymKeyBytes) + " bytes");
    }
  }
  return PseudonymChain(std::move(keys));
}

std::string PseudonymChain::Apply(std::string_view id) const {
  if (keys_.empty()) return std::string(id);
  return Extend(id, keys_);
}

std::string PseudonymChain::Extend(std::string_view stored, const std::vector<std::string>& added) {
  std::string x(stored);
  for (const std::string& key : added) x = ToHex(HmacSha256(key, x));
  return x;
}

std::string PseudonymChain::CheckValue() const { return Apply(kCheckProbe); }

}  // namespace recdb::privacy
