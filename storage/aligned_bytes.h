// AlignedBytes: an aligned view of bytes read from RocksDB, for FlatBuffers.
//
// FlatBuffers reads scalars through typed pointers (uint32_t offsets, double
// fields), so a buffer must start aligned to its largest scalar (8 bytes) or
// every read is a misaligned load (undefined behaviour; UBSan reports it, and
// strict-alignment CPUs fault). RocksDB hands out values (PinnableSlice,
// iterator value(), short std::strings) at arbitrary addresses. Every decoder
// of a FlatBuffers value read from storage goes through AlignedBytes first:
// an already aligned buffer is used in place (no copy, the common case for
// heap strings); a misaligned one is copied into aligned scratch, on the
// stack for records up to 256 bytes.
//
// Thread-safety: one object per decode; the view (data()) is valid while the
// AlignedBytes and the source bytes live.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace recdb::storage {

class AlignedBytes {
 public:
  static constexpr size_t kAlignment = alignof(uint64_t);

  explicit AlignedBytes(std::string_view bytes) : size_(bytes.size()) {
    if (reinterpret_cast<uintptr_t>(bytes.data()) % kAlignment == 0) {
      data_ = reinterpret_cast<const uint8_t*>(bytes.data());
      return;
    }
    uint64_t* dst = small_;
    if (bytes.size() > sizeof(small_)) {
      large_.resize((bytes.size() + 7) / 8);
      dst = large_.data();
    }
    std::memcpy(dst, bytes.data(), bytes.size());
    data_ = reinterpret_cast<const uint8_t*>(dst);
    copied_ = true;
  }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // True if the source was misaligned and data() points at a copy.
  bool copied() const { return copied_; }

 private:
  uint64_t small_[32];
  std::vector<uint64_t> large_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool copied_ = false;
};

// Returns the verified root table of type T of `bytes`, or null if the bytes
// do not verify (bounds of every offset, vector and string; table depth and
// count limits). The pointer is valid while `bytes` lives.
template <typename T>
const T* VerifiedRoot(const AlignedBytes& bytes) {
  if (bytes.size() < sizeof(flatbuffers::uoffset_t)) return nullptr;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(bytes.data());
}

}  // namespace recdb::storage
