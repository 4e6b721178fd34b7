#include "cluster/snapshot_ship.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "cluster/node.h"
#include "recdb/db.h"

namespace recdb::cluster {

namespace fs = std::filesystem;

namespace {

constexpr char kManifestHeader[] = "recdb-shipped-snapshot v1";
constexpr size_t kMaxPayload = 1 << 20;
constexpr char kSnapshotBucket[] = "snapshots";  // "<stream>-snapshots"

using Clock = std::chrono::steady_clock;

// Slicing-by-8 tables of CRC-32C (reflected polynomial 0x82F63B78).
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;
CrcTables MakeCrcTables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[0][i] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
  return t;
}

uint32_t Load32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

std::string ChunkHeader(size_t file, uint64_t offset, uint64_t length) {
  return "recdb-chunk v1 file=" + std::to_string(file) + " offset=" + std::to_string(offset) +
         " length=" + std::to_string(length) + "\n";
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The applied position of `stream` stored inside the snapshot directory.
StatusOr<AppliedPosition> SnapshotPosition(const std::string& snapshot_dir,
                                           const std::string& stream) {
  Options ro;
  ro.read_only = true;
  ro.create_if_missing = false;
  ro.background_threads = 1;
  RECDB_ASSIGN_OR_RETURN(std::unique_ptr<DB> db, DB::Open(ro, snapshot_dir));
  StatusOr<std::string> value = db->GetAppliedPosition("cluster/" + stream);
  (void)db->Close();
  if (value.status().IsNotFound()) {
    return Status::NotFound("snapshot " + snapshot_dir + " holds no position of stream \"" +
                            stream + "\" (not a node of it, or it applied nothing yet)");
  }
  RECDB_RETURN_IF_ERROR(value.status());
  AppliedPosition pos;
  if (!ParseAppliedPosition(*value, &pos)) {
    return Status::Corruption("applied position \"" + *value + "\" is malformed");
  }
  return pos;
}

}  // namespace

Status FileCrc(const std::string& path, uint64_t* size, uint32_t* crc) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::vector<char> buf(1 << 20);
  *size = 0;
  *crc = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    *crc = Crc32c(*crc, buf.data(), static_cast<size_t>(got));
    *size += static_cast<uint64_t>(got);
  }
  if (in.bad()) return Status::IOError("read error in " + path);
  return Status::OK();
}

uint32_t Crc32c(uint32_t crc, const void* data, size_t n) {
  static const CrcTables t = MakeCrcTables();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    const uint32_t lo = Load32(p) ^ crc, hi = Load32(p + 4);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string SnapshotStreamName(const std::string& stream, const std::string& id) {
  return stream + "-snap-" + id;
}

std::string SnapshotSubject(const std::string& stream, const std::string& id) {
  return stream + ".snap." + id;
}

std::string FormatShippedManifest(const ShippedManifest& m) {
  std::string out = std::string(kManifestHeader) + "\n";
  out += "id " + m.id + "\n";
  out += "snapshot_name " + m.snapshot_name + "\n";
  out += "position " + std::to_string(m.position) + "\n";
  out += "created_ns " + std::to_string(m.created_ns) + "\n";
  out += "partitions " + std::to_string(m.partitions) + "\n";
  out += "owned " + FormatPartitionSet(m.owned) + "\n";
  out += "chunk_bytes " + std::to_string(m.chunk_bytes) + "\n";
  out += "chunks " + std::to_string(m.chunks) + "\n";
  out += "bytes " + std::to_string(m.bytes) + "\n";
  for (const ShippedFile& f : m.files) out += FormatShippedFile(f);
  return out;
}

Status ParseShippedManifest(const std::string& text, ShippedManifest* out) {
  *out = ShippedManifest{};
  size_t start = 0;
  bool header = false;
  uint64_t sum = 0, chunk_sum = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) return Status::Corruption("shipped manifest: no final newline");
    const std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (!header) {
      if (line != kManifestHeader) return Status::Corruption("shipped manifest: not v1");
      header = true;
      continue;
    }
    const size_t sp = line.find(' ');
    if (sp == std::string::npos) return Status::Corruption("shipped manifest line \"" + line + "\"");
    const std::string k = line.substr(0, sp), v = line.substr(sp + 1);
    const unsigned long long n = std::strtoull(v.c_str(), nullptr, 10);
    if (k == "id") out->id = v;
    else if (k == "snapshot_name") out->snapshot_name = v;
    else if (k == "position") out->position = n;
    else if (k == "created_ns") out->created_ns = std::strtoll(v.c_str(), nullptr, 10);
    else if (k == "partitions") out->partitions = static_cast<uint32_t>(n);
    else if (k == "owned") {
      Status s = ParsePartitionSet(v, &out->owned);
      if (!s.ok()) return Status::Corruption("shipped manifest: " + s.message());
    } else if (k == "chunk_bytes") out->chunk_bytes = n;
    else if (k == "chunks") out->chunks = n;
    else if (k == "bytes") out->bytes = n;
    else if (k == "file") {
      ShippedFile f;
      if (!ParseShippedFile(v, &f)) {
        return Status::Corruption("shipped manifest file line \"" + line + "\"");
      }
      sum += f.size;
      chunk_sum += f.chunks;
      out->files.push_back(std::move(f));
    }
    // unknown keys: a newer publisher; ignored
  }
  if (!header || out->id.empty() || out->snapshot_name.empty() || out->chunk_bytes == 0 ||
      sum != out->bytes || chunk_sum != out->chunks || out->partitions == 0) {
    return Status::Corruption("shipped manifest \"" + out->id + "\" is incomplete or inconsistent");
  }
  return Status::OK();
}

Status CheckChunkBytes(size_t chunk_bytes) {
  if (chunk_bytes == 0 || chunk_bytes + 128 >= kMaxPayload) {
    return Status::InvalidArgument("chunk size " + std::to_string(chunk_bytes) +
                                   ": want 1 .. 1 MiB - 128 bytes (the server's max payload)");
  }
  return Status::OK();
}

std::string FormatShippedFile(const ShippedFile& f) {
  char crc[16];
  std::snprintf(crc, sizeof(crc), "%08x", f.crc32c);
  return "file " + f.name + " " + std::to_string(f.size) + " " + crc + " " +
         std::to_string(f.chunks) + "\n";
}

bool ParseShippedFile(const std::string& v, ShippedFile* out) {
  char name[4096];
  unsigned long long size = 0, chunks = 0;
  unsigned int crc = 0;
  if (v.size() >= sizeof(name) ||
      std::sscanf(v.c_str(), "%4095s %llu %x %llu", name, &size, &crc, &chunks) != 4) {
    return false;
  }
  *out = ShippedFile{name, size, crc, chunks};
  return true;
}

Status DescribeArtifactFiles(const std::string& dir, uint64_t chunk_bytes,
                             std::vector<ShippedFile>* files) {
  files->clear();
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = fs::relative(it->path(), dir).string();
    if (rel.find_first_of(" \t\n") != std::string::npos) {
      return Status::InvalidArgument("artifact file name with white space: " + rel);
    }
    names.push_back(rel);
  }
  if (ec) return Status::IOError("list " + dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    ShippedFile f;
    f.name = name;
    RECDB_RETURN_IF_ERROR(FileCrc(dir + "/" + name, &f.size, &f.crc32c));
    f.chunks = (f.size + chunk_bytes - 1) / chunk_bytes;
    files->push_back(f);
  }
  return Status::OK();
}

Status ShipArtifactFiles(EventLog* log, const std::string& stream_name,
                         const std::string& subject, const std::string& id,
                         const std::string& dir, const std::vector<ShippedFile>& files,
                         uint64_t chunk_bytes, int replicas) {
  RECDB_RETURN_IF_ERROR(CheckChunkBytes(chunk_bytes));
  uint64_t chunks = 0;
  for (const ShippedFile& f : files) chunks += f.chunks;
  RECDB_RETURN_IF_ERROR(log->CreateArtifactStream(stream_name, subject, replicas));
  // Any failure from here deletes the stream: no chunks stay behind.
  auto abandon = [&](Status s) {
    (void)log->DeleteArtifactStream(stream_name);
    return s;
  };
  // Every chunk, 16 per round trip; a failed round sends the whole artifact
  // again with the same message ids (the duplicate window drops copies).
  Status sent = Status::Aborted("not sent");
  for (int attempt = 0; attempt < 3 && !sent.ok(); ++attempt) {
    sent = Status::OK();
    size_t index = 0;
    std::vector<std::string> bodies;
    auto flush = [&]() -> Status {
      if (bodies.empty()) return Status::OK();
      Status s = log->PublishArtifact(subject, id, index - bodies.size(), bodies);
      bodies.clear();
      return s;
    };
    for (size_t fi = 0; fi < files.size() && sent.ok(); ++fi) {
      const ShippedFile& f = files[fi];
      std::ifstream in(dir + "/" + f.name, std::ios::binary);
      if (!in) return abandon(Status::IOError("cannot read " + dir + "/" + f.name));
      for (uint64_t c = 0; c < f.chunks && sent.ok(); ++c) {
        const uint64_t offset = c * chunk_bytes;
        const uint64_t len = std::min<uint64_t>(chunk_bytes, f.size - offset);
        std::string body = ChunkHeader(fi, offset, len);
        const size_t head = body.size();
        body.resize(head + len);
        in.read(body.data() + head, static_cast<std::streamsize>(len));
        if (static_cast<uint64_t>(in.gcount()) != len) {
          return abandon(Status::IOError(dir + "/" + f.name + " changed while publishing"));
        }
        bodies.push_back(std::move(body));
        ++index;
        if (bodies.size() == 16) sent = flush();
      }
    }
    if (sent.ok()) sent = flush();
  }
  if (!sent.ok()) return abandon(sent);
  StatusOr<uint64_t> stored = log->ArtifactMessages(stream_name);
  if (!stored.ok()) return abandon(stored.status());
  if (*stored != chunks) {
    return abandon(Status::Aborted(id + ": the stream stored " + std::to_string(*stored) +
                                   " of " + std::to_string(chunks) +
                                   " chunks; nothing published"));
  }
  return Status::OK();
}

StatusOr<ShippedManifest> PublishSnapshotDir(EventLog* log, const StreamIdentity& identity,
                                             const std::string& snapshot_dir,
                                             const std::vector<uint32_t>& owned,
                                             const ShipOptions& options) {
  RECDB_RETURN_IF_ERROR(CheckChunkBytes(options.chunk_bytes));
  if (options.keep < 1) return Status::InvalidArgument("keep: want >= 1");
  const std::string& stream = log->options().stream;
  RECDB_ASSIGN_OR_RETURN(AppliedPosition pos, SnapshotPosition(snapshot_dir, stream));
  if (pos.created_ns != identity.created_ns || pos.partitions != identity.partitions) {
    return Status::FailedPrecondition("snapshot " + snapshot_dir + " was applied from another "
                                      "stream \"" + stream + "\" (recreated or other partition "
                                      "count): not published");
  }
  ShippedManifest m;
  m.position = pos.sequence;
  m.created_ns = identity.created_ns;
  m.partitions = identity.partitions;
  m.owned = owned;
  if (m.owned.empty()) {
    for (uint32_t p = 0; p < identity.partitions; ++p) m.owned.push_back(p);
  }
  m.snapshot_name = fs::path(snapshot_dir).lexically_normal().filename().string();
  if (m.snapshot_name.empty()) {
    m.snapshot_name = fs::path(snapshot_dir).lexically_normal().parent_path().filename().string();
  }
  m.chunk_bytes = options.chunk_bytes;
  m.id = "p" + std::to_string(m.position) + "-" + std::to_string(NowMicros());
  RECDB_RETURN_IF_ERROR(DescribeArtifactFiles(snapshot_dir, m.chunk_bytes, &m.files));
  for (const ShippedFile& f : m.files) {
    m.bytes += f.size;
    m.chunks += f.chunks;
  }
  const std::string stream_name = SnapshotStreamName(stream, m.id);
  RECDB_RETURN_IF_ERROR(ShipArtifactFiles(log, stream_name, SnapshotSubject(stream, m.id), m.id,
                                          snapshot_dir, m.files, m.chunk_bytes,
                                          identity.replicas));
  // The commit point.
  Status put =
      log->PutManifest(kSnapshotBucket, m.id, FormatShippedManifest(m), identity.replicas);
  if (!put.ok()) {
    (void)log->DeleteArtifactStream(stream_name);
    return put;
  }
  // Keep the newest options.keep of each partition set (a half replica's
  // publishes do not retire a full replica's); those of an earlier stream of
  // the same name (recreated) can never be used: retired.
  RECDB_ASSIGN_OR_RETURN(std::vector<ShippedManifest> all, ListShippedSnapshots(log));
  std::map<std::string, int> kept;
  for (const ShippedManifest& old : all) {  // newest first
    const bool same_stream =
        old.created_ns == identity.created_ns && old.partitions == identity.partitions;
    if (same_stream && ++kept[FormatPartitionSet(old.owned)] <= options.keep) continue;
    RECDB_RETURN_IF_ERROR(RetireShippedSnapshot(log, old));
  }
  return m;
}

StatusOr<std::vector<ShippedManifest>> ListShippedSnapshots(EventLog* log) {
  RECDB_ASSIGN_OR_RETURN(auto entries, log->ReadManifests(kSnapshotBucket));
  std::vector<ShippedManifest> out;
  for (const auto& [key, value] : entries) {
    ShippedManifest m;
    if (ParseShippedManifest(value, &m).ok() && m.id == key) out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const ShippedManifest& a, const ShippedManifest& b) {
    if (a.position != b.position) return a.position > b.position;
    return a.id > b.id;
  });
  return out;
}

Status FetchShippedSnapshot(EventLog* log, const ShippedManifest& m, const std::string& dest,
                            const ShipOptions& options) {
  const std::string& stream = log->options().stream;
  return FetchArtifactFiles(log, "published snapshot " + m.id, SnapshotStreamName(stream, m.id),
                            SnapshotSubject(stream, m.id), m.files, m.chunk_bytes, dest,
                            options.fetch_timeout_ms);
}

Status FetchArtifactFiles(EventLog* log, const std::string& what, const std::string& stream_name,
                          const std::string& subject, const std::vector<ShippedFile>& files,
                          uint64_t chunk_bytes, const std::string& dest, int timeout_ms) {
  uint64_t chunks = 0;
  for (const ShippedFile& f : files) chunks += f.chunks;
  StatusOr<uint64_t> stored = log->ArtifactMessages(stream_name);
  if (stored.status().IsNotFound()) {
    return Status::NotFound(what + ": its stream " + stream_name + " is gone (retired)");
  }
  RECDB_RETURN_IF_ERROR(stored.status());
  if (*stored != chunks) {
    return Status::Corruption(what + ": its stream holds " + std::to_string(*stored) +
                              " messages, the manifest " + std::to_string(chunks) +
                              " chunks (missing or extra chunks)");
  }
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return Status::IOError("cannot create " + dest + ": " + ec.message());
  auto fail = [&](Status s) {
    fs::remove_all(dest, ec);
    return s;
  };
  for (const ShippedFile& f : files) {
    const fs::path p = fs::path(dest) / f.name;
    fs::create_directories(p.parent_path(), ec);
    std::ofstream touch(p, std::ios::binary | std::ios::trunc);
    if (!touch) return fail(Status::IOError("cannot create " + p.string()));
  }
  // received[file][chunk]
  std::vector<std::vector<bool>> received(files.size());
  for (size_t i = 0; i < files.size(); ++i) received[i].assign(files[i].chunks, false);

  StatusOr<std::unique_ptr<LogReader>> reader =
      log->FollowArtifact(stream_name, subject);
  if (!reader.ok()) return fail(reader.status());
  const auto start = Clock::now();
  uint64_t got_chunks = 0;
  LogMessage msg;
  const std::string where = what + ": ";
  while (got_chunks < chunks) {
    if (Clock::now() - start > std::chrono::milliseconds(timeout_ms)) {
      return fail(Status::Aborted(where + "received " + std::to_string(got_chunks) + " of " +
                                  std::to_string(chunks) + " chunks within " +
                                  std::to_string(timeout_ms) + " ms"));
    }
    StatusOr<bool> got = (*reader)->Next(2000, &msg);
    if (!got.ok()) return fail(got.status());
    if (!*got) {
      // Nothing for 2 s: retired (its stream deleted) meanwhile?
      StatusOr<uint64_t> still = log->ArtifactMessages(stream_name);
      if (still.status().IsNotFound()) {
        return fail(Status::NotFound(where + "retired during the fetch (its stream is gone)"));
      }
      continue;
    }
    unsigned long long file = 0, offset = 0, length = 0;
    int head = 0;
    const size_t nl = msg.body.find('\n');
    if (nl == std::string::npos || nl > 200 ||
        std::sscanf(msg.body.substr(0, nl).c_str(),
                    "recdb-chunk v1 file=%llu offset=%llu length=%llu%n", &file, &offset,
                    &length, &head) != 3 ||
        static_cast<size_t>(head) != nl) {
      return fail(Status::Corruption(where + "chunk at stream sequence " +
                                     std::to_string(msg.stream_seq) + " has no valid header"));
    }
    const uint64_t chunk = offset / chunk_bytes;
    if (file >= files.size() || offset % chunk_bytes != 0 ||
        chunk >= files[file].chunks ||
        length != std::min<uint64_t>(chunk_bytes, files[file].size - offset) ||
        msg.body.size() != nl + 1 + length || received[file][chunk]) {
      return fail(Status::Corruption(where + "chunk at stream sequence " +
                                     std::to_string(msg.stream_seq) + " (file " +
                                     std::to_string(file) + " offset " + std::to_string(offset) +
                                     ") does not match the manifest or repeats a chunk"));
    }
    received[file][chunk] = true;
    const std::string path = dest + "/" + files[file].name;
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return fail(Status::IOError("cannot open " + path));
    const ssize_t w = ::pwrite(fd, msg.body.data() + nl + 1, length, static_cast<off_t>(offset));
    // No fsync: DB::Restore copies (and syncs) these files; a crash
    // before then leaves only the download directory, never the database.
    ::close(fd);
    if (w != static_cast<ssize_t>(length)) {
      return fail(Status::IOError("cannot write " + path));
    }
    ++got_chunks;
  }
  for (const ShippedFile& f : files) {
    uint64_t size = 0;
    uint32_t crc = 0;
    Status s = FileCrc(dest + "/" + f.name, &size, &crc);
    if (!s.ok()) return fail(s);
    if (size != f.size || crc != f.crc32c) {
      char want[16], have[16];
      std::snprintf(want, sizeof(want), "%08x", f.crc32c);
      std::snprintf(have, sizeof(have), "%08x", crc);
      return fail(Status::Corruption(where + "file " + f.name + " has " + std::to_string(size) +
                                     " bytes, CRC-32C " + have + "; the manifest says " +
                                     std::to_string(f.size) + " bytes, " + want +
                                     ": a damaged chunk; refusing to restore"));
    }
  }
  return Status::OK();
}

Status RetireShippedSnapshot(EventLog* log, const ShippedManifest& m) {
  RECDB_RETURN_IF_ERROR(log->DeleteManifest(kSnapshotBucket, m.id));
  Status s = log->DeleteArtifactStream(SnapshotStreamName(log->options().stream, m.id));
  if (s.IsNotFound()) return Status::OK();
  return s;
}

StatusOr<int> RetireShippedSnapshotsBefore(EventLog* log, uint64_t sequence, int64_t partition) {
  RECDB_ASSIGN_OR_RETURN(std::vector<ShippedManifest> all, ListShippedSnapshots(log));
  int retired = 0;
  for (const ShippedManifest& m : all) {
    if (m.position >= sequence) continue;
    if (partition >= 0 && !std::binary_search(m.owned.begin(), m.owned.end(),
                                              static_cast<uint32_t>(partition))) {
      continue;
    }
    RECDB_RETURN_IF_ERROR(RetireShippedSnapshot(log, m));
    ++retired;
  }
  return retired;
}

}  // namespace recdb::cluster
