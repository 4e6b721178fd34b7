// CSV parsing (RFC 4180 with the usual leniencies) over a LineReader.
//
// Fields are separated by `delimiter`; a field may be quoted with '"', inside
// which the delimiter, newlines and doubled quotes ("") are literal. Records end
// at LF or CRLF. A quote inside an unquoted field is kept literally (as
// Python's csv module does); text after a closing quote, or a quote still open
// at end of file, is an error. Entirely blank lines are skipped.
//
// Never crashes on any input: every problem is an InvalidArgument Status, and
// the reader stays usable for the next record.
#pragma once

#include <string>
#include <string_view>
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
  // `lines` must outlive the reader. A record may span at most
  // `max_record_bytes` (its quoted newlines included).
  explicit CsvReader(LineReader* lines, char delimiter = ',',
                     size_t max_record_bytes = LineReader::kDefaultMaxLineBytes);

  // Reads the next record into *fields; *eof = true (and OK) past the end.
  // Errors: InvalidArgument for a malformed record (the reader has moved past
  // it and may be called again); IOError if the file cannot be read (stop).
  [[nodiscard]] Status Next(std::vector<std::string>* fields, bool* eof);

  // 1-based line on which the record last returned (or rejected) starts.
  int64_t line_number() const { return record_line_; }

 private:
  LineReader* lines_;
  char delimiter_;
  size_t max_record_bytes_;
  int64_t record_line_ = 0;
  std::string line_;
  std::string record_;
};

}  // namespace recdb::tools
