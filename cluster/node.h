// ClusterNode: one recdb database that follows a JetStream event log.
//
// The node is a deterministic state machine over the stream: an applier
// thread consumes "<stream>.ev.*" with an ordered consumer in stream
// sequence order, applies the events, user upserts and impressions of the
// partitions it owns and every item upsert through the public DB write calls,
// and commits the last stream sequence of each batch
// in the SAME RocksDB write (WriteOptions::applied_position_*), so a kill -9
// at any point resumes at applied + 1 with no gap and no double. Writes made
// through any node are published to the log (message id = event id) and
// acknowledged only once JetStream stored them on a quorum; they reach this
// node's database when its applier gets to their sequence.
//
// One consumer over the whole stream, not one per owned partition: nats-server
// 2.9 gives a consumer one filter subject, and with one consumer the applied
// position is a single stream sequence, which makes read-your-writes one
// comparison. The cost: a node receives every partition's messages and skips
// those it does not own.
//
// Thread-safety: every public method is safe to call from many threads.
// RecordEvents calls are serialised (one publish batch in flight per node).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/digest.h"
#include "cluster/event_codec.h"
#include "cluster/event_log.h"
#include "cluster/snapshot_ship.h"
#include "recdb/db.h"

namespace recdb::cluster {

struct NodeOptions {
  LogOptions log;
  // The node's database directory, and the options it is opened with
  // (create_if_missing is forced on).
  std::string db_path;
  Options db_options;
  // Partitions this node applies; empty = all. A user's events live in
  // partition PartitionOf(user, partitions).
  std::vector<uint32_t> owned;
  // Create the stream (log.partitions, log.replicas) if it does not exist.
  bool create_stream = true;
  // Most log messages applied in one RocksDB write. Larger batches apply
  // faster; a kill -9 loses (and redoes) at most one uncommitted batch.
  size_t apply_batch = 1024;
  // How long the applier waits for a message when caught up (ms); also the
  // latency of Stop.
  int idle_wait_ms = 200;
  // When the consumer has nothing pending (the applier caught up with the
  // stream's tail, often in the middle of a write whose other messages are
  // still being stored), wait up to this long (ms) for one more message
  // before committing the batch, for at most kMaxLingerFactor times this
  // since the batch's first message. Each RocksDB commit costs about as much
  // as 6-8 events beyond its own events (stats log entry, counters,
  // position, WAL record): without lingering, a follower of a stream of
  // 100-event writes committed a few events at a time and paid twice a
  // standalone database's write cost (docs/BENCHMARKS.md). 0: commit as soon
  // as nothing is pending. Only where batches end depends on it (and on
  // time), never what a batch writes. Default 2 ms. Cost: up to that much
  // (at most kMaxLingerFactor times that) more write-to-applied lag.
  int apply_linger_ms = 2;
  static constexpr int kMaxLingerFactor = 5;
  // A name ([A-Za-z0-9_-]{1,64}) under which the node reports its status
  // (NodeReport) to the stream's node registry (EventLog::PutNodeStatus)
  // every report_interval_ms while it runs; empty: no reports.
  std::string name;
  int report_interval_ms = 1000;
};

// What a node reports to the registry, one line of text:
//   "v1 applied=S partitions=N owned=0-31,40 stored=A counted_only=B
//    dropped_forgotten=C model=V trainer=0|1 updated_ms=T address=ADDR error=TEXT"
// (model: the model version (trainer.h) the node serves, 0 = none
// installed through the log; trainer: it holds the trainer lock; both set by
// a ModelLoop, absent from an older node's report = 0; address: where the
// node serves HTTP, "" if it does not; error: the applier's apply_error,
// rest of the line, "" when fine).
struct NodeReport {
  uint64_t applied = 0;
  uint32_t partitions = 0;
  std::vector<uint32_t> owned;
  uint64_t stored = 0;
  uint64_t counted_only = 0;
  uint64_t dropped_forgotten = 0;
  uint64_t model_version = 0;
  bool trainer = false;
  int64_t updated_ms = 0;  // the node's wall clock (Unix ms) when it reported
  std::string address;
  std::string error;
};
std::string FormatNodeReport(const NodeReport& r);
// Errors: Corruption for a line that is not a v1 report.
Status ParseNodeReport(const std::string& line, NodeReport* out);
// "0-31,40" <-> {0..31, 40} (sorted, distinct).
std::string FormatPartitionSet(const std::vector<uint32_t>& partitions);
Status ParsePartitionSet(const std::string& text, std::vector<uint32_t>* out);

// The applied position a node stores under "cluster/<stream>" in its
// database: "v1 seq=S created=C partitions=N".
struct AppliedPosition {
  uint64_t sequence = 0;
  int64_t created_ns = 0;
  uint32_t partitions = 0;
};
bool ParseAppliedPosition(const std::string& value, AppliedPosition* out);

// What a write returned: the stream sequence of each event (in the call's
// order) and the largest, to pass to a later read (read your writes).
struct WriteReceipt {
  std::vector<uint64_t> sequences;
  uint64_t last_sequence = 0;
  // RecordEventsAndWait only: whether this node applied last_sequence within
  // the wait, and then what its database did with the call's events of the
  // partitions it owns (the DB's RecordEventsResult, plus those it refused).
  // owned - stored - counted_only - dropped_forgotten - rejected events were
  // applied before the call (re-sent ids: JetStream returned the first copy).
  bool applied = false;
  int64_t owned = 0;
  RecordEventsResult result;
  int64_t rejected = 0;
};

// An event with its id. The id is the JetStream message id: a write retried
// with the same ids within the duplicate window is stored once.
struct ClusterEvent {
  std::string id;
  Event event;
};

// Item and user upserts and impressions, each with the id it is published
// under (the JetStream message id, as ClusterEvent::id).
struct ClusterItem {
  std::string id;
  Item item;
};
struct ClusterUser {
  std::string id;
  User user;
};
struct ClusterImpression {
  std::string id;
  ImpressionRecord impression;  // event_codec.h
};

// What ForgetUser did.
struct ForgetReceipt {
  uint64_t marker_sequence = 0;  // where every replica forgets the user
  int64_t erased_messages = 0;   // the user's earlier events erased from the stream
  // Published snapshots (snapshot_ship.h) taken before the marker that hold
  // the user's partition, retired (manifest and chunk stream deleted).
  int64_t retired_snapshots = 0;
  // Published models (trainer.h) whose training started before the marker
  // (position < marker), retired (manifest and chunk stream deleted). Nodes
  // that installed one keep serving it from memory until the next version.
  int64_t retired_models = 0;
};

struct NodeStats {
  uint64_t applied_sequence = 0;    // last stream sequence committed with the data
  uint64_t messages_seen = 0;       // delivered by the consumer since Open
  uint64_t events_applied = 0;      // owned events handed to RecordEvents
  uint64_t batches_applied = 0;     // the applier's commits of events (ApplyBatch)
  // What the database did with them (DB::RecordEvents' RecordEventsResult):
  // stored, only counted (consent), dropped (user in the forget ledger).
  uint64_t events_stored = 0;
  uint64_t events_counted_only = 0;
  uint64_t events_dropped_forgotten = 0;
  uint64_t skipped_not_owned = 0;   // messages of other partitions
  uint64_t rejected = 0;            // malformed, misrouted or refused by the DB (InvalidArgument)
  uint64_t redelivered = 0;         // at or below the applied sequence: skipped
  uint64_t resubscribes = 0;        // consumer gaps, drops or errors
  uint64_t forgets_applied = 0;     // forget markers of owned partitions
  // Item upserts (every node applies every item), user upserts and
  // impressions (owned partitions) the database took; refused ones count in
  // `rejected`.
  uint64_t items_applied = 0;
  uint64_t users_applied = 0;
  uint64_t impressions_applied = 0;
  std::string apply_error;          // non-empty: the applier stopped on this error
  std::string follow_error;         // last subscribe / delivery problem, if any
};

class ClusterNode {
 public:
  // Connects to the log, opens (or creates) the stream and the database,
  // and checks that the database's stored position belongs to this stream.
  // Does not start applying: call Start.
  // Errors: those of EventLog::Connect/OpenStream and DB::Open;
  // FailedPrecondition if the database was applied from a stream with
  // another partition count or creation time (the log was recreated), its
  // applied sequence is past the stream's last (the log lost messages) or
  // before the stream's first - 1 (messages it needs are gone; also a new,
  // empty database when the stream no longer starts at 1): such a node must
  // be rebuilt from a newer snapshot, never continued.
  [[nodiscard]] static StatusOr<std::unique_ptr<ClusterNode>> Open(const NodeOptions& options);

  // A new node from a snapshot of another node's database (DB::CreateSnapshot:
  // the snapshot holds that node's applied position, committed with its
  // data): restores `snapshot` into options.db_path (a new directory), then
  // Open, which resumes the log at the snapshot's position + 1. Owned
  // partitions should be a subset of the snapshot node's.
  // Errors: those of DB::Restore and Open; in particular FailedPrecondition
  // for a snapshot older than the stream's first sequence (the messages
  // after it are gone), never served silently.
  [[nodiscard]] static StatusOr<std::unique_ptr<ClusterNode>> Bootstrap(
      const std::string& snapshot, const NodeOptions& options);

  // A new or wiped node from the newest snapshot published through the log
  // (PublishSnapshot; snapshot_ship.h) that holds every partition this node
  // owns: reads its manifest from KV, fetches its chunks with an ordered
  // consumer into "<db_path>.bootstrap/", checks every file's size and
  // CRC-32C, restores (DB::Restore) into "<db_path>.bootstrap/db" and
  // renames that to db_path, then Open: the node consumes only the log after
  // the snapshot's position. Nothing is left at db_path on failure.
  // Errors: AlreadyExists if db_path is not absent or empty; NotFound if no
  // published snapshot covers the owned partitions; FailedPrecondition for a
  // snapshot older than the stream's first sequence (the messages after it
  // are gone: publish a newer one), checked before fetching; Corruption for
  // a missing or damaged chunk; those of DB::Restore and Open.
  [[nodiscard]] static StatusOr<std::unique_ptr<ClusterNode>> BootstrapFromPublishedSnapshot(
      const NodeOptions& options, const ShipOptions& ship = {});

  // Snapshots this node's database (DB::CreateSnapshot into backup_dir,
  // after DB::SweepRetention so that users forgotten before it leave no
  // bytes in it) and publishes it through the log (PublishSnapshotDir),
  // keeping the newest ship.keep published snapshots. The local snapshot
  // is removed once published (unless keep_local). Online: the applier
  // keeps running; the snapshot holds the position it reached.
  // Errors: those of SweepRetention, CreateSnapshot and PublishSnapshotDir.
  StatusOr<ShippedManifest> PublishSnapshot(const std::string& backup_dir,
                                            const ShipOptions& ship = {},
                                            bool keep_local = false);

  // Stops the applier and closes the database.
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Starts the applier thread. Errors: FailedPrecondition if running.
  Status Start();
  // Stops it after the batch in progress commits; idempotent.
  void Stop();
  // Stops and closes the database; returns DB::Close's status.
  Status Close();

  // Publishes the events (partition from each event's user) and returns
  // their stream sequences once every one is stored on a quorum.
  // Errors: InvalidArgument for an empty or oversize (> 256 bytes) id or an
  // empty user or item (nothing is published); Aborted ("no quorum ...")
  // when JetStream did not acknowledge every event within the retry budget:
  // some may be stored; retrying the same ids stores none twice.
  StatusOr<WriteReceipt> RecordEvents(const std::vector<ClusterEvent>& events);

  // RecordEvents, then waits up to wait_ms for this node to apply them and
  // reports what its database did with the events of its own partitions
  // (WriteReceipt::applied, owned, result, rejected): how many were stored,
  // only counted (consent) or dropped because the user was forgotten. The
  // counts are exact: the applier commits the watched events' runs
  // separately (same events, same order: replicas still agree). If the wait
  // times out the write still stands (applied = false, counts 0).
  // Errors: as RecordEvents.
  StatusOr<WriteReceipt> RecordEventsAndWait(const std::vector<ClusterEvent>& events,
                                             int wait_ms);

  // Item upserts, user upserts and impressions through the log, with the
  // guarantees of RecordEvents: each is published under its id (a retry
  // within the duplicate window stores nothing twice), acknowledged once a
  // quorum stored it, and applied by every replica exactly once in stream
  // order, its sequence committed in the same RocksDB write
  // (DB::UpsertItems / UpsertUsers / RecordImpressions with
  // WriteOptions::applied_position_*). Items are global: published on
  // "<stream>.ev.items", every node applies every one. A user upsert and an
  // impression go to the user's partition, applied by its owners. With
  // wait_ms >= 0 the call then waits up to wait_ms for this node to apply
  // them and reports, as RecordEventsAndWait, `applied`, `owned` (the
  // records this node applies) and what its database did with them:
  // result.stored = records taken, `rejected` = refused (InvalidArgument,
  // or an impression's unknown user), identically on every replica.
  // An impression without a timestamp gets this node's clock now, before it
  // is published: replicas never read the clock.
  // Errors: InvalidArgument for an empty or oversize id, an empty record id
  // or user, or an impression without items (nothing is published);
  // Aborted as RecordEvents.
  StatusOr<WriteReceipt> UpsertItems(const std::vector<ClusterItem>& items, int wait_ms = -1);
  StatusOr<WriteReceipt> UpsertUsers(const std::vector<ClusterUser>& users, int wait_ms = -1);
  StatusOr<WriteReceipt> RecordImpressions(const std::vector<ClusterImpression>& impressions,
                                           int wait_ms = -1);

  // Forgets `user` across the cluster: publishes a forget marker (message
  // id `request_id`) on the user's partition, at whose sequence every
  // replica owning the partition calls DB::ForgetUser (so events before it
  // are deleted and later ones dropped by the forget ledger, on every
  // replica alike), then erases the user's earlier event messages from the
  // stream (js_EraseMsg: the stored bytes are overwritten), scanning the
  // partition from the stream's first sequence to the marker.
  // The marker itself keeps the id in the stream (see README, Not done).
  // Errors: InvalidArgument for an empty id or user; Aborted as
  // RecordEvents, or if an erase fails (call again: erasing is idempotent).
  StatusOr<ForgetReceipt> ForgetUser(const std::string& request_id, const std::string& user,
                                     int timeout_ms = 60000);

  // Waits until this node has applied stream sequence `sequence`.
  // Errors: FailedPrecondition ("not applied within ...") after timeout_ms,
  // or at once if the applier stopped on an error.
  Status WaitForSequence(uint64_t sequence, int timeout_ms);

  // Read your writes: the user's history once `min_sequence` is applied
  // (0 = no wait). Errors: as WaitForSequence; NotFound for an unknown user;
  // FailedPrecondition if this node does not own the user's partition.
  StatusOr<std::vector<Event>> GetUserHistory(const std::string& user, uint64_t min_sequence,
                                              int timeout_ms);

  // Whether the stream can take writes now: JetStream answers within
  // timeout_ms and reports a leader with a quorum of reachable replicas.
  // Errors: Aborted ("no quorum ..." or the request's failure). Reads keep
  // serving when it fails; they are then possibly stale.
  Status CheckLog(int timeout_ms);

  // Where this node serves HTTP, reported with its status (NodeReport).
  void SetAddress(const std::string& address);
  // The model version this node serves and whether it holds the trainer
  // lock, reported with its status (set by ModelLoop, trainer.h).
  void SetModelState(uint64_t version, bool trainer);
  // This node's report now (what the reporter thread publishes).
  NodeReport Report() const;
  // Publishes Report() to the registry now (the reporter thread does every
  // report_interval_ms). Errors: InvalidArgument without a name; those of
  // EventLog::PutNodeStatus.
  Status ReportNow();

  uint64_t applied_sequence() const { return applied_.load(std::memory_order_acquire); }
  uint32_t partitions() const { return identity_.partitions; }
  const std::vector<uint32_t>& owned() const { return owned_; }
  bool Owns(const std::string& user) const;
  NodeStats stats() const;

  // The digest of the owned partitions' records (digest.h).
  StatusOr<RecordDigest> Digest();

  // The database, for reads (Recommend, GetUser, ...). Writing to it
  // directly bypasses the log: replicas would diverge.
  DB* db() { return db_.get(); }
  EventLog* log() { return log_.get(); }
  const std::string& db_path() const { return options_.db_path; }
  const StreamIdentity& identity() const { return identity_; }

 private:
  explicit ClusterNode(const NodeOptions& options) : options_(options) {}

  void ApplyLoop();
  // Applies `events` (whose stream sequences are `seqs`) and commits
  // `last` as the applied position. On error sets apply_error.
  // watch[i] != 0: event i belongs to a RecordEventsAndWait call (its
  // token); runs of equal watch are committed separately so their
  // RecordEventsResult is exact.
  Status ApplyBatch(const std::vector<Event>& events, const std::vector<uint64_t>& seqs,
                    const std::vector<uint64_t>& watch, uint64_t last);
  // One run of ApplyBatch committed with position `last`; adds to *result
  // and *rejected.
  Status ApplyRun(const Event* events, const uint64_t* seqs, size_t n, uint64_t last,
                  RecordEventsResult* result, int64_t* rejected);
  // Forgets `user` at log position `sequence` and commits the position.
  Status ApplyForget(const std::string& user, uint64_t sequence);
  // A run of item or user upserts (one kind) from the log, in stream order.
  struct RecordRun {
    LogRecord::Kind kind = LogRecord::Kind::kItem;
    std::vector<Item> items;
    std::vector<User> users;
    std::vector<uint64_t> seqs;
    std::vector<uint64_t> watch;
    size_t size() const { return seqs.size(); }
    void clear() {
      items.clear();
      users.clear();
      seqs.clear();
      watch.clear();
    }
  };
  // Applies the run in one RocksDB write with position `last` (one record
  // at a time, skipping refused ones, if the database refuses the batch).
  Status ApplyRecords(const RecordRun& run, uint64_t last);
  // Applies one impression at `sequence` (a refused one: only the position).
  Status ApplyImpression(const ImpressionRecord& imp, uint64_t sequence, uint64_t token);
  // After an apply: counts, watches, the applied position; or apply_error.
  Status FinishApply(const Status& s, uint64_t last, LogRecord::Kind kind, int64_t applied,
                     int64_t rejected,
                     const std::vector<std::pair<uint64_t, int64_t>>& applied_by_watch,
                     const std::vector<std::pair<uint64_t, int64_t>>& rejected_by_watch);
  // The messages of a RecordEvents call (InvalidArgument as it says).
  Status EventMessages(const std::vector<ClusterEvent>& events,
                       std::vector<OutMessage>* messages) const;
  // Publishes `messages`; with wait_ms >= 0 watches those with mine[i]
  // (applied by this node) and waits for them as RecordEventsAndWait.
  StatusOr<WriteReceipt> PublishWatched(const std::vector<OutMessage>& messages,
                                        const std::vector<bool>& mine, int wait_ms);
  std::string PositionValue(uint64_t sequence) const;

  NodeOptions options_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<DB> db_;
  StreamIdentity identity_;
  std::vector<uint32_t> owned_;
  std::vector<bool> owns_;  // by partition
  std::string position_key_;

  void ReportLoop();

  std::thread applier_;
  std::thread reporter_;
  mutable std::mutex report_mu_;  // guards address_; wakes the reporter at Stop
  std::condition_variable report_cv_;
  std::string address_;
  uint64_t model_version_ = 0;  // guarded by report_mu_
  bool trainer_ = false;        // guarded by report_mu_
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> applied_{0};

  mutable std::mutex mu_;  // guards stats_, wakes waiters on applied_
  std::condition_variable applied_cv_;
  NodeStats stats_;
  // RecordEventsAndWait: watched event id -> token, token -> counts so far.
  struct WatchCounts {
    RecordEventsResult result;
    int64_t rejected = 0;
  };
  std::unordered_map<std::string, uint64_t> watched_ids_;
  std::unordered_map<uint64_t, WatchCounts> watches_;
  uint64_t next_watch_ = 1;
};

}  // namespace recdb::cluster
