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

CsvReader::CsvReader(LineReader* lines, char delimiter, size_t max_record_bytes,
                     size_t max_record_lines)
    : lines_(lines),
      delimiter_(delimiter),
      max_record_bytes_(max_record_bytes),
      max_record_lines_(max_record_lines < 1 ? 1 : max_record_lines) {}

LineReader::Result CsvReader::NextLine(std::string* line, int64_t* number) {
  if (!replay_.empty()) {
    *number = replay_.front().first;
    *line = std::move(replay_.front().second);
    replay_.pop_front();
    return LineReader::Result::kLine;
  }
  LineReader::Result r = lines_->Next(line);
  *number = lines_->line_number();
  return r;
}

void CsvReader::Rewind() {
  for (auto it = tail_.rbegin(); it != tail_.rend(); ++it) replay_.push_front(std::move(*it));
  tail_.clear();
}

Status CsvReader::Next(std::vector<std::string>* fields, bool* eof) {
  *eof = false;
  fields->clear();
  record_.clear();
  tail_.clear();
  bool first = true;
  // A quote still open where the record must end: drop the first line only.
  auto unclosed = [&](const std::string& why) {
    Rewind();
    fields->clear();
    return Status::InvalidArgument("quoted field opened on this line is not closed " + why +
                                   "; only this line is skipped, the next lines are read as "
                                   "records");
  };
  for (;;) {
    int64_t number = 0;
    LineReader::Result r = NextLine(&line_, &number);
    if (r == LineReader::Result::kIOError) {
      return Status::IOError(lines_->path() + ": read failed");
    }
    if (r == LineReader::Result::kEof) {
      if (first) {
        *eof = true;
        return Status::OK();
      }
      return unclosed("before the end of the file");
    }
    if (first) record_line_ = number;
    if (r == LineReader::Result::kTooLong) {
      if (!first) return unclosed("before a line longer than " +
                                  std::to_string(max_record_bytes_) + " bytes");
      return Status::InvalidArgument("line longer than " + std::to_string(max_record_bytes_) +
                                     " bytes");
    }
    if (first && line_.empty()) continue;  // blank line
    if (!first) {
      if (tail_.size() + 1 >= max_record_lines_) {
        replay_.push_front({number, line_});
        return unclosed("within " + std::to_string(max_record_lines_) + " lines");
      }
      tail_.emplace_back(number, line_);
      record_.push_back('\n');
    }
    first = false;
    record_ += line_;
    if (record_.size() > max_record_bytes_) {
      if (!tail_.empty()) return unclosed("within " + std::to_string(max_record_bytes_) +
                                          " bytes");
      return Status::InvalidArgument("record longer than " + std::to_string(max_record_bytes_) +
                                     " bytes");
    }
    bool complete = false;
    Status s = ParseCsvRecord(record_, delimiter_, fields, &complete);
    if (!s.ok()) {
      // Text after a closing quote in a multi-line record: the quotes are
      // confused, so keep the following lines.
      if (!tail_.empty()) Rewind();
      return s;
    }
    if (complete) return Status::OK();
  }
}

}  // namespace recdb::tools
