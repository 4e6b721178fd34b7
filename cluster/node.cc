#include "cluster/node.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cluster/event_codec.h"
#include "cluster/trainer.h"

namespace recdb::cluster {

namespace {

using StoredPosition = AppliedPosition;

bool ParsePosition(const std::string& v, StoredPosition* out) { return ParseAppliedPosition(v, out); }

}  // namespace

// Position value: "v1 seq=<applied> created=<stream created ns> partitions=<N>".
bool ParseAppliedPosition(const std::string& v, AppliedPosition* out) {
  unsigned long long seq = 0;
  long long created = 0;
  unsigned long parts = 0;
  if (std::sscanf(v.c_str(), "v1 seq=%llu created=%lld partitions=%lu", &seq, &created, &parts) != 3) {
    return false;
  }
  out->sequence = seq;
  out->created_ns = created;
  out->partitions = static_cast<uint32_t>(parts);
  return true;
}

StatusOr<std::unique_ptr<ClusterNode>> ClusterNode::Open(const NodeOptions& options) {
  std::unique_ptr<ClusterNode> node(new ClusterNode(options));
  node->position_key_ = "cluster/" + options.log.stream;
  RECDB_ASSIGN_OR_RETURN(node->log_, EventLog::Connect(options.log));
  RECDB_ASSIGN_OR_RETURN(node->identity_, node->log_->OpenStream(options.create_stream));
  const uint32_t parts = node->identity_.partitions;
  node->owns_.assign(parts, options.owned.empty());
  for (uint32_t p : options.owned) {
    if (p >= parts) {
      return Status::InvalidArgument("owned partition " + std::to_string(p) + ": the stream has " +
                                     std::to_string(parts));
    }
    node->owns_[p] = true;
  }
  for (uint32_t p = 0; p < parts; ++p) {
    if (node->owns_[p]) node->owned_.push_back(p);
  }

  Options db_options = options.db_options;
  db_options.create_if_missing = true;
  RECDB_ASSIGN_OR_RETURN(node->db_, DB::Open(db_options, options.db_path));

  StatusOr<std::string> stored = node->db_->GetAppliedPosition(node->position_key_);
  if (stored.ok()) {
    StoredPosition pos;
    if (!ParsePosition(*stored, &pos)) {
      return Status::Corruption("applied position \"" + *stored + "\" is malformed");
    }
    if (pos.partitions != parts || pos.created_ns != node->identity_.created_ns) {
      return Status::FailedPrecondition(
          "database " + options.db_path + " was applied from another stream \"" +
          options.log.stream + "\" (partitions " + std::to_string(pos.partitions) + " vs " +
          std::to_string(parts) + ", created " + std::to_string(pos.created_ns) + " vs " +
          std::to_string(node->identity_.created_ns) +
          "): the log was recreated; rebuild this node");
    }
    if (pos.sequence > node->identity_.last_seq) {
      return Status::FailedPrecondition(
          "database " + options.db_path + " applied up to sequence " +
          std::to_string(pos.sequence) + " but the stream ends at " +
          std::to_string(node->identity_.last_seq) + ": the log lost messages; rebuild this node");
    }
    if (node->identity_.first_seq > 0 && pos.sequence + 1 < node->identity_.first_seq) {
      return Status::FailedPrecondition(
          "database " + options.db_path + " (or the snapshot it was restored from) applied up to "
          "sequence " + std::to_string(pos.sequence) + " but the stream now starts at " +
          std::to_string(node->identity_.first_seq) +
          ": the messages in between are gone; bootstrap from a newer snapshot");
    }
    node->applied_.store(pos.sequence);
  } else if (!stored.status().IsNotFound()) {
    return stored.status();
  } else if (node->identity_.first_seq > 1) {
    return Status::FailedPrecondition(
        "a new node cannot replay stream \"" + options.log.stream + "\": it starts at sequence " +
        std::to_string(node->identity_.first_seq) + ", not 1; bootstrap from a snapshot");
  }
  node->stats_.applied_sequence = node->applied_.load();
  return node;
}

StatusOr<std::unique_ptr<ClusterNode>> ClusterNode::Bootstrap(const std::string& snapshot,
                                                              const NodeOptions& options) {
  RestoreOptions ro;
  ro.open_options = options.db_options;
  RECDB_RETURN_IF_ERROR(DB::Restore(snapshot, options.db_path, ro).status());
  return Open(options);
}

StatusOr<std::unique_ptr<ClusterNode>> ClusterNode::BootstrapFromPublishedSnapshot(
    const NodeOptions& options, const ShipOptions& ship) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(options.db_path, ec) && !fs::is_empty(options.db_path, ec)) {
    return Status::AlreadyExists("bootstrap: " + options.db_path +
                                 " is not empty (not a new or wiped node)");
  }
  ShippedManifest chosen;
  {
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log, EventLog::Connect(options.log));
    RECDB_ASSIGN_OR_RETURN(StreamIdentity id, log->OpenStream(/*create=*/false));
    RECDB_ASSIGN_OR_RETURN(std::vector<ShippedManifest> all, ListShippedSnapshots(log.get()));
    bool found = false;
    for (const ShippedManifest& m : all) {  // newest first
      if (m.created_ns != id.created_ns || m.partitions != id.partitions) continue;
      bool covers = true;
      if (options.owned.empty()) {
        covers = m.owned.size() == id.partitions;
      } else {
        for (uint32_t p : options.owned) {
          covers = covers && std::binary_search(m.owned.begin(), m.owned.end(), p);
        }
      }
      if (covers) {
        chosen = m;
        found = true;
        break;
      }
    }
    if (!found) {
      return Status::NotFound("bootstrap: no snapshot of stream \"" + options.log.stream +
                              "\" holding this node's partitions is published (" +
                              std::to_string(all.size()) + " published)");
    }
    if (id.first_seq > 0 && chosen.position + 1 < id.first_seq) {
      return Status::FailedPrecondition(
          "bootstrap: the newest published snapshot " + chosen.id + " applied up to sequence " +
          std::to_string(chosen.position) + ", older than the stream's first sequence " +
          std::to_string(id.first_seq) +
          ": the messages in between are gone; publish a newer snapshot");
    }
    const std::string work = options.db_path + ".bootstrap";
    fs::remove_all(work, ec);
    const std::string snap = work + "/" + chosen.snapshot_name;
    Status s = FetchShippedSnapshot(log.get(), chosen, snap, ship);
    if (s.ok()) {
      RestoreOptions ro;
      ro.open_options = options.db_options;
      s = DB::Restore(snap, work + "/db", ro).status();
    }
    if (s.ok()) {
      fs::remove(options.db_path, ec);  // absent or empty
      fs::rename(work + "/db", options.db_path, ec);
      if (ec) s = Status::IOError("rename " + work + "/db to " + options.db_path + ": " + ec.message());
    }
    fs::remove_all(work, ec);
    RECDB_RETURN_IF_ERROR(s);
  }
  return Open(options);
}

StatusOr<ShippedManifest> ClusterNode::PublishSnapshot(const std::string& backup_dir,
                                                       const ShipOptions& ship, bool keep_local) {
  RECDB_RETURN_IF_ERROR(db_->SweepRetention().status());
  RECDB_ASSIGN_OR_RETURN(SnapshotInfo info, db_->CreateSnapshot(backup_dir));
  StatusOr<ShippedManifest> m =
      PublishSnapshotDir(log_.get(), identity_, info.path, owned_, ship);
  if (!keep_local) {
    std::error_code ec;
    std::filesystem::remove_all(info.path, ec);
  }
  return m;
}

ClusterNode::~ClusterNode() { (void)Close(); }

Status ClusterNode::Start() {
  if (applier_.joinable()) return Status::FailedPrecondition("applier already running");
  if (!options_.name.empty() && !ValidName(options_.name)) {
    return Status::InvalidArgument("node name \"" + options_.name +
                                   "\": want [A-Za-z0-9_-]{1,64}");
  }
  stop_.store(false);
  applier_ = std::thread([this] { ApplyLoop(); });
  if (!options_.name.empty()) reporter_ = std::thread([this] { ReportLoop(); });
  return Status::OK();
}

void ClusterNode::Stop() {
  {
    std::lock_guard lock(report_mu_);
    stop_.store(true);
  }
  report_cv_.notify_all();
  if (applier_.joinable()) applier_.join();
  if (reporter_.joinable()) reporter_.join();
}

void ClusterNode::SetAddress(const std::string& address) {
  std::lock_guard lock(report_mu_);
  address_ = address;
}

void ClusterNode::SetModelState(uint64_t version, bool trainer) {
  std::lock_guard lock(report_mu_);
  model_version_ = version;
  trainer_ = trainer;
}

NodeReport ClusterNode::Report() const {
  const NodeStats st = stats();
  NodeReport r;
  r.applied = st.applied_sequence;
  r.partitions = identity_.partitions;
  r.owned = owned_;
  r.stored = st.events_stored;
  r.counted_only = st.events_counted_only;
  r.dropped_forgotten = st.events_dropped_forgotten;
  r.updated_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  {
    std::lock_guard lock(report_mu_);
    r.address = address_;
    r.model_version = model_version_;
    r.trainer = trainer_;
  }
  r.error = st.apply_error;
  return r;
}

Status ClusterNode::ReportNow() {
  if (options_.name.empty()) return Status::InvalidArgument("the node has no name");
  return log_->PutNodeStatus(options_.name, FormatNodeReport(Report()));
}

void ClusterNode::ReportLoop() {
  // Not part of the apply path: the registry is advisory (status, routing).
  for (;;) {
    Status s = log_->PutNodeStatus(options_.name, FormatNodeReport(Report()));
    if (!s.ok()) {
      std::lock_guard lock(mu_);
      stats_.follow_error = "report: " + s.ToString();
    }
    std::unique_lock lock(report_mu_);
    if (report_cv_.wait_for(lock, std::chrono::milliseconds(options_.report_interval_ms),
                            [&] { return stop_.load(); })) {
      return;
    }
  }
}

std::string FormatPartitionSet(const std::vector<uint32_t>& partitions) {
  std::vector<uint32_t> p = partitions;
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  std::string out;
  for (size_t i = 0; i < p.size();) {
    size_t j = i;
    while (j + 1 < p.size() && p[j + 1] == p[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(p[i]);
    if (j > i) out += "-" + std::to_string(p[j]);
    i = j + 1;
  }
  return out;
}

Status ParsePartitionSet(const std::string& text, std::vector<uint32_t>* out) {
  out->clear();
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string part = text.substr(start, comma - start);
    unsigned long a = 0, b = 0;
    char extra = 0;
    const bool range = std::sscanf(part.c_str(), "%lu-%lu%c", &a, &b, &extra) == 2;
    if (!range) {
      if (std::sscanf(part.c_str(), "%lu%c", &a, &extra) != 1) {
        return Status::InvalidArgument("partition set \"" + text + "\": bad part \"" + part +
                                       "\"");
      }
      b = a;
    }
    if (b < a || b >= (1ul << 20)) {
      return Status::InvalidArgument("partition set \"" + text + "\": bad range \"" + part + "\"");
    }
    for (unsigned long p = a; p <= b; ++p) out->push_back(static_cast<uint32_t>(p));
    start = comma + 1;
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return Status::OK();
}

std::string FormatNodeReport(const NodeReport& r) {
  std::string error = r.error;
  for (char& c : error) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "v1 applied=" + std::to_string(r.applied) + " partitions=" + std::to_string(r.partitions) +
         " owned=" + FormatPartitionSet(r.owned) + " stored=" + std::to_string(r.stored) +
         " counted_only=" + std::to_string(r.counted_only) +
         " dropped_forgotten=" + std::to_string(r.dropped_forgotten) +
         " model=" + std::to_string(r.model_version) + " trainer=" + (r.trainer ? "1" : "0") +
         " updated_ms=" + std::to_string(r.updated_ms) + " address=" + r.address +
         " error=" + error;
}

Status ParseNodeReport(const std::string& line, NodeReport* out) {
  *out = NodeReport{};
  if (line.rfind("v1 ", 0) != 0) return Status::Corruption("node report \"" + line + "\": not v1");
  const size_t err = line.find(" error=");
  if (err == std::string::npos) return Status::Corruption("node report without error=");
  out->error = line.substr(err + 7);
  size_t start = 3;
  const std::string head = line.substr(0, err);
  while (start < head.size()) {
    size_t sp = head.find(' ', start);
    if (sp == std::string::npos) sp = head.size();
    const std::string field = head.substr(start, sp - start);
    start = sp + 1;
    const size_t eq = field.find('=');
    if (eq == std::string::npos) return Status::Corruption("node report field \"" + field + "\"");
    const std::string k = field.substr(0, eq), v = field.substr(eq + 1);
    const unsigned long long n = std::strtoull(v.c_str(), nullptr, 10);
    if (k == "applied") out->applied = n;
    else if (k == "partitions") out->partitions = static_cast<uint32_t>(n);
    else if (k == "owned") {
      Status s = ParsePartitionSet(v, &out->owned);
      if (!s.ok()) return Status::Corruption(s.message());
    } else if (k == "stored") out->stored = n;
    else if (k == "counted_only") out->counted_only = n;
    else if (k == "dropped_forgotten") out->dropped_forgotten = n;
    else if (k == "model") out->model_version = n;
    else if (k == "trainer") out->trainer = n != 0;
    else if (k == "updated_ms") out->updated_ms = static_cast<int64_t>(n);
    else if (k == "address") out->address = v;
    // unknown fields: a newer node; ignored
  }
  return Status::OK();
}

Status ClusterNode::Close() {
  Stop();
  Status s;
  if (db_ != nullptr) {
    s = db_->Close();
    db_.reset();
  }
  log_.reset();
  return s;
}

bool ClusterNode::Owns(const std::string& user) const {
  return owns_[PartitionOf(user, identity_.partitions)];
}

NodeStats ClusterNode::stats() const {
  std::lock_guard lock(mu_);
  NodeStats s = stats_;
  s.applied_sequence = applied_.load();
  return s;
}

std::string ClusterNode::PositionValue(uint64_t sequence) const {
  return "v1 seq=" + std::to_string(sequence) + " created=" +
         std::to_string(identity_.created_ns) + " partitions=" +
         std::to_string(identity_.partitions);
}

Status ClusterNode::EventMessages(const std::vector<ClusterEvent>& events,
                                  std::vector<OutMessage>* messages) const {
  messages->assign(events.size(), OutMessage{});
  for (size_t i = 0; i < events.size(); ++i) {
    const ClusterEvent& ce = events[i];
    const std::string where = "events[" + std::to_string(i) + "]";
    if (ce.id.empty() || ce.id.size() > kMaxIdBytes) {
      return Status::InvalidArgument(where + ".id: empty or over " + std::to_string(kMaxIdBytes) +
                                     " bytes");
    }
    if (ce.event.user.empty() || ce.event.item.empty()) {
      return Status::InvalidArgument(where + ": empty user or item");
    }
    (*messages)[i].partition = PartitionOf(ce.event.user, identity_.partitions);
    (*messages)[i].id = ce.id;
    EncodeEvent(ce.event, &(*messages)[i].body);
  }
  return Status::OK();
}

StatusOr<WriteReceipt> ClusterNode::RecordEvents(const std::vector<ClusterEvent>& events) {
  std::vector<OutMessage> messages;
  RECDB_RETURN_IF_ERROR(EventMessages(events, &messages));
  return PublishWatched(messages, {}, -1);
}

StatusOr<WriteReceipt> ClusterNode::RecordEventsAndWait(const std::vector<ClusterEvent>& events,
                                                        int wait_ms) {
  std::vector<OutMessage> messages;
  RECDB_RETURN_IF_ERROR(EventMessages(events, &messages));
  std::vector<bool> mine(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) mine[i] = owns_[messages[i].partition];
  return PublishWatched(messages, mine, std::max(wait_ms, 0));
}

StatusOr<WriteReceipt> ClusterNode::PublishWatched(const std::vector<OutMessage>& messages,
                                                   const std::vector<bool>& mine, int wait_ms) {
  uint64_t token = 0;
  int64_t owned = 0;
  if (wait_ms >= 0) {
    std::lock_guard lock(mu_);
    token = next_watch_++;
    watches_[token] = WatchCounts{};
    for (size_t i = 0; i < messages.size(); ++i) {
      if (!mine[i]) continue;
      if (watched_ids_.emplace(messages[i].id, token).second) ++owned;
    }
  }
  auto unwatch = [&] {
    std::lock_guard lock(mu_);
    for (const OutMessage& m : messages) {
      auto it = watched_ids_.find(m.id);
      if (it != watched_ids_.end() && it->second == token) watched_ids_.erase(it);
    }
    WatchCounts c = watches_[token];
    watches_.erase(token);
    return c;
  };
  WriteReceipt receipt;
  Status s = log_->Publish(messages, &receipt.sequences);
  if (!s.ok()) {
    if (wait_ms >= 0) unwatch();
    return s;
  }
  for (uint64_t q : receipt.sequences) receipt.last_sequence = std::max(receipt.last_sequence, q);
  if (wait_ms < 0) return receipt;
  receipt.owned = owned;
  receipt.applied = WaitForSequence(receipt.last_sequence, wait_ms).ok();
  const WatchCounts c = unwatch();
  if (receipt.applied) {
    receipt.result = c.result;
    receipt.rejected = c.rejected;
  }
  return receipt;
}

namespace {

Status CheckRecordId(const std::string& where, const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return Status::InvalidArgument(where + ".id: empty or over " + std::to_string(kMaxIdBytes) +
                                   " bytes");
  }
  return Status::OK();
}

}  // namespace

StatusOr<WriteReceipt> ClusterNode::UpsertItems(const std::vector<ClusterItem>& items,
                                                int wait_ms) {
  std::vector<OutMessage> messages(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where = "items[" + std::to_string(i) + "]";
    RECDB_RETURN_IF_ERROR(CheckRecordId(where, items[i].id));
    if (items[i].item.id.empty()) return Status::InvalidArgument(where + ": empty item id");
    messages[i].partition = EventLog::kGlobalPartition;
    messages[i].id = items[i].id;
    EncodeItem(items[i].item, &messages[i].body);
  }
  return PublishWatched(messages, std::vector<bool>(messages.size(), true), wait_ms);
}

StatusOr<WriteReceipt> ClusterNode::UpsertUsers(const std::vector<ClusterUser>& users,
                                                int wait_ms) {
  std::vector<OutMessage> messages(users.size());
  std::vector<bool> mine(users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    const std::string where = "users[" + std::to_string(i) + "]";
    RECDB_RETURN_IF_ERROR(CheckRecordId(where, users[i].id));
    if (users[i].user.id.empty()) return Status::InvalidArgument(where + ": empty user id");
    messages[i].partition = PartitionOf(users[i].user.id, identity_.partitions);
    messages[i].id = users[i].id;
    EncodeUser(users[i].user, &messages[i].body);
    mine[i] = owns_[messages[i].partition];
  }
  return PublishWatched(messages, mine, wait_ms);
}

StatusOr<WriteReceipt> ClusterNode::RecordImpressions(
    const std::vector<ClusterImpression>& impressions, int wait_ms) {
  std::vector<OutMessage> messages(impressions.size());
  std::vector<bool> mine(impressions.size());
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (size_t i = 0; i < impressions.size(); ++i) {
    const std::string where = "impressions[" + std::to_string(i) + "]";
    RECDB_RETURN_IF_ERROR(CheckRecordId(where, impressions[i].id));
    ImpressionRecord imp = impressions[i].impression;
    if (imp.user.empty() || imp.items.empty()) {
      return Status::InvalidArgument(where + ": empty user or no items");
    }
    if (imp.context.timestamp == 0) imp.context.timestamp = now;  // the producer's clock
    messages[i].partition = PartitionOf(imp.user, identity_.partitions);
    messages[i].id = impressions[i].id;
    EncodeImpression(imp, &messages[i].body);
    mine[i] = owns_[messages[i].partition];
  }
  return PublishWatched(messages, mine, wait_ms);
}

StatusOr<ForgetReceipt> ClusterNode::ForgetUser(const std::string& request_id,
                                                const std::string& user, int timeout_ms) {
  if (request_id.empty() || request_id.size() > kMaxIdBytes || user.empty()) {
    return Status::InvalidArgument("forget: empty or oversize request id, or empty user");
  }
  const uint32_t partition = PartitionOf(user, identity_.partitions);
  std::vector<OutMessage> marker(1);
  marker[0].partition = partition;
  marker[0].id = request_id;
  EncodeForgetMarker(user, &marker[0].body);
  std::vector<uint64_t> seqs;
  RECDB_RETURN_IF_ERROR(log_->Publish(marker, &seqs));
  ForgetReceipt receipt;
  receipt.marker_sequence = seqs[0];

  // Erase the user's earlier events: one pass over the partition's subject
  // up to the marker.
  RECDB_ASSIGN_OR_RETURN(StreamIdentity id, log_->Describe(options_.log.api_timeout_ms));
  if (id.first_seq < receipt.marker_sequence) {
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<LogReader> reader,
                           log_->Follow(id.first_seq, static_cast<int64_t>(partition)));
    const auto start = std::chrono::steady_clock::now();
    LogMessage msg;
    LogRecord rec;
    for (;;) {
      if (std::chrono::steady_clock::now() - start > std::chrono::milliseconds(timeout_ms)) {
        return Status::Aborted("forget: erasing the user's messages did not reach sequence " +
                               std::to_string(receipt.marker_sequence) + " within " +
                               std::to_string(timeout_ms) + " ms; call again");
      }
      RECDB_ASSIGN_OR_RETURN(bool got, reader->Next(2000, &msg));
      if (!got) continue;
      if (msg.stream_seq >= receipt.marker_sequence) break;
      // The user's events, user upserts and impressions (not the marker).
      if (DecodeLogRecord(msg.body, &rec).ok() && !rec.is_forget &&
          rec.partition_user() == user) {
        Status s = log_->Erase(msg.stream_seq);
        if (!s.ok() && !s.IsNotFound()) return s;
        if (s.ok()) receipt.erased_messages++;
      }
    }
  }
  // Published snapshots from before the marker hold the user's events.
  RECDB_ASSIGN_OR_RETURN(int retired, RetireShippedSnapshotsBefore(log_.get(),
                                                                   receipt.marker_sequence,
                                                                   static_cast<int64_t>(partition)));
  receipt.retired_snapshots = retired;
  // So do published models trained before the marker (trainer.h): the next
  // version, trained after the trainer applied the marker, has no trace.
  RECDB_ASSIGN_OR_RETURN(receipt.retired_models,
                         RetirePublishedModelsBefore(log_.get(), receipt.marker_sequence));
  return receipt;
}

Status ClusterNode::ApplyForget(const std::string& user, uint64_t sequence) {
  StatusOr<ErasureReceipt> r = db_->ForgetUser(user);
  // NotFound: the user never had an event here; FailedPrecondition: already
  // in the ledger (a replay after a crash between the forget and the
  // position commit). Both leave the same state on every replica.
  Status s = r.status();
  if (s.IsNotFound() || s.IsFailedPrecondition()) s = Status::OK();
  if (s.ok()) {
    WriteOptions wo;
    wo.applied_position_key = position_key_;
    wo.applied_position_value = PositionValue(sequence);
    s = db_->RecordEvents(wo, {});
  }
  std::lock_guard lock(mu_);
  if (!s.ok()) {
    stats_.apply_error = s.ToString();
    applied_cv_.notify_all();
    return s;
  }
  stats_.forgets_applied++;
  applied_.store(sequence, std::memory_order_release);
  applied_cv_.notify_all();
  return Status::OK();
}

Status ClusterNode::WaitForSequence(uint64_t sequence, int timeout_ms) {
  std::unique_lock lock(mu_);
  const bool done = applied_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return applied_.load() >= sequence || !stats_.apply_error.empty();
  });
  if (applied_.load() >= sequence) return Status::OK();
  if (!stats_.apply_error.empty()) {
    return Status::FailedPrecondition("sequence " + std::to_string(sequence) +
                                      " will not be applied: the applier stopped: " +
                                      stats_.apply_error);
  }
  (void)done;
  return Status::FailedPrecondition("sequence " + std::to_string(sequence) +
                                    " not applied within " + std::to_string(timeout_ms) +
                                    " ms (applied " + std::to_string(applied_.load()) + ")");
}

StatusOr<std::vector<Event>> ClusterNode::GetUserHistory(const std::string& user,
                                                         uint64_t min_sequence, int timeout_ms) {
  if (!Owns(user)) {
    return Status::FailedPrecondition("user \"" + user + "\" is in partition " +
                                      std::to_string(PartitionOf(user, identity_.partitions)) +
                                      ", not owned by this node");
  }
  if (min_sequence > 0) RECDB_RETURN_IF_ERROR(WaitForSequence(min_sequence, timeout_ms));
  return db_->GetUserHistory(user);
}

Status ClusterNode::CheckLog(int timeout_ms) {
  RECDB_ASSIGN_OR_RETURN(StreamIdentity id, log_->Describe(timeout_ms));
  if (id.leader.empty() || id.healthy_replicas <= id.replicas / 2) {
    return Status::Aborted("no quorum: stream \"" + options_.log.stream + "\" has " +
                           (id.leader.empty() ? "no leader" : "leader " + id.leader) + " and " +
                           std::to_string(id.healthy_replicas) + " of " +
                           std::to_string(id.replicas) + " replicas reachable");
  }
  return Status::OK();
}

StatusOr<RecordDigest> ClusterNode::Digest() {
  return ComputeRecordDigest(*db_, identity_.partitions, owned_);
}

Status ClusterNode::ApplyRun(const Event* events, const uint64_t* seqs, size_t n, uint64_t last,
                             RecordEventsResult* result, int64_t* rejected) {
  WriteOptions wo;
  wo.applied_position_key = position_key_;
  wo.applied_position_value = PositionValue(last);
  const std::vector<Event> run(events, events + n);
  RecordEventsResult r;
  Status s = db_->RecordEvents(wo, run, &r);
  if (s.ok()) {
    result->stored += r.stored;
    result->counted_only += r.counted_only;
    result->dropped_forgotten += r.dropped_forgotten;
    return s;
  }
  if (!s.IsInvalidArgument()) return s;
  // One event the database refuses (unknown type, bad timestamp, ...):
  // apply the run one event at a time, each with its own position, and
  // skip the refused ones. Every replica refuses the same ones.
  for (size_t i = 0; i < n; ++i) {
    WriteOptions one = wo;
    one.applied_position_value = PositionValue(seqs[i]);
    RecordEventsResult r1;
    s = db_->RecordEvents(one, {events[i]}, &r1);
    if (s.IsInvalidArgument()) {
      ++*rejected;
      s = db_->RecordEvents(one, {});
    } else if (s.ok()) {
      result->stored += r1.stored;
      result->counted_only += r1.counted_only;
      result->dropped_forgotten += r1.dropped_forgotten;
    }
    if (!s.ok()) return s;
  }
  return db_->RecordEvents(wo, {});
}

Status ClusterNode::ApplyBatch(const std::vector<Event>& events,
                               const std::vector<uint64_t>& seqs,
                               const std::vector<uint64_t>& watch, uint64_t last) {
  // Runs of equal watch token, in log order; the last run carries `last`
  // (which may be past its last event: skipped messages of other partitions).
  Status s;
  RecordEventsResult total;
  int64_t total_rejected = 0;
  std::vector<std::pair<uint64_t, WatchCounts>> per_watch;
  size_t begin = 0;
  do {
    size_t end = std::min(begin + 1, events.size());
    while (end < events.size() && watch[end] == watch[begin]) ++end;
    const uint64_t pos = end == events.size() ? last : seqs[end - 1];
    WatchCounts c;
    s = ApplyRun(events.data() + begin, seqs.data() + begin, end - begin, pos, &c.result,
                 &c.rejected);
    if (!s.ok()) break;
    total.stored += c.result.stored;
    total.counted_only += c.result.counted_only;
    total.dropped_forgotten += c.result.dropped_forgotten;
    total_rejected += c.rejected;
    if (begin < events.size() && watch[begin] != 0) per_watch.emplace_back(watch[begin], c);
    begin = end;
  } while (begin < events.size());
  std::lock_guard lock(mu_);
  if (!s.ok()) {
    stats_.apply_error = s.ToString();
    applied_cv_.notify_all();
    return s;
  }
  stats_.events_applied += events.size() - static_cast<uint64_t>(total_rejected);
  stats_.batches_applied++;
  stats_.rejected += static_cast<uint64_t>(total_rejected);
  stats_.events_stored += static_cast<uint64_t>(total.stored);
  stats_.events_counted_only += static_cast<uint64_t>(total.counted_only);
  stats_.events_dropped_forgotten += static_cast<uint64_t>(total.dropped_forgotten);
  for (const auto& [token, c] : per_watch) {
    auto it = watches_.find(token);
    if (it == watches_.end()) continue;
    it->second.result.stored += c.result.stored;
    it->second.result.counted_only += c.result.counted_only;
    it->second.result.dropped_forgotten += c.result.dropped_forgotten;
    it->second.rejected += c.rejected;
  }
  applied_.store(last, std::memory_order_release);
  applied_cv_.notify_all();
  return Status::OK();
}

Status ClusterNode::ApplyRecords(const RecordRun& run, uint64_t last) {
  const bool items = run.kind == LogRecord::Kind::kItem;
  WriteOptions wo;
  wo.applied_position_key = position_key_;
  wo.applied_position_value = PositionValue(last);
  auto upsert = [&](const WriteOptions& o, size_t begin, size_t end) {
    if (items) {
      return db_->UpsertItems(
          o, std::vector<Item>(run.items.begin() + begin, run.items.begin() + end));
    }
    return db_->UpsertUsers(
        o, std::vector<User>(run.users.begin() + begin, run.users.begin() + end));
  };
  int64_t applied = 0, rejected = 0;
  std::vector<std::pair<uint64_t, int64_t>> applied_by, rejected_by;
  Status s = upsert(wo, 0, run.size());
  if (s.ok()) {
    applied = static_cast<int64_t>(run.size());
    for (uint64_t t : run.watch) {
      if (t != 0) applied_by.emplace_back(t, 1);
    }
  } else if (s.IsInvalidArgument()) {
    // A record the database refuses (a limit of records.h): one at a time,
    // each with its own position; every replica refuses the same ones.
    s = Status::OK();
    for (size_t i = 0; i < run.size() && s.ok(); ++i) {
      WriteOptions one = wo;
      one.applied_position_value = PositionValue(run.seqs[i]);
      s = upsert(one, i, i + 1);
      if (s.IsInvalidArgument()) {
        ++rejected;
        if (run.watch[i] != 0) rejected_by.emplace_back(run.watch[i], 1);
        s = db_->RecordEvents(one, {});  // only the position
      } else if (s.ok()) {
        ++applied;
        if (run.watch[i] != 0) applied_by.emplace_back(run.watch[i], 1);
      }
    }
    if (s.ok()) s = db_->RecordEvents(wo, {});
  }
  return FinishApply(s, last, run.kind, applied, rejected, applied_by, rejected_by);
}

Status ClusterNode::ApplyImpression(const ImpressionRecord& imp, uint64_t sequence,
                                    uint64_t token) {
  WriteOptions wo;
  wo.applied_position_key = position_key_;
  wo.applied_position_value = PositionValue(sequence);
  // A timestamp of 0 would make the database read its clock: refused (the
  // producer always sets it; ClusterNode::RecordImpressions does).
  Status s = imp.context.timestamp == 0
                 ? Status::InvalidArgument("impression without a timestamp")
                 : db_->RecordImpressions(wo, imp.user, imp.items, imp.context);
  int64_t applied = 0, rejected = 0;
  if (s.ok()) {
    applied = 1;
  } else if (s.IsInvalidArgument() || s.IsNotFound()) {  // unknown user or item, limits
    rejected = 1;
    s = db_->RecordEvents(wo, {});  // only the position
  }
  std::vector<std::pair<uint64_t, int64_t>> by;
  if (token != 0) by.emplace_back(token, 1);
  return FinishApply(s, sequence, LogRecord::Kind::kImpression, applied, rejected,
                     applied > 0 ? by : std::vector<std::pair<uint64_t, int64_t>>{},
                     rejected > 0 ? by : std::vector<std::pair<uint64_t, int64_t>>{});
}

Status ClusterNode::FinishApply(
    const Status& s, uint64_t last, LogRecord::Kind kind, int64_t applied, int64_t rejected,
    const std::vector<std::pair<uint64_t, int64_t>>& applied_by_watch,
    const std::vector<std::pair<uint64_t, int64_t>>& rejected_by_watch) {
  std::lock_guard lock(mu_);
  if (!s.ok()) {
    stats_.apply_error = s.ToString();
    applied_cv_.notify_all();
    return s;
  }
  const auto n = static_cast<uint64_t>(applied);
  if (kind == LogRecord::Kind::kItem) stats_.items_applied += n;
  if (kind == LogRecord::Kind::kUser) stats_.users_applied += n;
  if (kind == LogRecord::Kind::kImpression) stats_.impressions_applied += n;
  stats_.rejected += static_cast<uint64_t>(rejected);
  for (const auto& [token, k] : applied_by_watch) {
    auto it = watches_.find(token);
    if (it != watches_.end()) it->second.result.stored += k;
  }
  for (const auto& [token, k] : rejected_by_watch) {
    auto it = watches_.find(token);
    if (it != watches_.end()) it->second.rejected += k;
  }
  applied_.store(last, std::memory_order_release);
  applied_cv_.notify_all();
  return Status::OK();
}

void ClusterNode::ApplyLoop() {
  std::unique_ptr<LogReader> reader;
  uint64_t last_consumer_seq = 0;
  std::vector<Event> events;
  std::vector<uint64_t> seqs;
  std::vector<uint64_t> watch;
  RecordRun run;  // item or user upserts; never pending together with events
  LogMessage msg;
  // Commits what is pending (events, or a run of upserts) with position
  // `pos`; nothing when pos is applied already.
  auto flush = [&](uint64_t pos) -> bool {
    bool ok = true;
    if (pos > applied_.load()) {
      ok = run.size() > 0 ? ApplyRecords(run, pos).ok() : ApplyBatch(events, seqs, watch, pos).ok();
    }
    events.clear();
    seqs.clear();
    watch.clear();
    run.clear();
    return ok;  // false: apply_error is set
  };
  auto token_of = [&](const std::string& id) -> uint64_t {
    std::lock_guard lock(mu_);
    if (watched_ids_.empty()) return 0;
    auto it = watched_ids_.find(id);
    return it == watched_ids_.end() ? 0 : it->second;
  };
  auto note_follow_problem = [&](const Status& s) {
    std::lock_guard lock(mu_);
    stats_.follow_error = s.ToString();
    stats_.resubscribes++;
  };
  while (!stop_.load()) {
    if (reader == nullptr) {
      StatusOr<std::unique_ptr<LogReader>> r = log_->Follow(applied_.load() + 1);
      if (!r.ok()) {
        note_follow_problem(r.status());
        std::this_thread::sleep_for(std::chrono::milliseconds(options_.idle_wait_ms));
        continue;
      }
      reader = std::move(r).value();
      last_consumer_seq = 0;
    }
    // Gather one batch: up to apply_batch owned events, ending early when
    // the consumer has had nothing pending for apply_linger_ms.
    events.clear();
    seqs.clear();
    watch.clear();
    run.clear();
    uint64_t batch_last = applied_.load();
    bool restart = false;
    int wait_ms = options_.idle_wait_ms;
    // When the batch's first message arrived: bounds its lingering (only
    // where the batch ends depends on the clock, never what it writes).
    std::chrono::steady_clock::time_point opened;
    bool first = true;
    while (events.size() + run.size() < options_.apply_batch && !stop_.load()) {
      StatusOr<bool> got = reader->Next(wait_ms, &msg);
      if (!got.ok()) {
        note_follow_problem(got.status());
        restart = true;
        break;
      }
      if (!*got) break;  // nothing within wait_ms (also a linger's end)
      if (first) {
        opened = std::chrono::steady_clock::now();
        first = false;
      }
      {
        std::lock_guard lock(mu_);
        stats_.messages_seen++;
      }
      // Consumer sequences run 1, 2, 3, ...; libnats restarts an ordered
      // consumer from its last stream sequence on trouble, which starts
      // again at 1. Any other jump means a message was skipped.
      if (last_consumer_seq != 0 && msg.consumer_seq != last_consumer_seq + 1 &&
          msg.consumer_seq != 1) {
        note_follow_problem(Status::Aborted(
            "consumer sequence gap: " + std::to_string(last_consumer_seq) + " -> " +
            std::to_string(msg.consumer_seq) + " at stream sequence " +
            std::to_string(msg.stream_seq)));
        restart = true;
        break;
      }
      last_consumer_seq = msg.consumer_seq;
      if (msg.stream_seq <= batch_last) {
        std::lock_guard lock(mu_);
        stats_.redelivered++;
        continue;
      }
      const uint64_t before = batch_last;
      batch_last = msg.stream_seq;
      uint32_t partition = 0;
      LogRecord rec;
      const bool parsed = log_->ParseSubject(msg.subject, &partition);
      const bool global = parsed && partition == EventLog::kGlobalPartition;  // items
      if (!parsed || (!global && partition >= owns_.size())) {
        std::lock_guard lock(mu_);
        stats_.rejected++;
      } else if (!global && !owns_[partition]) {
        std::lock_guard lock(mu_);
        stats_.skipped_not_owned++;
      } else if (!DecodeLogRecord(msg.body, &rec).ok() ||
                 (global ? rec.kind != LogRecord::Kind::kItem
                         : rec.kind == LogRecord::Kind::kItem ||
                               PartitionOf(rec.partition_user(), identity_.partitions) !=
                                   partition)) {
        // Undecodable, an item off the items subject (or something else on
        // it), or a user's message on another partition's subject.
        std::lock_guard lock(mu_);
        stats_.rejected++;
      } else if (rec.kind == LogRecord::Kind::kForget ||
                 rec.kind == LogRecord::Kind::kImpression) {
        // Everything before it first, then it, each committed with its
        // position.
        if (!flush(before)) return;
        if (rec.kind == LogRecord::Kind::kForget) {
          if (!ApplyForget(rec.forget_user, msg.stream_seq).ok()) return;
        } else if (!ApplyImpression(rec.impression, msg.stream_seq, token_of(msg.id)).ok()) {
          return;
        }
      } else if (rec.kind == LogRecord::Kind::kEvent) {
        if (run.size() > 0 && !flush(before)) return;
        events.push_back(std::move(rec.event));
        seqs.push_back(msg.stream_seq);
        watch.push_back(token_of(msg.id));
      } else {  // an item or user upsert: runs of one kind
        if ((!events.empty() || (run.size() > 0 && run.kind != rec.kind)) && !flush(before)) {
          return;
        }
        run.kind = rec.kind;
        if (rec.kind == LogRecord::Kind::kItem) {
          run.items.push_back(std::move(rec.item));
        } else {
          run.users.push_back(std::move(rec.user));
        }
        run.seqs.push_back(msg.stream_seq);
        run.watch.push_back(token_of(msg.id));
      }
      if (msg.pending == 0) {
        // Caught up: linger for the rest of a write still being stored.
        const auto linger = std::chrono::milliseconds(options_.apply_linger_ms);
        if (options_.apply_linger_ms <= 0 ||
            std::chrono::steady_clock::now() - opened >= NodeOptions::kMaxLingerFactor * linger) {
          break;
        }
        wait_ms = options_.apply_linger_ms;
      } else {
        wait_ms = std::min(options_.idle_wait_ms, 50);
      }
    }
    if (!flush(batch_last)) return;  // apply_error is set
    if (restart) reader.reset();  // resubscribe from applied + 1
  }
}

}  // namespace recdb::cluster
