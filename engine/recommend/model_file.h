// The trained-model file, DIR/derived/fused.model: the fused model that
// Train fitted last, stored as derived data (docs/DESIGN.md decision 1) so
// that Open serves it at once instead of refitting.
//
// Layout (little-endian), a 64-byte header then the payload:
//   0  magic "RDBMODEL"           8  format version (u32, 3; 2 is read)
//   12 header size (u32, 64)      16 covered sequence (u64): the RocksDB
//   24 model version (u64)           sequence number the training read at
//   32 events used (u64)          40 payload size (u64)
//   48 payload CRC-32C (u32)      52 trained at (i64, seconds since
//   60 header CRC-32C (u32) of       epoch; 0 in files written before it
//      bytes [0, 60)                 was stored: those bytes were zero)
// The payload is the model_io.h encoding of the model (RecommendService).
//
// Read: the file is mapped (mmap, MAP_POPULATE) rather than copied, and
// the model's large arrays are views of the mapping (model_io.h
// StoredArray), which the loaded model keeps alive: loading touches no fresh
// memory for them. The file is replaced by rename, never rewritten in
// place, so a mapping stays valid; an unlinked file's blocks are freed when
// the last model using it is released.
//
// Written with WriteFileDurably (temp file, fsync, rename, directory fsync).
// Read: everything is verified before the payload is parsed; a truncated,
// bit-flipped or foreign file is Corruption, a newer format NotSupported,
// and the engine then retrains rather than trusting it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "recdb/env.h"
#include "recdb/status.h"

namespace recdb {

inline constexpr char kModelFileName[] = "fused.model";
// Beside it, DIR/derived/fused.retrieval: the two-stage state that is slow
// to build (the iALS HNSW index and score moments; models::Fused::
// SaveRetrieval), in the same container with the header of the model file
// it belongs to (covered sequence, model version, events, trained at). It
// is used only with a model file of the same header and only for the
// fit it was built from (each component checks; iALS a CRC-32C of its item
// factors); damaged, stale or foreign, it is ignored and the state is built
// in the background as without it.
inline constexpr char kRetrievalFileName[] = "fused.retrieval";
// 2: blocks and stored arrays 8-aligned, shared objects written once.
// 3: the payload ends with each component's fit seconds (and the blend's);
// version 2 files are still read (without them).
inline constexpr uint32_t kModelFileVersion = 3;
inline constexpr uint32_t kOldestModelFileVersion = 2;
inline constexpr size_t kModelFileHeaderSize = 64;

struct ModelFileHeader {
  uint64_t covered_sequence = 0;
  uint64_t model_version = 0;
  uint64_t events = 0;
  int64_t trained_at = 0;  // seconds since epoch; 0 = not recorded
  uint32_t format_version = kModelFileVersion;  // as read (WriteModelFile writes the current)
};

// IOError on any failure; the previous file at `path` is then untouched.
// Written through `env` (common/durable_file.h), the database's Env.
Status WriteModelFile(Env* env, const std::string& path, const ModelFileHeader& header,
                      std::string_view payload);

struct ModelFile {
  ModelFileHeader header;
  std::string_view bytes;              // the whole file, owned by keep_alive
  std::shared_ptr<const void> keep_alive;  // the mapping (or a copy)
  // Starts 8-aligned (the mapping is page-aligned).
  std::string_view payload() const { return bytes.substr(kModelFileHeaderSize); }
};

// The file is opened through `env` and mapped (its pages are not reads the
// Env sees). Errors: NotFound (no file), IOError, Corruption, NotSupported;
// Aborted when `cancel` was set before the payload was verified. A payload
// past kParallelVerifyBytes is checksummed in chunks on two threads
// (Crc32cCombine): the first read of a mapped page costs more than its CRC
// (at 10M events the 850 MB payload's verification is Open's longest step).
StatusOr<ModelFile> ReadModelFile(Env* env, const std::string& path,
                                  const std::atomic<bool>* cancel = nullptr);
inline constexpr size_t kParallelVerifyBytes = size_t{16} << 20;

}  // namespace recdb
