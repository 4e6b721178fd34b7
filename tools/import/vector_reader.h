// Vector files for `recdb vectors import`: precomputed embeddings in JSONL,
// CSV or fvecs, streamed one record at a time in bounded memory.
//
//   JSONL  one object per line: {"id": "item-1", "vector": [0.1, -2, ...]}
//          (a numeric id is taken as its decimal text). Blank lines skipped.
//   CSV    id,v1,v2,...  one row per vector; an optional header row (its
//          second field is not a number) is skipped; the id may be quoted.
//   fvecs  little-endian records: int32 dimension, then that many float32
//          (the TEXMEX/ANN-benchmarks format). Ids are the row numbers
//          "0", "1", ... or the lines of an ids file.
//
// Every row must have the same dimension (or options.expected_dimension),
// 1..kMaxVectorDimension finite values. A malformed row stops the read with
// InvalidArgument naming the file and line ("vec.csv:12: ...") or, for
// fvecs, the row and byte offset. Never crashes on any input.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/embedding.h"
#include "recdb/status.h"

namespace recdb::tools {

enum class VectorFileFormat { kJsonl, kCsv, kFvecs };

// "jsonl" / "csv" / "fvecs". InvalidArgument otherwise.
[[nodiscard]] StatusOr<VectorFileFormat> ParseVectorFileFormat(std::string_view name);
// From the extension: .jsonl/.ndjson/.json, .csv, .fvecs. InvalidArgument otherwise.
[[nodiscard]] StatusOr<VectorFileFormat> VectorFileFormatFromPath(const std::string& path);

struct VectorReadOptions {
  VectorFileFormat format = VectorFileFormat::kJsonl;
  // Required dimension; 0 = whatever the first row has (then all must match).
  int expected_dimension = 0;
  // fvecs only: a text file with one id per line, in row order. Empty: ids
  // are the 0-based row numbers.
  std::string ids_path;
};

using VectorSink = std::function<Status(VectorRecord&& record)>;

// Reads `path` and calls `sink` for each record in file order; a non-OK
// Status from `sink` stops the read and is returned. Errors: IOError (the
// file or ids file cannot be read); InvalidArgument for malformed input.
[[nodiscard]] Status ReadVectorFile(const std::string& path, const VectorReadOptions& options,
                                    const VectorSink& sink);

// As ReadVectorFile over bytes in memory; `name` labels error messages and
// `fvecs_ids` (may be null) replaces options.ids_path.
[[nodiscard]] Status ParseVectorBytes(std::string_view bytes, const std::string& name,
                                      const VectorReadOptions& options,
                                      const std::vector<std::string>* fvecs_ids,
                                      const VectorSink& sink);

}  // namespace recdb::tools
