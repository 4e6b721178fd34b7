#include "index/index_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/crc32c.h"
#include "common/durable_file.h"
#include "common/little_endian.h"
#include "common/file_io.h"

namespace recdb::index {
namespace {

// Header field offsets (index/FORMAT.md).
constexpr size_t kOffVersion = 8;
constexpr size_t kOffHeaderSize = 12;
constexpr size_t kOffKind = 16;
constexpr size_t kOffDimension = 20;
constexpr size_t kOffMetric = 24;
constexpr size_t kOffM = 32;
constexpr size_t kOffEfConstruction = 40;
constexpr size_t kOffElementCount = 48;
constexpr size_t kOffLiveCount = 56;
constexpr size_t kOffCoveredSequence = 64;
constexpr size_t kOffPayloadSize = 72;
constexpr size_t kOffPayloadCrc = 80;
constexpr size_t kOffHeaderCrc = 92;
constexpr size_t kBufferSize = 1 << 20;

}  // namespace

IndexFileWriter::IndexFileWriter(Env* env, std::string path, int fd)
    : env_(env), path_(std::move(path)), tmp_path_(path_ + ".tmp"), fd_(fd) {
  buffer_.reserve(kBufferSize);
}

IndexFileWriter::~IndexFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) ::unlink(tmp_path_.c_str());
}

StatusOr<std::unique_ptr<IndexFileWriter>> IndexFileWriter::Create(Env* env,
                                                                   const std::string& path) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open", tmp);
  std::unique_ptr<IndexFileWriter> writer(new IndexFileWriter(env, path, fd));
  // Reserve the header; Finish() overwrites it once the payload CRC is known.
  const char zeros[kIndexFileHeaderSize] = {};
  RECDB_RETURN_IF_ERROR(WriteAll(env, fd, std::string_view(zeros, sizeof(zeros)), tmp));
  return writer;
}

Status IndexFileWriter::Append(const void* data, size_t n) {
  payload_crc_ = Crc32cExtend(payload_crc_, data, n);
  payload_size_ += n;
  if (buffer_.size() + n > kBufferSize) {
    RECDB_RETURN_IF_ERROR(Flush());
    if (n >= kBufferSize) return WriteAll(env_, fd_, std::string_view(static_cast<const char*>(data), n), tmp_path_);
  }
  buffer_.append(static_cast<const char*>(data), n);
  return Status::OK();
}

Status IndexFileWriter::Flush() {
  Status s = WriteAll(env_, fd_, std::string_view(buffer_.data(), buffer_.size()), tmp_path_);
  buffer_.clear();
  return s;
}

Status IndexFileWriter::Finish(IndexFileHeader header) {
  if (finished_ || fd_ < 0) return Status::FailedPrecondition("index file already finished");
  RECDB_RETURN_IF_ERROR(Flush());
  header.payload_size = payload_size_;
  header.payload_crc32c = payload_crc_;

  char buf[kIndexFileHeaderSize] = {};
  std::memcpy(buf, kIndexFileMagic, sizeof(kIndexFileMagic));
  StoreLittleEndian<uint32_t>(buf, kOffVersion, kIndexFileVersion);
  StoreLittleEndian<uint32_t>(buf, kOffHeaderSize, kIndexFileHeaderSize);
  StoreLittleEndian<uint32_t>(buf, kOffKind, static_cast<uint32_t>(header.kind));
  StoreLittleEndian<uint32_t>(buf, kOffDimension, header.dimension);
  StoreLittleEndian<uint32_t>(buf, kOffMetric, static_cast<uint32_t>(header.metric));
  StoreLittleEndian<uint64_t>(buf, kOffM, header.m);
  StoreLittleEndian<uint64_t>(buf, kOffEfConstruction, header.ef_construction);
  StoreLittleEndian<uint64_t>(buf, kOffElementCount, header.element_count);
  StoreLittleEndian<uint64_t>(buf, kOffLiveCount, header.live_count);
  StoreLittleEndian<uint64_t>(buf, kOffCoveredSequence, header.covered_sequence);
  StoreLittleEndian<uint64_t>(buf, kOffPayloadSize, header.payload_size);
  StoreLittleEndian<uint32_t>(buf, kOffPayloadCrc, header.payload_crc32c);
  StoreLittleEndian<uint32_t>(buf, kOffHeaderCrc, Crc32c(buf, kOffHeaderCrc));

  if (::lseek(fd_, 0, SEEK_SET) != 0) return ErrnoStatus("seek", tmp_path_);
  RECDB_RETURN_IF_ERROR(WriteAll(env_, fd_, std::string_view(buf, sizeof(buf)), tmp_path_));
  if (io::Fsync(env_, fd_, tmp_path_) != 0) return ErrnoStatus("fsync", tmp_path_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return ErrnoStatus("close", tmp_path_);
  if (io::Rename(env_, tmp_path_.c_str(), path_.c_str()) != 0) return ErrnoStatus("rename", tmp_path_);
  finished_ = true;
  return FsyncParentDirectory(env_, path_);  // the rename is durable only once the entry is
}

StatusOr<IndexFile> ReadIndexFile(Env* env, const std::string& path, IndexKind expected_kind,
                                  uint32_t expected_dimension, Metric expected_metric) {
  const int fd = io::Open(env, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoStatus("stat", path);
    ::close(fd);
    return s;
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t r = io::Read(env, fd, bytes.data() + done, bytes.size() - done, path);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      Status s = ErrnoStatus("read", path);
      ::close(fd);
      return s;
    }
    if (r == 0) break;  // shrank while reading: caught as truncation below
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  bytes.resize(done);

  const std::string where = "index file " + path + ": ";
  if (bytes.size() < kIndexFileHeaderSize) return Status::Corruption(where + "truncated header");
  const char* h = bytes.data();
  if (std::memcmp(h, kIndexFileMagic, sizeof(kIndexFileMagic)) != 0) {
    return Status::Corruption(where + "bad magic (not a recdb index file)");
  }
  if (LoadLittleEndian<uint32_t>(h, kOffHeaderCrc) != Crc32c(h, kOffHeaderCrc)) {
    return Status::Corruption(where + "header checksum mismatch");
  }
  const uint32_t version = LoadLittleEndian<uint32_t>(h, kOffVersion);
  if (version != kIndexFileVersion) {
    return Status::NotSupported(where + "format version " + std::to_string(version) +
                                ", this build reads " + std::to_string(kIndexFileVersion));
  }
  if (LoadLittleEndian<uint32_t>(h, kOffHeaderSize) != kIndexFileHeaderSize) {
    return Status::Corruption(where + "unexpected header size");
  }
  IndexFile file;
  IndexFileHeader& hd = file.header;
  hd.kind = static_cast<IndexKind>(LoadLittleEndian<uint32_t>(h, kOffKind));
  hd.dimension = LoadLittleEndian<uint32_t>(h, kOffDimension);
  const uint32_t metric = LoadLittleEndian<uint32_t>(h, kOffMetric);
  hd.metric = static_cast<Metric>(metric);
  hd.m = LoadLittleEndian<uint64_t>(h, kOffM);
  hd.ef_construction = LoadLittleEndian<uint64_t>(h, kOffEfConstruction);
  hd.element_count = LoadLittleEndian<uint64_t>(h, kOffElementCount);
  hd.live_count = LoadLittleEndian<uint64_t>(h, kOffLiveCount);
  hd.covered_sequence = LoadLittleEndian<uint64_t>(h, kOffCoveredSequence);
  hd.payload_size = LoadLittleEndian<uint64_t>(h, kOffPayloadSize);
  hd.payload_crc32c = LoadLittleEndian<uint32_t>(h, kOffPayloadCrc);

  if (hd.payload_size != bytes.size() - kIndexFileHeaderSize) {
    return Status::Corruption(where + "file is " + std::to_string(bytes.size()) +
                              " bytes, header says " +
                              std::to_string(kIndexFileHeaderSize + hd.payload_size) +
                              " (truncated or trailing bytes)");
  }
  if (Crc32c(h + kIndexFileHeaderSize, hd.payload_size) != hd.payload_crc32c) {
    return Status::Corruption(where + "payload checksum mismatch");
  }
  if (metric > static_cast<uint32_t>(Metric::kL2) || hd.live_count > hd.element_count) {
    return Status::Corruption(where + "header fields out of range");
  }
  if (hd.kind != expected_kind) {
    return Status::InvalidArgument(where + "index kind " +
                                   std::to_string(static_cast<uint32_t>(hd.kind)) + ", expected " +
                                   std::to_string(static_cast<uint32_t>(expected_kind)));
  }
  if (hd.dimension != expected_dimension) {
    return Status::InvalidArgument(where + "dimension " + std::to_string(hd.dimension) +
                                   ", expected " + std::to_string(expected_dimension));
  }
  if (hd.metric != expected_metric) {
    return Status::InvalidArgument(where + "metric " + std::string(MetricToString(hd.metric)) +
                                   ", expected " + std::string(MetricToString(expected_metric)));
  }
  bytes.erase(0, kIndexFileHeaderSize);
  file.payload = std::move(bytes);
  return file;
}

}  // namespace recdb::index
