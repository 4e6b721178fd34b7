#include "tools/import/line_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace recdb::tools {

namespace {
constexpr size_t kBufferBytes = 1u << 16;
}  // namespace

StatusOr<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path,
                                                       size_t max_line_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::IOError(path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return Status::IOError(path + ": is a directory");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IOError(path + ": " + std::strerror(errno));
  uint64_t size = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  return std::unique_ptr<LineReader>(new LineReader(f, path, max_line_bytes, size));
}

LineReader::LineReader(std::FILE* file, std::string path, size_t max_line_bytes,
                       uint64_t file_size)
    : file_(file),
      path_(std::move(path)),
      max_line_bytes_(max_line_bytes),
      file_size_(file_size),
      buf_(new char[kBufferBytes]) {}

LineReader::~LineReader() { std::fclose(file_); }

bool LineReader::Fill() {
  if (eof_ || error_) return false;
  buf_len_ = std::fread(buf_.get(), 1, kBufferBytes, file_);
  buf_pos_ = 0;
  if (buf_len_ == 0) {
    if (std::ferror(file_)) {
      error_ = true;
    } else {
      eof_ = true;
    }
    return false;
  }
  return true;
}

LineReader::Result LineReader::Next(std::string* line) {
  line->clear();
  bool any = false;  // saw at least one byte of this line (or its newline)
  bool too_long = false;
  for (;;) {
    if (buf_pos_ == buf_len_ && !Fill()) {
      if (error_) return Result::kIOError;
      if (!any) return Result::kEof;
      break;  // last line without a trailing newline
    }
    any = true;
    const char* start = buf_.get() + buf_pos_;
    size_t avail = buf_len_ - buf_pos_;
    const void* nl = std::memchr(start, '\n', avail);
    size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : avail;
    if (!too_long) {
      if (line->size() + take > max_line_bytes_) {
        too_long = true;
        line->clear();
        line->shrink_to_fit();
      } else {
        line->append(start, take);
      }
    }
    buf_pos_ += take + (nl ? 1 : 0);
    bytes_read_ += take + (nl ? 1 : 0);
    if (nl) break;
  }
  ++line_number_;
  if (too_long) return Result::kTooLong;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return Result::kLine;
}

}  // namespace recdb::tools
