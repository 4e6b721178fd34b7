#include "tools/import/csv_reader.h"

namespace recdb::tools {

Status ParseCsvRecord(std::string_view text, char delimiter, std::vector<std::string>* fields,
                      bool* complete) {
  fields->clear();
  *complete = true;
  std::string field;
  size_t i = 0;
  const size_t n = text.size();
  for (;;) {
    field.clear();
    if (i < n && text[i] == '"') {
      // Quoted field: runs to the matching quote; "" is a literal quote.
      ++i;
      for (;;) {
        if (i >= n) {
          *complete = false;
          return Status::OK();
        }
        char c = text[i];
        if (c == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(c);
        ++i;
      }
      if (i < n && text[i] != delimiter) {
        return Status::InvalidArgument("field " + std::to_string(fields->size() + 1) +
                                       ": unexpected text after closing quote");
      }
    } else {
      while (i < n && text[i] != delimiter) field.push_back(text[i++]);
    }
    fields->push_back(field);
    if (i >= n) return Status::OK();
    ++i;  // the delimiter; a trailing delimiter yields a final empty field
    if (i == n) {
      fields->emplace_back();
      return Status::OK();
    }
  }
}

CsvReader::CsvReader(LineReader* lines, char delimiter, size_t max_record_bytes)
    : lines_(lines), delimiter_(delimiter), max_record_bytes_(max_record_bytes) {}

Status CsvReader::Next(std::vector<std::string>* fields, bool* eof) {
  *eof = false;
  fields->clear();
  record_.clear();
  bool first = true;
  for (;;) {
    LineReader::Result r = lines_->Next(&line_);
    if (r == LineReader::Result::kIOError) {
      return Status::IOError(lines_->path() + ": read failed");
    }
    if (r == LineReader::Result::kEof) {
      if (first) {
        *eof = true;
        return Status::OK();
      }
      return Status::InvalidArgument("quoted field not closed before end of file");
    }
    if (first) record_line_ = lines_->line_number();
    if (r == LineReader::Result::kTooLong) {
      // Skip the rest of an open quoted record? We cannot know where it ends
      // without holding it, so report the line and resynchronise on the next.
      return Status::InvalidArgument("line longer than " + std::to_string(max_record_bytes_) +
                                     " bytes");
    }
    if (first && line_.empty()) continue;  // blank line
    if (!first) record_.push_back('\n');
    first = false;
    record_ += line_;
    if (record_.size() > max_record_bytes_) {
      return Status::InvalidArgument("record longer than " + std::to_string(max_record_bytes_) +
                                     " bytes (unclosed quote?)");
    }
    bool complete = false;
    RECDB_RETURN_IF_ERROR(ParseCsvRecord(record_, delimiter_, fields, &complete));
    if (complete) return Status::OK();
  }
}

}  // namespace recdb::tools
