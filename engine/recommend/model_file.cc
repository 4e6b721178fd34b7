#include "engine/recommend/model_file.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "common/crc32c.h"
#include "common/durable_file.h"
#include "common/little_endian.h"
#include "common/parallel_for.h"

namespace recdb {
namespace {

constexpr char kMagic[8] = {'R', 'D', 'B', 'M', 'O', 'D', 'E', 'L'};
constexpr size_t kOffVersion = 8;
constexpr size_t kOffHeaderSize = 12;
constexpr size_t kOffCoveredSequence = 16;
constexpr size_t kOffModelVersion = 24;
constexpr size_t kOffEvents = 32;
constexpr size_t kOffPayloadSize = 40;
constexpr size_t kOffPayloadCrc = 48;
constexpr size_t kOffTrainedAt = 52;  // formerly reserved (zero): read as "not recorded"
constexpr size_t kOffHeaderCrc = 60;

// A read-only mapping of the whole file, unmapped when the last user lets go.
class Mapping {
 public:
  Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
  ~Mapping() {
    if (size_ > 0) ::munmap(addr_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(addr_), size_}; }

 private:
  void* addr_;
  size_t size_;
};

// The file mapped with its pages populated from the page cache (one system
// call instead of a fault per page), or NotFound / IOError.
StatusOr<std::shared_ptr<const Mapping>> MapFile(Env* env, const std::string& path) {
  RECDB_ASSIGN_OR_RETURN(ReadOnlyFile file, ReadOnlyFile::Open(env, path));
  if (file.size() == 0) return std::make_shared<const Mapping>(nullptr, 0);
  void* addr = ::mmap(nullptr, file.size(), PROT_READ, MAP_PRIVATE | MAP_POPULATE, file.fd(), 0);
  if (addr == MAP_FAILED) return ErrnoStatus("mmap", path);
  return std::make_shared<const Mapping>(addr, file.size());
}

// The payload's CRC-32C, in chunks claimed by two threads and combined in
// order; nullopt when `cancel` was set.
std::optional<uint32_t> PayloadCrc(std::string_view payload, const std::atomic<bool>* cancel) {
  constexpr size_t kChunk = size_t{8} << 20;
  const size_t chunks = (payload.size() + kChunk - 1) / kChunk;
  std::vector<uint32_t> crcs(chunks, 0);
  std::atomic<bool> cancelled{false};
  ParallelFor(chunks, payload.size() > kParallelVerifyBytes ? 2 : 1, [&](size_t k) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      cancelled.store(true, std::memory_order_relaxed);
      return;
    }
    crcs[k] = Crc32c(payload.substr(k * kChunk, kChunk));
  });
  if (cancelled.load()) return std::nullopt;
  uint32_t crc = 0;
  for (size_t k = 0; k < chunks; ++k) {
    crc = Crc32cCombine(crc, crcs[k], std::min(kChunk, payload.size() - k * kChunk));
  }
  return crc;
}

}  // namespace

Status WriteModelFile(Env* env, const std::string& path, const ModelFileHeader& header,
                      std::string_view payload) {
  char buf[kModelFileHeaderSize] = {};
  std::memcpy(buf, kMagic, sizeof(kMagic));
  StoreLittleEndian<uint32_t>(buf, kOffVersion, kModelFileVersion);
  StoreLittleEndian<uint32_t>(buf, kOffHeaderSize, kModelFileHeaderSize);
  StoreLittleEndian<uint64_t>(buf, kOffCoveredSequence, header.covered_sequence);
  StoreLittleEndian<uint64_t>(buf, kOffModelVersion, header.model_version);
  StoreLittleEndian<uint64_t>(buf, kOffEvents, header.events);
  StoreLittleEndian<int64_t>(buf, kOffTrainedAt, header.trained_at);
  StoreLittleEndian<uint64_t>(buf, kOffPayloadSize, payload.size());
  StoreLittleEndian<uint32_t>(buf, kOffPayloadCrc, Crc32c(payload));
  StoreLittleEndian<uint32_t>(buf, kOffHeaderCrc, Crc32c(buf, kOffHeaderCrc));
  return WriteFileDurably(env, path, std::string_view(buf, sizeof(buf)), payload);
}

StatusOr<ModelFile> ReadModelFile(Env* env, const std::string& path,
                                  const std::atomic<bool>* cancel) {
  ModelFile file;
  RECDB_ASSIGN_OR_RETURN(std::shared_ptr<const Mapping> mapping, MapFile(env, path));
  file.bytes = mapping->bytes();
  file.keep_alive = std::move(mapping);
  const std::string where = "model file " + path + ": ";
  const char* buf = file.bytes.data();
  if (file.bytes.size() < kModelFileHeaderSize) return Status::Corruption(where + "truncated header");
  if (std::memcmp(buf, kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption(where + "bad magic (not a recdb model file)");
  }
  if (LoadLittleEndian<uint32_t>(buf, kOffHeaderCrc) != Crc32c(buf, kOffHeaderCrc)) {
    return Status::Corruption(where + "header checksum mismatch");
  }
  const uint32_t version = LoadLittleEndian<uint32_t>(buf, kOffVersion);
  if (version < kOldestModelFileVersion || version > kModelFileVersion) {
    return Status::NotSupported(where + "format version " + std::to_string(version) +
                                ", this build reads " + std::to_string(kOldestModelFileVersion) +
                                " to " + std::to_string(kModelFileVersion));
  }
  file.header.format_version = version;
  if (LoadLittleEndian<uint32_t>(buf, kOffHeaderSize) != kModelFileHeaderSize ||
      LoadLittleEndian<uint64_t>(buf, kOffPayloadSize) !=
          file.bytes.size() - kModelFileHeaderSize) {
    return Status::Corruption(where + "size fields disagree with the file size");
  }
  const std::optional<uint32_t> crc = PayloadCrc(file.payload(), cancel);
  if (!crc) return Status::Aborted(where + "read cancelled");
  if (LoadLittleEndian<uint32_t>(buf, kOffPayloadCrc) != *crc) {
    return Status::Corruption(where + "payload checksum mismatch");
  }
  file.header.covered_sequence = LoadLittleEndian<uint64_t>(buf, kOffCoveredSequence);
  file.header.model_version = LoadLittleEndian<uint64_t>(buf, kOffModelVersion);
  file.header.events = LoadLittleEndian<uint64_t>(buf, kOffEvents);
  file.header.trained_at = LoadLittleEndian<int64_t>(buf, kOffTrainedAt);
  return file;
}

}  // namespace recdb
