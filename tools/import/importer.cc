#include "tools/import/importer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "tools/import/csv_reader.h"
#include "tools/import/line_reader.h"
#include "tools/import/movielens.h"
#include "tools/import/record_csv.h"
#include "tools/import/record_json.h"

namespace recdb::tools {

namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Extension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool DirExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status Write(DB* db, const std::vector<Item>& v, RecordEventsResult*) {
  return db->UpsertItems(WriteOptions(), v);
}
Status Write(DB* db, const std::vector<User>& v, RecordEventsResult*) {
  return db->UpsertUsers(WriteOptions(), v);
}
Status Write(DB* db, const std::vector<Event>& v, RecordEventsResult* result) {
  return db->RecordEvents(WriteOptions(), v, result);
}

// The DB names the offending record of a rejected batch by its index (e.g.
// "events[12].type: ..."); recover it to report the right line. Returns
// nullopt if the message names none.
std::optional<size_t> RecordIndexFromMessage(const std::string& msg, size_t batch_size) {
  size_t open = msg.find('[');
  if (open == std::string::npos) return std::nullopt;
  size_t close = msg.find(']', open);
  if (close == std::string::npos || close == open + 1) return std::nullopt;
  size_t index = 0;
  for (size_t i = open + 1; i < close; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(msg[i])) || index > batch_size) {
      return std::nullopt;
    }
    index = index * 10 + static_cast<size_t>(msg[i] - '0');
  }
  if (index >= batch_size) return std::nullopt;
  return index;
}

}  // namespace

StatusOr<FileFormat> DetectFileFormat(const std::string& path) {
  std::string ext = Extension(path);
  if (ext == "csv") return FileFormat::kCsv;
  if (ext == "jsonl" || ext == "json" || ext == "ndjson") return FileFormat::kJsonl;
  return Status::InvalidArgument(path + ": cannot tell the format from the extension '" + ext +
                                 "' (use .csv or .jsonl)");
}

// One input file, yielding records (or per-record problems) with line numbers.
class Importer::RecordSource {
 public:
  explicit RecordSource(std::unique_ptr<LineReader> reader) : reader_(std::move(reader)) {}
  virtual ~RecordSource() = default;

  // OK with *eof at the end. A bad record: OK with *problem set (line()).
  // Errors (stop the import): IOError, a bad header.
  virtual Status Next(AnyRecord* record, Status* problem, bool* eof) = 0;
  // Line of the record last returned, and how many lines it spans.
  virtual int64_t line() const { return reader_->line_number(); }
  virtual int64_t line_count() const { return 1; }
  const std::string& path() const { return reader_->path(); }
  const LineReader& reader() const { return *reader_; }

 protected:
  std::unique_ptr<LineReader> reader_;
};

namespace {

using LineParser = std::function<StatusOr<AnyRecord>(std::string_view line)>;
using RowParser = std::function<StatusOr<AnyRecord>(const std::vector<std::string>& row)>;
using HeaderParser = std::function<StatusOr<RowParser>(const std::vector<std::string>& header)>;

class LineSource : public Importer::RecordSource {
 public:
  LineSource(std::unique_ptr<LineReader> reader, LineParser parse)
      : RecordSource(std::move(reader)), parse_(std::move(parse)) {}

  Status Next(AnyRecord* record, Status* problem, bool* eof) override {
    *eof = false;
    *problem = Status::OK();
    for (;;) {
      switch (reader_->Next(&line_)) {
        case LineReader::Result::kEof:
          *eof = true;
          return Status::OK();
        case LineReader::Result::kIOError:
          return Status::IOError(path() + ": read failed");
        case LineReader::Result::kTooLong:
          *problem = Status::InvalidArgument("line longer than " +
                                             std::to_string(LineReader::kDefaultMaxLineBytes) +
                                             " bytes");
          return Status::OK();
        case LineReader::Result::kLine:
          break;
      }
      if (IsBlank(line_)) continue;
      StatusOr<AnyRecord> r = parse_(line_);
      if (r.ok()) {
        *record = std::move(r).value();
      } else {
        *problem = r.status();
      }
      return Status::OK();
    }
  }

 private:
  LineParser parse_;
  std::string line_;
};

class CsvSource : public Importer::RecordSource {
 public:
  CsvSource(std::unique_ptr<LineReader> reader, HeaderParser header)
      : RecordSource(std::move(reader)), csv_(reader_.get()), header_(std::move(header)) {}

  Status Next(AnyRecord* record, Status* problem, bool* eof) override {
    *problem = Status::OK();
    if (!row_parser_) {
      Status s = csv_.Next(&row_, eof);
      if (s.ok() && *eof) return Status::OK();  // empty file
      if (s.ok()) {
        StatusOr<RowParser> p = header_(row_);
        header_size_ = row_.size();
        if (p.ok()) {
          row_parser_ = std::move(p).value();
        } else {
          s = p.status();
        }
      }
      if (!s.ok()) {
        return Status(s.code(), path() + ":" + std::to_string(csv_.line_number()) + ": " +
                                    s.message());
      }
    }
    Status s = csv_.Next(&row_, eof);
    if (s.IsIOError()) return s;
    if (!s.ok()) {
      *problem = s;
      return Status::OK();
    }
    if (*eof) return Status::OK();
    if (row_.size() != header_size_ && csv_.last_line_number() > csv_.line_number()) {
      // A record spanning lines with the wrong number of fields: a stray
      // quote closed by a later one. Lose only its first line.
      csv_.Rewind();
      *problem = Status::InvalidArgument(
          "expected " + std::to_string(header_size_) + " fields, got " +
          std::to_string(row_.size()) +
          " from a quoted field spanning lines (a stray quote?); only this line is skipped, "
          "the next lines are read as records");
      return Status::OK();
    }
    StatusOr<AnyRecord> r = row_parser_(row_);
    if (r.ok()) {
      *record = std::move(r).value();
    } else {
      *problem = r.status();
    }
    return Status::OK();
  }

  int64_t line() const override { return csv_.line_number(); }
  int64_t line_count() const override {
    return csv_.last_line_number() - csv_.line_number() + 1;
  }

 private:
  CsvReader csv_;
  size_t header_size_ = 0;
  HeaderParser header_;
  RowParser row_parser_;
  std::vector<std::string> row_;
};

HeaderParser RecordHeader(RecordKind kind) {
  return [kind](const std::vector<std::string>& header) -> StatusOr<RowParser> {
    RECDB_ASSIGN_OR_RETURN(CsvRecordMapper mapper, CsvRecordMapper::Create(kind, header));
    return RowParser([mapper](const std::vector<std::string>& row) { return mapper.Map(row); });
  };
}

// ml-latest files have a fixed header; check it so a wrong file is caught.
HeaderParser FixedHeader(std::vector<std::string> expected, RowParser rows) {
  return [expected, rows](const std::vector<std::string>& header) -> StatusOr<RowParser> {
    std::vector<std::string> h = header;
    if (!h.empty() && h[0].rfind("\xEF\xBB\xBF", 0) == 0) h[0] = h[0].substr(3);
    if (h != expected) {
      std::string want;
      for (const auto& e : expected) want += (want.empty() ? "" : ",") + e;
      return Status::InvalidArgument("header: expected '" + want + "'");
    }
    return rows;
  };
}

template <typename T, typename F>
LineParser Wrap(F f) {
  return [f](std::string_view line) -> StatusOr<AnyRecord> {
    StatusOr<T> r = f(line);
    if (!r.ok()) return r.status();
    return AnyRecord(std::move(r).value());
  };
}

}  // namespace

struct Importer::Pending {
  std::optional<RecordKind> kind;
  std::vector<Item> items;
  std::vector<User> users;
  std::vector<Event> events;
  std::vector<int64_t> lines;

  void Clear() {
    kind.reset();
    items.clear();
    users.clear();
    events.clear();
    lines.clear();
  }
};

Importer::Importer(DB* db, ImportOptions options)
    : db_(db), options_(std::move(options)), pending_(new Pending), start_(NowSeconds()) {
  options_.batch_size = std::clamp<size_t>(options_.batch_size, 1, kMaxBatchSize);
}

Importer::~Importer() = default;

Status Importer::LoadEventTypes() {
  if (event_types_) return Status::OK();
  RECDB_ASSIGN_OR_RETURN(std::vector<EventType> types, db_->ListEventTypes());
  event_types_.emplace();
  for (const auto& t : types) event_types_->insert(t.name);
  return Status::OK();
}

Status Importer::BadRecord(const std::string& file, int64_t line, const std::string& message,
                           int64_t line_count, StatusCode code) {
  summary_.skipped += line_count;
  if (summary_.bad_lines.size() < ImportSummary::kMaxBadLinesKept) {
    summary_.bad_lines.push_back({file, line, line_count, code, message});
  }
  std::string where = file + ":" + std::to_string(line);
  if (line_count > 1) where += "-" + std::to_string(line + line_count - 1);
  if (options_.on_bad_record) options_.on_bad_record(where + ": " + message);
  if (options_.on_error == OnError::kStop) {
    pending_->Clear();
    return Status::Aborted(where + ": " + message +
                           " (--on-error=stop: nothing from this line's batch was stored)");
  }
  return Status::OK();
}

template <typename T>
Status Importer::WriteBisect(const std::string& file, std::vector<T>* records,
                             const std::vector<int64_t>& lines, size_t lo, size_t hi) {
  Status s;
  RecordEventsResult events;
  if (lo == 0 && hi == records->size()) {
    s = Write(db_, *records, &events);
  } else {
    std::vector<T> part(records->begin() + lo, records->begin() + hi);
    s = Write(db_, part, &events);
  }
  if (s.ok()) {
    int64_t n = static_cast<int64_t>(hi - lo);
    if constexpr (std::is_same_v<T, Item>) summary_.items += n;
    if constexpr (std::is_same_v<T, User>) summary_.users += n;
    if constexpr (std::is_same_v<T, Event>) {
      // Events of forgotten users are dropped by the DB, not stored.
      summary_.events += events.stored + events.counted_only;
      summary_.dropped_forgotten += events.dropped_forgotten;
    }
    return Status::OK();
  }
  if (!s.IsInvalidArgument()) return s.WithContext(file);
  if (options_.on_error == OnError::kStop || hi - lo == 1) {
    std::optional<size_t> index = RecordIndexFromMessage(s.message(), hi - lo);
    if (hi - lo == 1) index = 0;
    if (index) return BadRecord(file, lines[lo + *index], s.message());
    // The DB did not say which record: name the batch's line range.
    return BadRecord(file, lines[lo],
                     "batch of lines " + std::to_string(lines[lo]) + "-" +
                         std::to_string(lines[hi - 1]) + " rejected: " + s.message());
  }
  size_t mid = lo + (hi - lo) / 2;
  RECDB_RETURN_IF_ERROR(WriteBisect(file, records, lines, lo, mid));
  return WriteBisect(file, records, lines, mid, hi);
}

Status Importer::Flush(const std::string& file) {
  Pending& p = *pending_;
  if (!p.kind || p.lines.empty()) {
    p.Clear();
    return Status::OK();
  }
  Status s;
  switch (*p.kind) {
    case RecordKind::kItem:
      s = WriteBisect(file, &p.items, p.lines, 0, p.items.size());
      break;
    case RecordKind::kUser:
      s = WriteBisect(file, &p.users, p.lines, 0, p.users.size());
      break;
    case RecordKind::kEvent:
      s = WriteBisect(file, &p.events, p.lines, 0, p.events.size());
      break;
    case RecordKind::kEventType:
      break;  // registered one by one, never pending
  }
  p.Clear();
  return s;
}

void Importer::ReportProgress(const RecordSource& source) {
  summary_.seconds = NowSeconds() - start_;
  if (!options_.on_progress) return;
  ImportProgress p;
  p.file = source.path();
  p.bytes_done = source.reader().bytes_read();
  p.bytes_total = source.reader().file_size();
  p.rows = summary_.rows();
  p.seconds = summary_.seconds;
  options_.on_progress(p);
}

Status Importer::Run(RecordSource* source) {
  RECDB_RETURN_IF_ERROR(LoadEventTypes());
  const std::string& file = source->path();
  Pending& p = *pending_;
  p.Clear();
  for (;;) {
    AnyRecord record;
    Status problem;
    bool eof = false;
    RECDB_RETURN_IF_ERROR(source->Next(&record, &problem, &eof));
    if (eof) break;
    const int64_t line = source->line();
    if (problem.ok()) problem = ValidateRecord(record);
    if (problem.ok() && KindOf(record) == RecordKind::kEvent) {
      const std::string& type = std::get<Event>(record).type;
      if (!event_types_->count(type)) {
        problem = Status::InvalidArgument("type: unknown event type '" + type +
                                          "' (register it: recdb event-types DIR --add " + type +
                                          " --weight W)");
      }
    }
    if (!problem.ok()) {
      RECDB_RETURN_IF_ERROR(BadRecord(file, line, problem.message(), source->line_count()));
      continue;
    }
    const RecordKind kind = KindOf(record);
    if (p.kind && *p.kind != kind) {
      // Keep the file's order across kinds (a dump's items before its events).
      RECDB_RETURN_IF_ERROR(Flush(file));
      ReportProgress(*source);
    }
    if (kind == RecordKind::kEventType) {
      const auto& type = std::get<EventType>(record);
      Status s = db_->RegisterEventType(type);
      if (s.ok()) {
        event_types_->insert(type.name);
        ++summary_.event_types;
      } else if (s.IsInvalidArgument() || s.code() == StatusCode::kResourceExhausted) {
        RECDB_RETURN_IF_ERROR(BadRecord(file, line, s.message(), 1, s.code()));
      } else {
        return s.WithContext(file);
      }
      continue;
    }
    p.kind = kind;
    p.lines.push_back(line);
    switch (kind) {
      case RecordKind::kItem:
        p.items.push_back(std::move(std::get<Item>(record)));
        break;
      case RecordKind::kUser:
        p.users.push_back(std::move(std::get<User>(record)));
        break;
      case RecordKind::kEvent:
        p.events.push_back(std::move(std::get<Event>(record)));
        break;
      case RecordKind::kEventType:
        break;
    }
    if (p.lines.size() >= options_.batch_size) {
      RECDB_RETURN_IF_ERROR(Flush(file));
      ReportProgress(*source);
    }
  }
  RECDB_RETURN_IF_ERROR(Flush(file));
  ReportProgress(*source);
  return Status::OK();
}

Status Importer::ImportFile(const std::string& path, std::optional<RecordKind> kind) {
  FileFormat format = FileFormat::kJsonl;
  if (kind) {
    RECDB_ASSIGN_OR_RETURN(format, DetectFileFormat(path));
  } else if (Extension(path) == "csv") {
    return Status::InvalidArgument(path + ": a dump (records of mixed kinds) must be JSONL");
  }
  RECDB_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> reader, LineReader::Open(path));
  std::unique_ptr<RecordSource> source;
  if (format == FileFormat::kCsv) {
    source = std::make_unique<CsvSource>(std::move(reader), RecordHeader(*kind));
  } else {
    source = std::make_unique<LineSource>(
        std::move(reader), [kind](std::string_view line) -> StatusOr<AnyRecord> {
          RECDB_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonObject(line));
          return RecordFromJson(j, kind);
        });
  }
  return Run(source.get());
}

// tags.csv is read whole before movies.csv (a few MB even for ml-latest's
// 1.1M tags): bad rows are reported and skipped like any bad record.
Status Importer::ReadMovieLensTags(const std::string& path, MovieLensTags* tags) {
  RECDB_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> reader, LineReader::Open(path));
  CsvReader csv(reader.get());
  std::vector<std::string> row;
  bool eof = false;
  RECDB_RETURN_IF_ERROR(csv.Next(&row, &eof));
  if (eof) return Status::OK();
  if (!row.empty() && row[0].rfind("\xEF\xBB\xBF", 0) == 0) row[0] = row[0].substr(3);
  if (row != std::vector<std::string>{"userId", "movieId", "tag", "timestamp"}) {
    return Status::InvalidArgument(path + ":1: header: expected 'userId,movieId,tag,timestamp'");
  }
  for (;;) {
    Status s = csv.Next(&row, &eof);
    if (s.IsIOError()) return s;
    if (s.ok() && eof) return Status::OK();
    if (s.ok()) s = AddMovieLensTagRow(row, tags);
    if (s.ok()) {
      ++summary_.tags;
    } else {
      RECDB_RETURN_IF_ERROR(BadRecord(path, csv.line_number(), s.message(),
                                      csv.last_line_number() - csv.line_number() + 1));
    }
  }
}

Status Importer::ImportMovieLens(const std::string& path) {
  std::string dir = path;
  if (FileExists(path)) {
    size_t slash = path.find_last_of('/');
    dir = slash == std::string::npos ? "." : path.substr(0, slash);
  }
  if (!DirExists(dir)) return Status::NotFound(path + ": no such directory");
  auto in = [&dir](const char* name) { return dir + "/" + name; };

  if (FileExists(in("u.data"))) {
    // ml-100k. Genres first (tiny), then items, users, ratings.
    std::vector<std::string> genres;
    if (FileExists(in("u.genre"))) {
      RECDB_ASSIGN_OR_RETURN(auto reader, LineReader::Open(in("u.genre")));
      std::string line;
      for (;;) {
        LineReader::Result r = reader->Next(&line);
        if (r == LineReader::Result::kEof) break;
        Status s = r == LineReader::Result::kLine
                       ? ParseMovieLensGenreLine(line, &genres)
                       : Status::InvalidArgument("unreadable line");
        if (!s.ok()) {
          return Status::InvalidArgument(reader->path() + ":" +
                                         std::to_string(reader->line_number()) + ": " +
                                         s.message());
        }
      }
      for (size_t g = 0; g < genres.size(); ++g) {
        if (genres[g].empty()) {
          return Status::InvalidArgument(in("u.genre") + ": no genre with index " +
                                         std::to_string(g));
        }
      }
    } else {
      genres = DefaultMovieLensGenres();
    }
    if (FileExists(in("u.item"))) {
      RECDB_ASSIGN_OR_RETURN(auto reader, LineReader::Open(in("u.item")));
      LineSource source(std::move(reader), [genres](std::string_view line) {
        StatusOr<Item> r = ParseMovieLensItemLine(line, genres);
        if (!r.ok()) return StatusOr<AnyRecord>(r.status());
        return StatusOr<AnyRecord>(AnyRecord(std::move(r).value()));
      });
      RECDB_RETURN_IF_ERROR(Run(&source));
    }
    if (FileExists(in("u.user"))) {
      RECDB_ASSIGN_OR_RETURN(auto reader, LineReader::Open(in("u.user")));
      LineSource source(std::move(reader), Wrap<User>(ParseMovieLensUserLine));
      RECDB_RETURN_IF_ERROR(Run(&source));
    }
    RECDB_ASSIGN_OR_RETURN(auto reader, LineReader::Open(in("u.data")));
    LineSource source(std::move(reader), Wrap<Event>(ParseMovieLensRatingLine));
    return Run(&source);
  }

  if (FileExists(in("ratings.csv"))) {
    if (FileExists(in("movies.csv"))) {
      // Tags first: they become an attribute of the movies written next.
      auto tags = std::make_shared<MovieLensTags>();
      if (FileExists(in("tags.csv"))) RECDB_RETURN_IF_ERROR(ReadMovieLensTags(in("tags.csv"), tags.get()));
      RECDB_ASSIGN_OR_RETURN(auto reader, LineReader::Open(in("movies.csv")));
      CsvSource source(std::move(reader),
                       FixedHeader({"movieId", "title", "genres"},
                                   [tags](const std::vector<std::string>& row) {
                                     StatusOr<Item> r = ParseMovieLensMovieRow(row);
                                     if (!r.ok()) return StatusOr<AnyRecord>(r.status());
                                     if (auto t = tags->find(r->id); t != tags->end()) {
                                       r->attributes["tags"] = MovieLensTagAttribute(t->second);
                                     }
                                     return StatusOr<AnyRecord>(AnyRecord(std::move(r).value()));
                                   }));
      RECDB_RETURN_IF_ERROR(Run(&source));
    }
    RECDB_ASSIGN_OR_RETURN(auto reader, LineReader::Open(in("ratings.csv")));
    CsvSource source(std::move(reader),
                     FixedHeader({"userId", "movieId", "rating", "timestamp"},
                                 [](const std::vector<std::string>& row) {
                                   StatusOr<Event> r = ParseMovieLensRatingRow(row);
                                   if (!r.ok()) return StatusOr<AnyRecord>(r.status());
                                   return StatusOr<AnyRecord>(AnyRecord(std::move(r).value()));
                                 }));
    return Run(&source);
  }
  return Status::NotFound(path +
                          ": not a MovieLens directory (expected u.data or ratings.csv in it)");
}

}  // namespace recdb::tools
