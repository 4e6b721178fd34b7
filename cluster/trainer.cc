#include "cluster/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "cluster/node.h"
#include "recdb/db.h"

namespace recdb::cluster {

namespace fs = std::filesystem;

namespace {

constexpr char kLockBucket[] = "trainer";   // "<stream>-trainer"
constexpr char kLockKey[] = "lock";
constexpr char kModelBucket[] = "models";   // "<stream>-models"
constexpr char kManifestHeader[] = "recdb-shipped-model v1";
// Beside the manifests: the last committed version (never retired).
constexpr char kLatestKey[] = "latest";
// The files Train writes to DIR/derived/ that make a model (the learned
// policy is trained from each node's own impression log: not shipped).
constexpr const char* kModelFiles[] = {"fused.model", "fused.retrieval"};
// The version a node serves, in its own database (RecordInstalledModel).
constexpr char kInstalledRecordHeader[] = "v1";

std::string InstalledRecordKey(ClusterNode& node) {
  return "cluster-model/" + node.log()->options().stream;
}

}  // namespace

// --- TrainerLock -------------------------------------------------------------

TrainerLock::TrainerLock(EventLog* log, TrainerLockOptions options)
    : log_(log), options_(std::move(options)) {
  if (options_.replicas <= 0) options_.replicas = log_->options().replicas;
}

StatusOr<bool> TrainerLock::Acquire() {
  if (!ValidName(options_.candidate)) {
    return Status::InvalidArgument("trainer candidate \"" + options_.candidate +
                                   "\": want [A-Za-z0-9_-]{1,64}");
  }
  if (revision_ != 0) {
    StatusOr<uint64_t> renewed =
        log_->UpdateKey(kLockBucket, kLockKey, options_.candidate, revision_);
    if (renewed.ok()) {
      revision_ = *renewed;
      return true;
    }
    if (!renewed.status().IsFailedPrecondition()) return renewed.status();
    // Lapsed: someone else wrote the key, or it expired. Try to take it anew
    // (it is free if it expired and nobody took it).
    revision_ = 0;
  }
  StatusOr<uint64_t> created = log_->CreateKey(kLockBucket, kLockKey, options_.candidate,
                                               options_.replicas, options_.ttl_ms);
  if (created.ok()) {
    revision_ = *created;
    return true;
  }
  if (created.status().IsAlreadyExists()) return false;
  return created.status();
}

Status TrainerLock::Release() {
  if (revision_ == 0) return Status::OK();
  Status s = log_->DeleteKey(kLockBucket, kLockKey, revision_);
  if (s.IsFailedPrecondition()) s = Status::OK();  // someone else's already
  if (s.ok()) revision_ = 0;
  return s;
}

StatusOr<std::string> TrainerLock::Holder() {
  StatusOr<std::pair<std::string, uint64_t>> v = log_->GetKey(kLockBucket, kLockKey);
  if (v.status().IsNotFound()) return std::string();
  RECDB_RETURN_IF_ERROR(v.status());
  return v->first;
}

// --- Model manifests ---------------------------------------------------------

std::string ModelStreamName(const std::string& stream, const std::string& id) {
  return stream + "-model-" + id;
}

std::string ModelSubject(const std::string& stream, const std::string& id) {
  return stream + ".model." + id;
}

std::string FormatModelManifest(const ModelManifest& m) {
  std::string out = std::string(kManifestHeader) + "\n";
  out += "id " + m.id + "\n";
  out += "version " + std::to_string(m.version) + "\n";
  out += "artifact " + m.artifact + "\n";
  out += "position " + std::to_string(m.position) + "\n";
  out += "created_ns " + std::to_string(m.created_ns) + "\n";
  out += "partitions " + std::to_string(m.partitions) + "\n";
  out += "trainer " + m.trainer + "\n";
  out += "chunk_bytes " + std::to_string(m.chunk_bytes) + "\n";
  out += "chunks " + std::to_string(m.chunks) + "\n";
  out += "bytes " + std::to_string(m.bytes) + "\n";
  for (const ShippedFile& f : m.files) out += FormatShippedFile(f);
  return out;
}

Status ParseModelManifest(const std::string& text, ModelManifest* out) {
  *out = ModelManifest{};
  size_t start = 0;
  bool header = false;
  uint64_t sum = 0, chunk_sum = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) return Status::Corruption("model manifest: no final newline");
    const std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (!header) {
      if (line != kManifestHeader) return Status::Corruption("model manifest: not v1");
      header = true;
      continue;
    }
    const size_t sp = line.find(' ');
    if (sp == std::string::npos) return Status::Corruption("model manifest line \"" + line + "\"");
    const std::string k = line.substr(0, sp), v = line.substr(sp + 1);
    const unsigned long long n = std::strtoull(v.c_str(), nullptr, 10);
    if (k == "id") out->id = v;
    else if (k == "version") out->version = n;
    else if (k == "artifact") out->artifact = v;
    else if (k == "position") out->position = n;
    else if (k == "created_ns") out->created_ns = std::strtoll(v.c_str(), nullptr, 10);
    else if (k == "partitions") out->partitions = static_cast<uint32_t>(n);
    else if (k == "trainer") out->trainer = v;
    else if (k == "chunk_bytes") out->chunk_bytes = n;
    else if (k == "chunks") out->chunks = n;
    else if (k == "bytes") out->bytes = n;
    else if (k == "file") {
      ShippedFile f;
      if (!ParseShippedFile(v, &f)) {
        return Status::Corruption("model manifest file line \"" + line + "\"");
      }
      sum += f.size;
      chunk_sum += f.chunks;
      out->files.push_back(std::move(f));
    }
    // unknown keys: a newer publisher; ignored
  }
  if (!header || out->version == 0 || out->id != "v" + std::to_string(out->version) ||
      !out->artifact.starts_with(out->id + "-") || !ValidName(out->artifact) ||
      out->chunk_bytes == 0 || sum != out->bytes || chunk_sum != out->chunks ||
      out->partitions == 0 || out->files.empty()) {
    return Status::Corruption("model manifest \"" + out->id + "\" is incomplete or inconsistent");
  }
  return Status::OK();
}

// --- Publish, list, fetch, retire --------------------------------------------

StatusOr<ModelManifest> PublishModelDir(EventLog* log, const StreamIdentity& identity,
                                        const std::string& model_dir, uint64_t position,
                                        const std::string& trainer, const ShipOptions& options) {
  RECDB_RETURN_IF_ERROR(CheckChunkBytes(options.chunk_bytes));
  if (options.keep < 1) return Status::InvalidArgument("keep: want >= 1");
  const std::string& stream = log->options().stream;
  ModelManifest m;
  m.position = position;
  m.created_ns = identity.created_ns;
  m.partitions = identity.partitions;
  m.trainer = trainer;
  m.chunk_bytes = options.chunk_bytes;
  RECDB_RETURN_IF_ERROR(DescribeArtifactFiles(model_dir, m.chunk_bytes, &m.files));
  m.files.erase(std::remove_if(m.files.begin(), m.files.end(),
                               [](const ShippedFile& f) {
                                 return std::find(std::begin(kModelFiles), std::end(kModelFiles),
                                                  f.name) == std::end(kModelFiles);
                               }),
                m.files.end());
  if (std::none_of(m.files.begin(), m.files.end(),
                   [](const ShippedFile& f) { return f.name == kModelFiles[0]; })) {
    return Status::InvalidArgument("no " + std::string(kModelFiles[0]) + " in " + model_dir +
                                   ": train first");
  }
  for (const ShippedFile& f : m.files) {
    m.bytes += f.size;
    m.chunks += f.chunks;
  }
  // The next version: past every manifest and past the last committed one
  // (key "latest"), so versions keep growing when a forget retired them all.
  RECDB_ASSIGN_OR_RETURN(auto entries, log->ReadManifests(kModelBucket));
  uint64_t newest = 0;
  for (const auto& [key, value] : entries) {
    ModelManifest old;
    if (key == kLatestKey) {
      newest = std::max<uint64_t>(newest, std::strtoull(value.c_str(), nullptr, 10));
    } else if (ParseModelManifest(value, &old).ok()) {
      newest = std::max(newest, old.version);
    }
  }
  m.version = newest + 1;
  m.id = "v" + std::to_string(m.version);
  m.artifact = m.id + "-" +
               std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
  const std::string stream_name = ModelStreamName(stream, m.artifact);
  RECDB_RETURN_IF_ERROR(ShipArtifactFiles(log, stream_name, ModelSubject(stream, m.artifact),
                                          m.artifact, model_dir, m.files, m.chunk_bytes,
                                          identity.replicas));
  // The commit point; Create, not Put: a version is committed once.
  StatusOr<uint64_t> put =
      log->CreateKey(kModelBucket, m.id, FormatModelManifest(m), identity.replicas, 0);
  if (!put.ok()) {
    // AlreadyExists: another publisher committed this version first (its
    // chunks are in a stream of its own). Ours leave nothing behind.
    (void)log->DeleteArtifactStream(stream_name);
    return put.status().WithContext("model " + m.id + " not published");
  }
  RECDB_RETURN_IF_ERROR(
      log->PutManifest(kModelBucket, kLatestKey, std::to_string(m.version), identity.replicas));
  RECDB_ASSIGN_OR_RETURN(std::vector<ModelManifest> all, ListPublishedModels(log));
  int kept = 0;
  for (const ModelManifest& old : all) {  // newest first
    const bool same_stream =
        old.created_ns == identity.created_ns && old.partitions == identity.partitions;
    if (same_stream && ++kept <= options.keep) continue;
    RECDB_RETURN_IF_ERROR(RetirePublishedModel(log, old));
  }
  return m;
}

StatusOr<std::vector<ModelManifest>> ListPublishedModels(EventLog* log) {
  RECDB_ASSIGN_OR_RETURN(auto entries, log->ReadManifests(kModelBucket));
  std::vector<ModelManifest> out;
  for (const auto& [key, value] : entries) {
    ModelManifest m;
    if (ParseModelManifest(value, &m).ok() && m.id == key) out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const ModelManifest& a, const ModelManifest& b) { return a.version > b.version; });
  return out;
}

Status FetchPublishedModel(EventLog* log, const ModelManifest& m, const std::string& dest,
                           const ShipOptions& options) {
  const std::string& stream = log->options().stream;
  return FetchArtifactFiles(log, "published model " + m.id, ModelStreamName(stream, m.artifact),
                            ModelSubject(stream, m.artifact), m.files, m.chunk_bytes, dest,
                            options.fetch_timeout_ms);
}

Status RetirePublishedModel(EventLog* log, const ModelManifest& m) {
  RECDB_RETURN_IF_ERROR(log->DeleteManifest(kModelBucket, m.id));
  Status s = log->DeleteArtifactStream(ModelStreamName(log->options().stream, m.artifact));
  if (s.IsNotFound()) return Status::OK();
  return s;
}

StatusOr<int> RetirePublishedModelsBefore(EventLog* log, uint64_t sequence) {
  RECDB_ASSIGN_OR_RETURN(std::vector<ModelManifest> all, ListPublishedModels(log));
  int retired = 0;
  for (const ModelManifest& m : all) {
    if (m.position >= sequence) continue;
    RECDB_RETURN_IF_ERROR(RetirePublishedModel(log, m));
    ++retired;
  }
  return retired;
}

// --- On a node ----------------------------------------------------------------

StatusOr<ModelManifest> TrainAndPublishModel(ClusterNode* node, TrainerLock* lock,
                                             const TrainOptions& train, const ShipOptions& ship) {
  if (lock == nullptr || !lock->held()) {
    return Status::FailedPrecondition("train and publish: this candidate does not hold the "
                                      "trainer lock");
  }
  if (node->owned().size() != node->partitions()) {
    return Status::FailedPrecondition(
        "train and publish: the trainer must own every partition (owns " +
        std::to_string(node->owned().size()) + " of " + std::to_string(node->partitions()) + ")");
  }
  const uint64_t position = node->applied_sequence();
  RECDB_RETURN_IF_ERROR(node->db()->Train(train).status());
  // Hard links to the files Train just wrote: Train replaces them by rename,
  // never in place, so the links hold this model while it is shipped.
  const std::string out = node->db_path() + ".model-out";
  std::error_code ec;
  fs::remove_all(out, ec);
  fs::create_directories(out, ec);
  if (ec) return Status::IOError("cannot create " + out + ": " + ec.message());
  for (const char* name : kModelFiles) {
    const fs::path from = fs::path(node->db_path()) / "derived" / name;
    if (!fs::exists(from)) continue;
    fs::create_hard_link(from, fs::path(out) / name, ec);
    if (ec) fs::copy_file(from, fs::path(out) / name, ec);
    if (ec) return Status::IOError("cannot stage " + from.string() + ": " + ec.message());
  }
  // The lease must still be ours at the commit.
  StatusOr<bool> still = lock->Acquire();
  StatusOr<ModelManifest> published =
      !still.ok() ? StatusOr<ModelManifest>(still.status())
      : !*still   ? StatusOr<ModelManifest>(Status::FailedPrecondition(
                        "train and publish: the trainer lock was lost; nothing published"))
                  : PublishModelDir(node->log(), node->identity(), out, position,
                                    lock->options().candidate, ship);
  fs::remove_all(out, ec);
  // The trainer serves what it published (unless a Train since replaced the
  // file, which InstalledModelVersion notices); a failed record costs a
  // restarted standby trainer one download.
  if (published.ok()) RecordInstalledModel(node, *published).IgnoreError();
  return published;
}

StatusOr<ModelInstall> InstallNewestModel(ClusterNode* node, uint64_t installed_version,
                                          const ShipOptions& ship) {
  RECDB_ASSIGN_OR_RETURN(std::vector<ModelManifest> all, ListPublishedModels(node->log()));
  const StreamIdentity& id = node->identity();
  auto it = std::find_if(all.begin(), all.end(), [&](const ModelManifest& m) {
    return m.created_ns == id.created_ns && m.partitions == id.partitions;
  });
  if (it == all.end()) {
    return Status::NotFound("no model is published for stream \"" + node->log()->options().stream +
                            "\"");
  }
  ModelInstall result;
  result.manifest = *it;
  if (it->version <= installed_version) return result;
  const std::string dest = node->db_path() + ".model-in/" + it->id;
  std::error_code ec;
  fs::remove_all(dest, ec);
  Status s = FetchPublishedModel(node->log(), *it, dest, ship);
  if (s.ok()) s = node->db()->InstallModel(dest);
  fs::remove_all(node->db_path() + ".model-in", ec);
  RECDB_RETURN_IF_ERROR(s);
  result.installed = true;
  // After InstallModel wrote the file durably. The model serves even if the
  // record fails: a restart then downloads this version once more.
  RecordInstalledModel(node, *it).IgnoreError();
  return result;
}

// --- The installed version -----------------------------------------------------

Status RecordInstalledModel(ClusterNode* node, const ModelManifest& m) {
  auto model = std::find_if(m.files.begin(), m.files.end(),
                            [](const ShippedFile& f) { return f.name == kModelFiles[0]; });
  if (model == m.files.end()) {
    return Status::InvalidArgument("record installed model: manifest " + m.id + " has no " +
                                   kModelFiles[0]);
  }
  char crc[16];
  std::snprintf(crc, sizeof(crc), "%08x", model->crc32c);
  WriteOptions wo;
  wo.sync = true;
  wo.applied_position_key = InstalledRecordKey(*node);
  wo.applied_position_value = std::string(kInstalledRecordHeader) +
                              " version=" + std::to_string(m.version) +
                              " created=" + std::to_string(m.created_ns) +
                              " partitions=" + std::to_string(m.partitions) +
                              " size=" + std::to_string(model->size) + " crc=" + crc;
  return node->db()->RecordEvents(wo, {});
}

StatusOr<uint64_t> InstalledModelVersion(ClusterNode* node) {
  StatusOr<std::string> value = node->db()->GetAppliedPosition(InstalledRecordKey(*node));
  if (value.status().IsNotFound()) return uint64_t{0};
  RECDB_RETURN_IF_ERROR(value.status());
  unsigned long long version = 0, size = 0;
  long long created = 0;
  unsigned int partitions = 0, crc = 0;
  char header[8] = {0};
  int used = 0;
  if (std::sscanf(value->c_str(), "%7s version=%llu created=%lld partitions=%u size=%llu crc=%x%n",
                  header, &version, &created, &partitions, &size, &crc, &used) != 6 ||
      std::string(header) != kInstalledRecordHeader || static_cast<size_t>(used) != value->size()) {
    return Status::Corruption("installed model record \"" + *value + "\" is malformed");
  }
  const StreamIdentity& id = node->identity();
  if (created != id.created_ns || partitions != id.partitions) return uint64_t{0};
  // The record is about these bytes only.
  uint64_t file_size = 0;
  uint32_t file_crc = 0;
  Status read = FileCrc(node->db_path() + "/derived/" + kModelFiles[0], &file_size, &file_crc);
  if (!read.ok() || file_size != size || file_crc != crc) return uint64_t{0};
  // And the database serves them (Open loaded the file).
  StatusOr<TrainReport> serving = node->db()->GetModelReport();
  RECDB_RETURN_IF_ERROR(serving.status());
  if (serving->model_version == 0) return uint64_t{0};
  return static_cast<uint64_t>(version);
}

// --- ModelLoop ----------------------------------------------------------------

ModelLoop::ModelLoop(ClusterNode* node, ModelLoopOptions options)
    : node_(node), options_(std::move(options)) {}

StatusOr<std::unique_ptr<ModelLoop>> ModelLoop::Start(ClusterNode* node,
                                                      ModelLoopOptions options) {
  if (!options.train && !options.follow) {
    return Status::InvalidArgument("model loop: neither train nor follow");
  }
  if (options.train && !ValidName(options.candidate)) {
    return Status::InvalidArgument("model loop: trainer candidate \"" + options.candidate +
                                   "\": want [A-Za-z0-9_-]{1,64}");
  }
  if (options.train_after == 0) {
    return Status::InvalidArgument("model loop: train_after must be >= 1");
  }
  std::unique_ptr<ModelLoop> loop(new ModelLoop(node, std::move(options)));
  if (loop->options_.train) {
    loop->lock_ = std::make_unique<TrainerLock>(
        node->log(), TrainerLockOptions{.candidate = loop->options_.candidate,
                                        .ttl_ms = loop->options_.ttl_ms});
  }
  // The version the node recorded before a restart, if it still serves it.
  StatusOr<uint64_t> held = InstalledModelVersion(node);
  if (held.ok() && *held > 0) {
    loop->stats_.installed_version = *held;
    node->SetModelState(*held, false);
  }
  loop->thread_ = std::thread([l = loop.get()] { l->Run(); });
  return loop;
}

ModelLoop::~ModelLoop() { Stop(); }

void ModelLoop::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (lock_ != nullptr) {
    (void)lock_->Release();
    std::lock_guard lock(mu_);
    stats_.holds_lock = false;
    node_->SetModelState(stats_.installed_version, false);
  }
}

ModelLoopStats ModelLoop::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

StatusOr<ModelLoopStats> ModelLoop::RunRoundNow(int timeout_ms) {
  std::unique_lock lock(mu_);
  if (stop_) return Status::Aborted("model loop stopped");
  // A round in progress started before this call: wait for the next one.
  const uint64_t want = stats_.rounds + (in_round_ ? 2 : 1);
  kick_ = true;
  cv_.notify_all();
  if (!done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [&] { return stop_ || stats_.rounds >= want; })) {
    return Status::Aborted("model round not done within " + std::to_string(timeout_ms) +
                           " ms (it goes on)");
  }
  if (stats_.rounds < want) return Status::Aborted("model loop stopped");
  return stats_;
}

void ModelLoop::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    kick_ = false;
    in_round_ = true;
    lock.unlock();
    Status s = Round();
    lock.lock();
    in_round_ = false;
    ++stats_.rounds;
    stats_.last_error = s.ok() ? "" : s.ToString();
    node_->SetModelState(stats_.installed_version, stats_.holds_lock);
    done_cv_.notify_all();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.interval_ms),
                 [&] { return stop_ || kick_; });
  }
  done_cv_.notify_all();
}

Status ModelLoop::Round() {
  bool holds = false;
  if (lock_ != nullptr) {
    StatusOr<bool> got = lock_->Acquire();
    holds = got.ok() && *got;
    {
      std::lock_guard lock(mu_);
      stats_.holds_lock = holds;
    }
    RECDB_RETURN_IF_ERROR(got.status());
  }
  if (holds) {
    RECDB_ASSIGN_OR_RETURN(std::vector<ModelManifest> all, ListPublishedModels(node_->log()));
    const StreamIdentity& id = node_->identity();
    uint64_t covered = 0;  // the newest published model's position
    for (const ModelManifest& m : all) {  // newest first
      if (m.created_ns != id.created_ns || m.partitions != id.partitions) continue;
      covered = m.position;
      break;
    }
    // Too few new messages (none at all included): nothing to train on.
    if (node_->applied_sequence() < covered + options_.train_after) return Status::OK();
    RECDB_ASSIGN_OR_RETURN(ModelManifest m, TrainAndPublishModel(node_, lock_.get(),
                                                                 options_.train_options,
                                                                 options_.ship));
    std::lock_guard lock(mu_);
    stats_.published_version = m.version;
    // The trainer serves the model it trained: nothing to install.
    stats_.installed_version = m.version;
    return Status::OK();
  }
  if (!options_.follow) return Status::OK();
  uint64_t installed = 0;
  {
    std::lock_guard lock(mu_);
    installed = stats_.installed_version;
  }
  StatusOr<ModelInstall> done = InstallNewestModel(node_, installed, options_.ship);
  if (done.status().IsNotFound()) return Status::OK();  // nothing published yet
  RECDB_RETURN_IF_ERROR(done.status());
  std::lock_guard lock(mu_);
  if (done->installed) stats_.installed_version = done->manifest.version;
  return Status::OK();
}

}  // namespace recdb::cluster
