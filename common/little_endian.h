// Fixed-width values at a byte offset of a little-endian file header (the
// model file, engine/recommend/model_file.cc; the index file,
// index/FORMAT.md). memcpy: the offset need not be aligned for T.
#pragma once

#include <bit>
#include <cstddef>
#include <cstring>

namespace recdb {

static_assert(std::endian::native == std::endian::little,
              "recdb's file headers are little-endian; a big-endian build needs byte swaps");

// Writes `v` at buf[offset, offset + sizeof(T)).
template <typename T>
void StoreLittleEndian(char* buf, size_t offset, T v) {
  std::memcpy(buf + offset, &v, sizeof(T));
}

// The T stored at buf[offset, offset + sizeof(T)).
template <typename T>
T LoadLittleEndian(const char* buf, size_t offset) {
  T v;
  std::memcpy(&v, buf + offset, sizeof(T));
  return v;
}

}  // namespace recdb
