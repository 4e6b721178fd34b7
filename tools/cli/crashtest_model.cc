#include "tools/cli/crashtest_model.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "recdb/splitmix64.h"

namespace recdb::cli::crashtest {
namespace {

uint64_t HashId(const std::string& id) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  return h;
}

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

}  // namespace

std::string ItemId(int i) { return "ci" + std::to_string(i); }
std::string UserId(int u) { return "cu" + std::to_string(u); }

Item MakeItem(const std::string& id, int64_t version) {
  Item item;
  item.id = id;
  item.title = "title of " + id + " v" + std::to_string(version);
  item.description = std::string(static_cast<size_t>(version % 97), 'd');
  static const char* kCategories[] = {"Action", "Comedy", "Drama", "Horror"};
  item.categories = {kCategories[version % 4]};
  if (version % 3 == 0) item.categories.emplace_back(kCategories[(version + 1) % 4]);
  item.creator = "creator" + std::to_string(version % 7);
  item.created_at = kBaseTimestamp - version % 100000;
  item.available = version % 5 != 0;
  item.attributes["version"] = static_cast<double>(version);
  item.attributes["tag"] = std::string("t") + std::to_string(version % 11);
  item.attributes["new"] = version % 2 == 0;
  return item;
}

User MakeUser(const std::string& id, int64_t version) {
  User user;
  user.id = id;
  user.attributes["version"] = static_cast<double>(version);
  user.attributes["segment"] = std::vector<std::string>{"s" + std::to_string(version % 5)};
  // store_events stays true: the verifier expects every acknowledged event in
  // the history. The other two consents vary.
  user.consent.personalization = version % 3 != 0;
  user.consent.training = version % 4 != 0;
  return user;
}

std::vector<float> MakeVector(const std::string& id, int64_t version) {
  std::vector<float> v(kVectorDim);
  uint64_t s = HashId(id) ^ SplitMix64(static_cast<uint64_t>(version));
  for (int d = 0; d < kVectorDim; ++d) {
    s = SplitMix64(s);
    v[d] = static_cast<float>(static_cast<double>(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
  }
  v[0] += 0.01f;  // never all-zero
  return v;
}

StatusOr<std::unique_ptr<ExpectedLog>> ExpectedLog::Open(const std::string& path, bool sync) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("opening " + path);
  return std::unique_ptr<ExpectedLog>(new ExpectedLog(fd, sync));
}

ExpectedLog::~ExpectedLog() { ::close(fd_); }

Status ExpectedLog::Append(const std::string& line) {
  // One write(2) per line: the kernel holds it once write returns, so a
  // SIGKILL after that cannot lose it; fdatasync also survives power loss.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("appending to the expected-state log");
    }
    done += static_cast<size_t>(n);
  }
  if (sync_ && ::fdatasync(fd_) != 0) return Errno("fdatasync of the expected-state log");
  return Status::OK();
}

Status ExpectedLog::Intent(const std::string& op, const std::string& kind_and_fields) {
  return Append("I " + op + " " + kind_and_fields + "\n");
}
Status ExpectedLog::Ack(const std::string& op) { return Append("A " + op + "\n"); }
Status ExpectedLog::Fail(const std::string& op, const std::string& message) {
  std::string m = message;
  for (char& c : m) {
    if (c == '\n') c = ' ';
  }
  return Append("F " + op + " " + m + "\n");
}

StatusOr<std::vector<LoggedOp>> ReadExpectedLog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<LoggedOp> ops;
  if (!in) return ops;  // no log yet: nothing was acknowledged
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IOError("reading " + path);
  std::unordered_map<std::string, size_t> index;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < content.size()) {
    const size_t nl = content.find('\n', pos);
    if (nl == std::string::npos) break;  // torn last line: ignored
    std::string line = content.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    std::istringstream ls(line);
    std::string tag, op;
    ls >> tag >> op;
    auto bad = [&]() {
      return Status::Corruption(path + ":" + std::to_string(line_no) + ": malformed line");
    };
    if (op.empty()) return bad();
    if (tag == "I") {
      LoggedOp o;
      o.op = op;
      ls >> o.kind;
      if (o.kind.empty()) return bad();
      for (std::string f; ls >> f;) o.fields.push_back(f);
      index[op] = ops.size();
      ops.push_back(std::move(o));
    } else if (tag == "A" || tag == "F") {
      auto it = index.find(op);
      if (it == index.end()) return bad();
      if (tag == "A") {
        ops[it->second].acknowledged = true;
      } else {
        ops[it->second].failed = true;
        std::getline(ls, ops[it->second].failure);
      }
    } else {
      return bad();
    }
  }
  return ops;
}

}  // namespace recdb::cli::crashtest
