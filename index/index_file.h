// Index checkpoint files: recdb's own checksummed header around an index's
// payload (for HNSW, hnswlib's graph bytes). The layout is in index/FORMAT.md.
//
// Writing is crash-safe: bytes go to `<path>.tmp`, which is fsynced, renamed
// over `<path>`, and the directory fsynced; a crash leaves the old file or the
// new one, never a mix. Reading verifies everything before anyone parses the
// payload: a truncated, bit-flipped or foreign file is Status::Corruption,
// never a crash. A checkpoint is derived data: on any error the engine
// rebuilds the index from RocksDB.
//
// Thread-safety: an IndexFileWriter is used by one thread; ReadIndexFile is
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "index/vector_index.h"
#include "recdb/env.h"
#include "recdb/status.h"

namespace recdb::index {

inline constexpr char kIndexFileMagic[8] = {'R', 'D', 'B', 'I', 'N', 'D', 'E', 'X'};
inline constexpr uint32_t kIndexFileVersion = 1;
inline constexpr size_t kIndexFileHeaderSize = 96;

enum class IndexKind : uint32_t {
  kHnsw = 1,
};

struct IndexFileHeader {
  IndexKind kind = IndexKind::kHnsw;
  uint32_t dimension = 0;
  Metric metric = Metric::kCosine;
  uint64_t m = 0;                // HNSW M
  uint64_t ef_construction = 0;  // HNSW ef_construction
  uint64_t element_count = 0;    // slots in the payload, including removed ones
  uint64_t live_count = 0;       // ids a search can return
  uint64_t covered_sequence = 0; // source sequence number the index covers
  uint64_t payload_size = 0;     // set by IndexFileWriter::Finish
  uint32_t payload_crc32c = 0;   // set by IndexFileWriter::Finish
};

// Streams a payload to `<path>.tmp`, then Finish() publishes it at `path`.
// Destroying an unfinished writer deletes the temp file.
class IndexFileWriter {
 public:
  // Creates (truncates) `<path>.tmp`. IOError if it cannot. Every write,
  // sync and rename goes through `env` (common/file_io.h). REQUIRES: env is
  // not null and outlives the writer.
  static StatusOr<std::unique_ptr<IndexFileWriter>> Create(Env* env, const std::string& path);
  ~IndexFileWriter();
  IndexFileWriter(const IndexFileWriter&) = delete;
  IndexFileWriter& operator=(const IndexFileWriter&) = delete;

  // Appends payload bytes (buffered; CRC-32C computed as they pass). IOError.
  Status Append(const void* data, size_t n);

  // Writes `header` (payload size and CRC filled in), fsyncs, renames to the
  // final path and fsyncs the directory. IOError on any failure (the old file
  // at `path`, if any, is then untouched).
  Status Finish(IndexFileHeader header);

 private:
  IndexFileWriter(Env* env, std::string path, int fd);
  Status Flush();

  Env* env_;
  std::string path_;
  std::string tmp_path_;
  int fd_ = -1;
  std::string buffer_;
  uint64_t payload_size_ = 0;
  uint32_t payload_crc_ = 0;
  bool finished_ = false;
};

struct IndexFile {
  IndexFileHeader header;
  std::string payload;  // verified against header.payload_crc32c
};

// Reads and verifies the file at `path`, opening and reading it through
// `env` (common/file_io.h). Errors:
//   IOError          the file cannot be opened or read
//   Corruption       too short, bad magic, header or payload checksum
//                    mismatch, size fields inconsistent with the file size
//   NotSupported     a format version this build does not read
//   InvalidArgument  a valid file of another kind, dimension or metric
StatusOr<IndexFile> ReadIndexFile(Env* env, const std::string& path, IndexKind expected_kind,
                                  uint32_t expected_dimension, Metric expected_metric);

}  // namespace recdb::index
