// Helpers shared by every test binary: temporary directories that clean up,
// and the location of the shared ml-100k data (tests skip when it is absent).
#pragma once

#include <string>

namespace recdb::test {

// A fresh empty directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Directory of ml-100k (u.data, u.item), or "" if not present. Looks at
// $RECDB_ML100K, then ../shared/data/ml-100k relative to the source tree.
std::string Ml100kDir();

// Reads a whole file; "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace recdb::test

// Skips the current test when ml-100k is absent.
#define RECDB_REQUIRE_ML100K(dir_var)                                     \
  const std::string dir_var = ::recdb::test::Ml100kDir();                 \
  if (dir_var.empty()) GTEST_SKIP() << "ml-100k not found; skipping"
