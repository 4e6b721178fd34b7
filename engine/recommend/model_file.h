// The trained-model file, DIR/derived/fused.model: the fused model that
// Train fitted last, stored as derived data (docs/DESIGN.md decision 1) so
// that Open serves it at once instead of refitting.
//
// Layout (little-endian), a 64-byte header then the payload:
//   0  magic "RDBMODEL"           8  format version (u32, 1)
//   12 header size (u32, 64)      16 covered sequence (u64): the RocksDB
//   24 model version (u64)           sequence number the training read at
//   32 events used (u64)          40 payload size (u64)
//   48 payload CRC-32C (u32)      52 reserved (8 zero bytes)
//   60 header CRC-32C (u32) of bytes [0, 60)
// The payload is the model_io.h encoding of the model (RecommendService).
//
// Written with WriteFileDurably (temp file, fsync, rename, directory fsync).
// Read: everything is verified before the payload is parsed; a truncated,
// bit-flipped or foreign file is Corruption, a newer format NotSupported,
// and the engine then retrains rather than trusting it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "recdb/status.h"

namespace recdb {

inline constexpr char kModelFileName[] = "fused.model";
inline constexpr uint32_t kModelFileVersion = 1;
inline constexpr size_t kModelFileHeaderSize = 64;

struct ModelFileHeader {
  uint64_t covered_sequence = 0;
  uint64_t model_version = 0;
  uint64_t events = 0;
};

// IOError on any failure; the previous file at `path` is then untouched.
Status WriteModelFile(const std::string& path, const ModelFileHeader& header,
                      std::string_view payload);

struct ModelFile {
  ModelFileHeader header;
  std::string bytes;  // the whole file
  std::string_view payload() const {
    return std::string_view(bytes).substr(kModelFileHeaderSize);
  }
};

// Errors: NotFound (no file), IOError, Corruption, NotSupported.
StatusOr<ModelFile> ReadModelFile(const std::string& path);

}  // namespace recdb
