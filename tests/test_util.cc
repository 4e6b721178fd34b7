#include "test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace recdb::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/recdb_test_XXXXXX";
  char* made = mkdtemp(tmpl.data());
  path_ = made ? made : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string Ml100kDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("RECDB_ML100K"); env && *env) {
    return fs::exists(fs::path(env) / "u.data") ? std::string(env) : "";
  }
  fs::path p = fs::path(RECDB_SOURCE_DIR) / ".." / "shared" / "data" / "ml-100k";
  return fs::exists(p / "u.data") ? fs::canonical(p).string() : "";
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace recdb::test
