// CSV parsing (RFC 4180 with the usual leniencies) over a LineReader.
//
// Fields are separated by `delimiter`; a field may be quoted with '"', inside
// which the delimiter, newlines and doubled quotes ("") are literal. Records end
// at LF or CRLF. A quote inside an unquoted field is kept literally (as
// Python's csv module does); text after a closing quote, or a quote still open
// at end of file, is an error. Entirely blank lines are skipped.
//
// A quoted field may span at most `max_record_lines` lines (and the record
// `max_record_bytes`). A quote left open past either limit or to the end of
// the file is an error reported on the line where it opened, and only that
// line is dropped: the lines after it are read again as records of their own,
// so one stray quote never swallows the rest of the file.
//
// Never crashes on any input: every problem is an InvalidArgument Status, and
// the reader stays usable for the next record.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recdb/status.h"
#include "tools/import/line_reader.h"

namespace recdb::tools {

// Parses `text` as one record into *fields. If `text` ends inside a quoted
// field, returns OK with *complete == false (append '\n' and the next line,
// then parse again). Errors: InvalidArgument for text after a closing quote.
[[nodiscard]] Status ParseCsvRecord(std::string_view text, char delimiter,
                                    std::vector<std::string>* fields, bool* complete);

class CsvReader {
 public:
  static constexpr size_t kDefaultMaxRecordLines = 100;

  // `lines` must outlive the reader.
  explicit CsvReader(LineReader* lines, char delimiter = ',',
                     size_t max_record_bytes = LineReader::kDefaultMaxLineBytes,
                     size_t max_record_lines = kDefaultMaxRecordLines);

  // Reads the next record into *fields; *eof = true (and OK) past the end.
  // Errors: InvalidArgument for a malformed record (the reader has moved past
  // its first line and may be called again); IOError if the file cannot be
  // read (stop).
  [[nodiscard]] Status Next(std::vector<std::string>* fields, bool* eof);

  // Drops the record last returned but its first line: the lines after it
  // are read again as records. For a caller that finds a multi-line record
  // malformed (e.g. the wrong number of fields: a stray quote paired with a
  // later one), so only the line where it starts is lost.
  void Rewind();

  // 1-based lines on which the record last returned (or rejected) starts
  // and ends.
  int64_t line_number() const { return record_line_; }
  int64_t last_line_number() const { return tail_.empty() ? record_line_ : tail_.back().first; }

 private:
  // The next physical line: replayed ones first.
  LineReader::Result NextLine(std::string* line, int64_t* number);

  LineReader* lines_;
  char delimiter_;
  size_t max_record_bytes_;
  size_t max_record_lines_;
  int64_t record_line_ = 0;
  std::string line_;
  std::string record_;
  std::vector<std::pair<int64_t, std::string>> tail_;     // lines 2.. of the record
  std::deque<std::pair<int64_t, std::string>> replay_;  // lines to read again
};

}  // namespace recdb::tools
