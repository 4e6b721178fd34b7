// CRC-32C (Castagnoli), the checksum of every derived file recdb writes
// (index checkpoints, model files, snapshot manifests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace recdb {

// Returns the CRC-32C of data[0, n) continuing from `crc` (0 to start).
// The SSE4.2 crc32 instruction where the CPU has it, else slicing-by-8
// tables.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
// The tables alone (the reference the hardware path is tested against).
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n);

// The CRC-32C of A followed by B from crc_a = Crc32c(A), crc_b = Crc32c(B)
// and B's length (zlib's crc32_combine for the Castagnoli polynomial):
// pieces checksummed on different threads give the checksum of the whole.
// O(log len_b) multiplications in GF(2)[x] mod the polynomial.
uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }
inline uint32_t Crc32c(std::string_view s) { return Crc32c(s.data(), s.size()); }

}  // namespace recdb
