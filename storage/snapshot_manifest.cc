#include "storage/snapshot_manifest.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>

#include "common/crc32c.h"

namespace recdb::storage {
namespace {

constexpr std::string_view kChecksumKey = "manifest_crc32c ";
// Keeps a hostile manifest from making the parser allocate without bound.
constexpr size_t kMaxFiles = 1u << 22;

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out, int base = 10) {
  if (s.empty() || s.size() > 20) return false;
  if (base == 10 && s[0] == '+') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

bool ParseHex8(std::string_view s, uint32_t* out) {
  if (s.size() != 8) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return ParseNumber(s, out, 16);
}

// Splits off the first space-separated token of `*line`.
std::string_view NextToken(std::string_view* line) {
  const size_t sp = line->find(' ');
  std::string_view tok = line->substr(0, sp);
  *line = sp == std::string_view::npos ? std::string_view() : line->substr(sp + 1);
  return tok;
}

Status Bad(const std::string& what, size_t line_no) {
  return Status::Corruption("snapshot manifest line " + std::to_string(line_no) + ": " + what);
}

}  // namespace

uint64_t SnapshotManifest::TotalBytes() const {
  uint64_t total = 0;
  for (const ManifestFile& f : files) total += f.size;
  return total;
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.size() > 4096 || path.front() == '/' || path.back() == '/') return false;
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f || c == '\\') return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

std::string SerializeManifest(const SnapshotManifest& m) {
  std::string out;
  out.reserve(256 + m.files.size() * 48);
  out += std::string(kSnapshotManifestMagic) + " " + std::to_string(kSnapshotManifestVersion) + "\n";
  out += "recdb_format_version " + std::to_string(m.format_version) + "\n";
  out += "rocksdb_sequence " + std::to_string(m.sequence) + "\n";
  out += "created_unix_micros " + std::to_string(m.created_unix_micros) + "\n";
  out += "db_id " + m.db_id + "\n";
  out += "files " + std::to_string(m.files.size()) + "\n";
  for (const ManifestFile& f : m.files) {
    out += "file " + Hex8(f.crc32c) + " " + std::to_string(f.size) + " " + f.path + "\n";
  }
  out += std::string(kChecksumKey) + Hex8(Crc32c(out)) + "\n";
  return out;
}

Status ParseManifest(std::string_view text, SnapshotManifest* out) {
  *out = SnapshotManifest{};
  // The checksum line is the last line; it covers every byte before it.
  if (text.empty() || text.back() != '\n') {
    return Status::Corruption("snapshot manifest is truncated (no final newline)");
  }
  const size_t last_start = text.rfind('\n', text.size() - 2);
  const size_t body_len = last_start == std::string_view::npos ? 0 : last_start + 1;
  std::string_view last = text.substr(body_len, text.size() - body_len - 1);
  if (last.substr(0, kChecksumKey.size()) != kChecksumKey) {
    return Status::Corruption("snapshot manifest is truncated (no checksum line)");
  }
  uint32_t stored = 0;
  if (!ParseHex8(last.substr(kChecksumKey.size()), &stored)) {
    return Status::Corruption("snapshot manifest checksum line is malformed");
  }
  std::string_view body = text.substr(0, body_len);
  const uint32_t actual = Crc32c(body);
  if (actual != stored) {
    return Status::Corruption("snapshot manifest checksum mismatch (stored " + Hex8(stored) +
                              ", computed " + Hex8(actual) + ")");
  }

  size_t line_no = 0;
  size_t pos = 0;
  auto next_line = [&](std::string_view* line) -> bool {
    if (pos >= body.size()) return false;
    size_t nl = body.find('\n', pos);  // body ends with '\n' when non-empty
    *line = body.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    return true;
  };
  auto expect = [&](std::string_view key, std::string_view* value) -> Status {
    std::string_view line;
    if (!next_line(&line)) return Bad("missing \"" + std::string(key) + "\"", line_no + 1);
    std::string_view k = NextToken(&line);
    if (k != key) return Bad("expected \"" + std::string(key) + "\"", line_no);
    *value = line;
    return Status::OK();
  };

  std::string_view v;
  RECDB_RETURN_IF_ERROR(expect(kSnapshotManifestMagic, &v));
  uint64_t version = 0;
  if (!ParseNumber(v, &version)) return Bad("malformed manifest version", line_no);
  if (version != kSnapshotManifestVersion) {
    return Bad("manifest version " + std::to_string(version) + " is not readable (reads " +
                   std::to_string(kSnapshotManifestVersion) + ")",
               line_no);
  }
  RECDB_RETURN_IF_ERROR(expect("recdb_format_version", &v));
  if (!ParseNumber(v, &out->format_version)) return Bad("malformed recdb_format_version", line_no);
  RECDB_RETURN_IF_ERROR(expect("rocksdb_sequence", &v));
  if (!ParseNumber(v, &out->sequence)) return Bad("malformed rocksdb_sequence", line_no);
  RECDB_RETURN_IF_ERROR(expect("created_unix_micros", &v));
  if (!ParseNumber(v, &out->created_unix_micros)) return Bad("malformed created_unix_micros", line_no);
  RECDB_RETURN_IF_ERROR(expect("db_id", &v));
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) return Bad("malformed db_id", line_no);
  }
  out->db_id = std::string(v);
  RECDB_RETURN_IF_ERROR(expect("files", &v));
  uint64_t count = 0;
  if (!ParseNumber(v, &count) || count > kMaxFiles) return Bad("malformed file count", line_no);
  out->files.reserve(std::min<uint64_t>(count, body.size() / 16 + 1));
  std::set<std::string_view> seen;
  for (uint64_t i = 0; i < count; ++i) {
    RECDB_RETURN_IF_ERROR(expect("file", &v));
    ManifestFile f;
    if (!ParseHex8(NextToken(&v), &f.crc32c)) return Bad("malformed file checksum", line_no);
    if (!ParseNumber(NextToken(&v), &f.size)) return Bad("malformed file size", line_no);
    if (!IsSafeRelativePath(v)) return Bad("unsafe file path", line_no);
    if (v == kSnapshotManifestName) return Bad("the manifest lists itself", line_no);
    if (!seen.insert(v).second) return Bad("duplicate file \"" + std::string(v) + "\"", line_no);
    f.path = std::string(v);
    out->files.push_back(std::move(f));
  }
  if (pos != body.size()) return Bad("unexpected line after the file list", line_no + 1);
  std::sort(out->files.begin(), out->files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return Status::OK();
}

}  // namespace recdb::storage
