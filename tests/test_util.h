// Helpers shared by every test binary: temporary directories that clean up,
// and the location of the shared ml-100k data (tests skip when it is absent).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

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

// False in sanitizer builds (ASan, TSan: they slow memory accesses 2-20x)
// and in debug builds: a test's wall-clock bound (a latency promise) is
// checked only where the time measures recdb, not the instrumentation. The
// timed work itself, and every functional check, runs everywhere.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kTimingBoundsApply = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kTimingBoundsApply = false;
#elif defined(NDEBUG)
inline constexpr bool kTimingBoundsApply = true;
#else
inline constexpr bool kTimingBoundsApply = false;
#endif
#elif defined(NDEBUG)
inline constexpr bool kTimingBoundsApply = true;
#else
inline constexpr bool kTimingBoundsApply = false;
#endif

// `bytes` placed `offset` bytes past an 8-aligned address, for decoding at
// every misalignment; the view stays valid while `arena` lives.
inline std::string_view PlaceAt(const std::string& bytes, size_t offset,
                                std::vector<uint64_t>* arena) {
  arena->assign((bytes.size() + offset) / 8 + 2, 0);
  char* base = reinterpret_cast<char*>(arena->data()) + offset;
  std::memcpy(base, bytes.data(), bytes.size());
  return std::string_view(base, bytes.size());
}

}  // namespace recdb::test

// Skips the current test when ml-100k is absent.
#define RECDB_REQUIRE_ML100K(dir_var)                                     \
  const std::string dir_var = ::recdb::test::Ml100kDir();                 \
  if (dir_var.empty()) GTEST_SKIP() << "ml-100k not found; skipping"
