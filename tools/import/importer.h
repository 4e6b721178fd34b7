// Importer: streams records from files into a DB in batches.
//
// Files are read line by line (bounded memory whatever their size); records
// are validated as they are read, gathered into batches of
// ImportOptions::batch_size and written with one UpsertItems / UpsertUsers /
// RecordEvents call per batch, each atomic in the DB.
//
// Bad records. A line that does not parse, breaks a limit, names an
// unregistered event type, or is rejected by the DB is reported as
// "FILE:LINE: message" through ImportOptions::on_bad_record. Then:
//   OnError::kSkip  the line is dropped and the import goes on. A batch the DB
//                   rejects is split in halves and retried until the rejected
//                   records are isolated, so every good record is stored.
//   OnError::kStop  the import stops and returns Aborted. Nothing from the batch
//                   that holds the bad line is stored (the batch is dropped
//                   before it is written, or the DB rejects it atomically);
//                   batches committed before it remain stored.
// A file that cannot be read, a bad CSV header and DB errors other than
// InvalidArgument stop the import under either policy.
//
// Thread-safety: one Importer per thread; the DB may be shared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "recdb/db.h"
#include "tools/import/movielens.h"
#include "tools/import/record.h"

namespace recdb::tools {

enum class OnError { kSkip, kStop };

// Detected from the file name: ".csv" is CSV, ".jsonl"/".json"/".ndjson" is
// JSONL. Errors: InvalidArgument for any other extension.
enum class FileFormat { kJsonl, kCsv };
[[nodiscard]] StatusOr<FileFormat> DetectFileFormat(const std::string& path);

struct ImportProgress {
  std::string file;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;  // 0 if unknown (a pipe)
  int64_t rows = 0;          // records stored so far, all files
  double seconds = 0;        // since the Importer was created
};

struct ImportOptions {
  // Records per write call. Default 5000; at most kMaxBatchSize.
  size_t batch_size = 5000;
  OnError on_error = OnError::kSkip;
  // Receives "FILE:LINE: message" for every bad record. May be empty.
  std::function<void(const std::string&)> on_bad_record;
  // Called after every batch written. May be empty.
  std::function<void(const ImportProgress&)> on_progress;
};

// One bad record, as reported through ImportOptions::on_bad_record.
struct BadLine {
  std::string file;
  int64_t line = 0;        // where the record starts
  int64_t line_count = 1;  // lines it spans
  StatusCode code = StatusCode::kInvalidArgument;
  std::string message;     // names the field, e.g. "ts: expected integer, got string"
};

struct ImportSummary {
  static constexpr size_t kMaxBadLinesKept = 100;
  int64_t items = 0;
  int64_t users = 0;
  int64_t events = 0;
  int64_t event_types = 0;
  // Lines of bad records dropped (kSkip) or met (kStop): a bad record that
  // spans lines (a quoted CSV field) counts each of its lines.
  int64_t skipped = 0;
  // Valid events the DB dropped because their user is in the forget ledger
  // (not counted in `events`).
  int64_t dropped_forgotten = 0;
  // MovieLens tags.csv rows folded into the item attribute "tags" (not
  // counted in `rows()`: they are attributes of items, not records).
  int64_t tags = 0;
  // The first kMaxBadLinesKept bad records (`skipped` counts them all).
  std::vector<BadLine> bad_lines;
  double seconds = 0;
  int64_t rows() const { return items + users + events + event_types; }
};

class Importer {
 public:
  // `db` must outlive the importer.
  Importer(DB* db, ImportOptions options);
  ~Importer();

  // Imports one file of `kind` records (format from the extension). Without a
  // kind the file is a mixed JSONL dump whose lines carry "kind".
  // Errors: Aborted (kStop met a bad record); IOError; InvalidArgument (bad
  // header or extension); any non-InvalidArgument DB error.
  [[nodiscard]] Status ImportFile(const std::string& path, std::optional<RecordKind> kind);

  // Imports a MovieLens directory: ml-100k (u.item, u.genre, u.user, u.data)
  // or ml-latest (movies.csv, ratings.csv, tags.csv as the item attribute
  // "tags"). `path` may also name u.data or ratings.csv. Same errors as ImportFile; NotFound if neither layout is there.
  [[nodiscard]] Status ImportMovieLens(const std::string& path);

  // Totals so far (seconds updated by every call).
  const ImportSummary& summary() const { return summary_; }

  class RecordSource;  // one input file (importer.cc)

 private:
  struct Pending;

  Status Run(RecordSource* source);
  Status LoadEventTypes();
  Status ReadMovieLensTags(const std::string& path, MovieLensTags* tags);
  // Reports a bad record of `line_count` lines starting at `line`; every
  // line counts as skipped.
  Status BadRecord(const std::string& file, int64_t line, const std::string& message,
                   int64_t line_count = 1, StatusCode code = StatusCode::kInvalidArgument);
  Status Flush(const std::string& file);
  template <typename T>
  Status WriteBisect(const std::string& file, std::vector<T>* records,
                     const std::vector<int64_t>& lines, size_t lo, size_t hi);
  void ReportProgress(const RecordSource& source);

  DB* db_;
  ImportOptions options_;
  ImportSummary summary_;
  std::unique_ptr<Pending> pending_;
  std::optional<std::set<std::string>> event_types_;  // loaded on first need
  double start_ = 0;
};

}  // namespace recdb::tools
