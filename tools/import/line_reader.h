// LineReader: reads a text file one line at a time in bounded memory.
//
// Importers stream their input through it so that a file of any size is read
// with a fixed buffer plus one line. A line longer than `max_line_bytes` is
// not held: the reader skips to its end and reports kTooLong, so a file with
// no newline at all cannot exhaust memory.
//
// Thread-safety: none; one reader per thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "recdb/status.h"

namespace recdb::tools {

class LineReader {
 public:
  static constexpr size_t kDefaultMaxLineBytes = 4u << 20;

  enum class Result { kLine, kEof, kTooLong, kIOError };

  // Opens `path` for reading. Errors: IOError naming the path.
  [[nodiscard]] static StatusOr<std::unique_ptr<LineReader>> Open(
      const std::string& path, size_t max_line_bytes = kDefaultMaxLineBytes);

  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads the next line into *line without its "\n" or "\r\n". kTooLong leaves
  // *line empty but still counts the line. kIOError: the read failed.
  Result Next(std::string* line);

  // 1-based number of the line last returned (0 before the first).
  int64_t line_number() const { return line_number_; }
  // Bytes consumed so far and the file's size at open (0 if unknown), for progress.
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t file_size() const { return file_size_; }
  const std::string& path() const { return path_; }

 private:
  LineReader(std::FILE* file, std::string path, size_t max_line_bytes, uint64_t file_size);
  bool Fill();

  std::FILE* file_;
  std::string path_;
  size_t max_line_bytes_;
  uint64_t file_size_;
  std::unique_ptr<char[]> buf_;
  size_t buf_pos_ = 0;
  size_t buf_len_ = 0;
  bool eof_ = false;
  bool error_ = false;
  int64_t line_number_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace recdb::tools
