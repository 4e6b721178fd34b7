// recdb::DB: an embedded recommendation database held in one directory.
//
// A DB stores items, users and their interaction events in RocksDB, the only
// source of truth. Open one with DB::Open; destroy it (or call Close) to flush
// and release the directory.
//
// Thread-safety: a DB is safe for concurrent use by many threads, readers and
// writers alike, without external synchronisation. Only one process may open a
// directory for writing at a time (RocksDB's LOCK file enforces it).
//
// Writes are batched: each Upsert*/RecordEvents call validates the whole batch
// first and then commits it in one atomic RocksDB write. Either every record of
// the batch is stored or none is.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "recdb/embedding.h"
#include "recdb/export.h"
#include "recdb/options.h"
#include "recdb/privacy.h"
#include "recdb/recommend.h"
#include "recdb/records.h"
#include "recdb/snapshot.h"
#include "recdb/status.h"

namespace recdb {

class RECDB_EXPORT DB {
 public:
  // Opens the database in directory `path`.
  // Returns the DB on success.
  // Errors: NotFound if it does not exist and !options.create_if_missing;
  // AlreadyExists if it exists and options.error_if_exists; Corruption if the
  // directory holds a database recdb cannot read; IOError from the file system
  // (including a directory locked by another process).
  [[nodiscard]] static StatusOr<std::unique_ptr<DB>> Open(const Options& options,
                                                          const std::string& path);

  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  // Closes the database if Close was not called; errors are dropped.
  virtual ~DB() = default;

  // Flushes memtables and stops background work. Later calls on this object
  // return FailedPrecondition. Returns the first error met while closing.
  virtual Status Close() = 0;

  // --- Event types -------------------------------------------------------

  // Registers `type`, or updates the weight of an existing one.
  // Errors: InvalidArgument for an empty/oversize name or a non-finite weight;
  // ResourceExhausted past kMaxEventTypes.
  virtual Status RegisterEventType(const EventType& type) = 0;

  // All registered types, in registration order. A new database holds the
  // defaults: view 1, click 1, like 2, add_to_cart 3, purchase 5, rating 1,
  // dislike -1.
  virtual StatusOr<std::vector<EventType>> ListEventTypes() = 0;

  // --- Writes ------------------------------------------------------------

  // Inserts or replaces items (matched by id). A later record with the same id
  // in one batch wins. Errors: InvalidArgument for any record that breaks a
  // limit in records.h (the message names the record's index and field);
  // nothing of the batch is then stored.
  virtual Status UpsertItems(const WriteOptions& wo, const std::vector<Item>& items) = 0;

  // Inserts or replaces users (matched by id). Same contract as UpsertItems.
  virtual Status UpsertUsers(const WriteOptions& wo, const std::vector<User>& users) = 0;

  // Appends events to their users' histories and updates per-item counts.
  // Events of a user whose consent has store_events == false are not stored:
  // only the anonymous per-item counts are updated.
  // Recording the same (user, item, type, timestamp) twice stores two events.
  // Errors: InvalidArgument for an unknown event type, an empty or oversize
  // id, a non-finite value, a timestamp outside [kMinTimestamp,
  // kMaxTimestamp], too many context entries, an unknown user or item when
  // auto-creation is off; nothing of the batch is then stored.
  virtual Status RecordEvents(const WriteOptions& wo, const std::vector<Event>& events) = 0;
  // The same, and on success sets *result (if not null) to how many events
  // were stored, only counted (consent) and dropped because their user is in
  // the forget ledger (ForgetUser): a dropped event is not an error, but a
  // caller that reports "N events stored" must not count it.
  virtual Status RecordEvents(const WriteOptions& wo, const std::vector<Event>& events,
                              RecordEventsResult* result) = 0;

  // --- Reads -------------------------------------------------------------

  // The value last committed under `key` through
  // WriteOptions::applied_position_key (a replicated log's applied
  // position). Errors: NotFound if no write stored one; InvalidArgument for
  // an empty or oversize key; IOError.
  virtual StatusOr<std::string> GetAppliedPosition(const std::string& key) = 0;

  // Errors: NotFound if no item/user has this id; Corruption if its stored
  // record fails verification.
  virtual StatusOr<Item> GetItem(const std::string& id) = 0;
  virtual StatusOr<User> GetUser(const std::string& id) = 0;

  // The user's events with timestamp in `range`, oldest first (ties in the
  // order they were recorded). Errors: NotFound for an unknown user.
  virtual StatusOr<std::vector<Event>> GetUserHistory(const std::string& user_id,
                                                      const HistoryRange& range = {}) = 0;

  // Counts of events on the item, by type and day. Errors: NotFound.
  virtual StatusOr<ItemCounts> GetItemCounts(const std::string& item_id) = 0;

  // Counts, disk use, the serving model's version, the retention policy and
  // when its sweep last ran.
  virtual StatusOr<DBStats> GetStats() = 0;

  // --- Recommendations (recdb/recommend.h) ---------------------------------

  // Fits the recommenders on the current event log and swaps the new model in
  // atomically; requests in flight finish on the old one. Training also runs
  // on a schedule (Options::retrain_interval_seconds).
  // Errors: FailedPrecondition when there are no events with a positive
  // weight; errors of the event scan.
  virtual StatusOr<TrainReport> Train(const TrainOptions& options = {}) = 0;

  // The report of the Train that fitted the model Recommend serves now
  // (model_version 0 and nothing else set when no model serves), also when
  // that model was loaded from the stored model file at Open. A file written
  // by an older recdb (model file format 2) lacks seconds_by_recommender
  // (empty) and trained_at (0).
  // Errors: FailedPrecondition after Close.
  virtual StatusOr<TrainReport> GetModelReport() = 0;

  // Serves a model trained elsewhere on the same data (a cluster's trainer,
  // cluster/README.md): `dir` holds the files Train writes to DIR/derived/,
  // "fused.model" and optionally "fused.retrieval". Everything is verified
  // before anything changes: the files' own headers and CRC-32C, the payload,
  // and that the model describes this database (the same items at the same
  // internal ids, the same AggregatePrivacy::min_pair_users). Then the files
  // are written to DIR/derived/ (the next Open serves this model) and the
  // model swaps in atomically; requests in flight finish on the old one.
  // User-side scoring stays this database's: each request reads the user's
  // current history here. The learned policy is not replaced.
  // Errors (the serving model and its files are then unchanged):
  // InvalidArgument if dir has no fused.model; Corruption for a damaged or
  // truncated file; NotSupported for a newer format; FailedPrecondition for a
  // model of other data; IOError; FailedPrecondition after Close.
  virtual Status InstallModel(const std::string& dir) = 0;

  // The k best items for request.user (or for an anonymous visitor with only
  // request.session_items), each with its score, the contribution of each
  // recommender and an explanation. A user whose consent has
  // personalization == false gets non-personalised (popularity) results.
  // Errors: FailedPrecondition before the first Train; InvalidArgument for k
  // outside 1..1000 or an unknown recommender name in request.weights.
  virtual StatusOr<RecommendResponse> Recommend(const RecommendRequest& request) = 0;

  // Records that `items` (in slot order) were shown to `user`. An item shown
  // CareOptions::rotate_after_impressions times within rotate_period_seconds
  // without an event of the user on it leaves the user's lists for a while;
  // the counts also feed fair exposure and exploration (recdb/care.h).
  // Nothing is stored for a user whose consent has store_events == false.
  // Errors: NotFound for an unknown user; InvalidArgument for an unknown
  // item (naming its index), no items or more than 1000, a timestamp outside
  // [kMinTimestamp, kMaxTimestamp] or too many context entries;
  // FailedPrecondition when read-only; IOError.
  virtual Status RecordImpressions(const WriteOptions& wo, const std::string& user,
                                   const std::vector<std::string>& items,
                                   const ImpressionContext& context = {}) = 0;

  // The lists shown to `user_id` (RecordImpressions), oldest first (ties in
  // the order recorded), with their context and propensities. Errors:
  // NotFound for an unknown user; Corruption for a record that fails
  // verification; IOError.
  virtual StatusOr<std::vector<ShownList>> GetUserImpressions(const std::string& user_id) = 0;

  // Recommend for an anonymous visitor from the items of their session.
  StatusOr<RecommendResponse> RecommendForSession(std::vector<std::string> recent_items,
                                                  RecommendRequest request = {}) {
    request.user.clear();
    request.session_items = std::move(recent_items);
    return Recommend(request);
  }

  // Items similar to `item_id` (co-occurrence, neighbours and factors fused),
  // best first. Errors: NotFound for an unknown item; as Recommend.
  virtual StatusOr<RecommendResponse> SimilarItems(const std::string& item_id, size_t k,
                                                   const ItemFilter& filter = {}) = 0;

  // Offline evaluation of every recommender on this database's events with
  // the docs/DESIGN.md protocol (per-user temporal 80/20 split). Runs on a copy of
  // the data; the serving model is untouched. Errors: InvalidArgument for an
  // unknown recommender name; FailedPrecondition when there are no events.
  virtual StatusOr<EvaluationReport> Evaluate(const EvaluateOptions& options = {}) = 0;

  // --- Embedding spaces (recdb/embedding.h) ---------------------------------
  // A space holds at most one vector per item and per user, in RocksDB; an
  // HNSW index per space and kind is derived from them, checkpointed to
  // DIR/derived/ (Options::index_checkpoint_interval_seconds, and Close) and
  // caught up or rebuilt at Open. Every space call is thread-safe.

  // Creates an empty space. Errors: InvalidArgument for a name outside
  // [A-Za-z0-9_.-]{1,64}, a dimension outside 1..kMaxVectorDimension, hnsw_m
  // outside 2..1024, an ef outside 1..100000 or a model string over 256
  // bytes; AlreadyExists if the name is taken; FailedPrecondition when
  // read-only; IOError.
  virtual Status CreateSpace(const SpaceOptions& options) = 0;

  // Removes the space with its vectors, index files and change log; the
  // vectors' bytes are compacted out of RocksDB's files before it returns.
  // Errors: NotFound; FailedPrecondition when read-only; IOError.
  virtual Status DropSpace(const std::string& name) = 0;

  // Every space (by name), with its vector counts.
  virtual StatusOr<std::vector<SpaceInfo>> ListSpaces() = 0;
  // Errors: NotFound.
  virtual StatusOr<SpaceInfo> DescribeSpace(const std::string& name) = 0;

  // Inserts or replaces the vectors of existing items or users (kind), in one
  // atomic write: all of them or none. A later record for the same id wins.
  // Errors (nothing stored): NotFound for an unknown space; InvalidArgument
  // naming batch[i] for an unknown item/user id, a vector that is not exactly
  // the space's dimension of finite floats, an all-zero vector in a cosine
  // space, or more than kMaxBatchSize records; FailedPrecondition when
  // read-only; IOError. Internal if the vectors were stored but the index
  // update failed (the index is then rebuilt in the background).
  virtual Status PutVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                            const std::vector<VectorRecord>& records) = 0;

  // The stored vector, as it was put. Errors: NotFound for an unknown space
  // or id or no vector; Corruption if the stored value fails verification.
  virtual StatusOr<std::vector<float>> GetVector(const std::string& space, EntityKind kind,
                                                 const std::string& id) = 0;

  // Deletes vectors, atomically; ids without a vector are skipped. The
  // vector is never returned again, and its bytes leave every file recdb owns
  // (index checkpoint, WAL, SST) by the next index checkpoint. Cost: the
  // HNSW index unlinks the deleted nodes in one pass over its graph per call,
  // so delete many ids in one call (1,000 ids cost about 20 times one id;
  // docs/BENCHMARKS.md, "Vector index"). Errors:
  // NotFound for an unknown space; FailedPrecondition when read-only; IOError.
  virtual Status DeleteVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                               const std::vector<std::string>& ids) = 0;

  // The min(k, matching) items most similar to `query` among those that pass
  // `filter` and have a vector, best first (ScoredItem::score, see Metric).
  // Approximate (HNSW); small filtered sets are scored exactly. Errors:
  // NotFound for an unknown space; InvalidArgument for k outside 1..10000 or
  // a malformed query (wrong dimension, NaN/inf, all-zero under cosine).
  virtual StatusOr<std::vector<ScoredItem>> SearchSimilar(const std::string& space,
                                                          const std::vector<float>& query,
                                                          size_t k,
                                                          const ItemFilter& filter = {}) = 0;

  // As SearchSimilar, queried with the item's own vector; the item itself is
  // never returned. Errors: NotFound for an unknown space or item, or an item
  // without a vector in the space; as SearchSimilar.
  virtual StatusOr<std::vector<ScoredItem>> SearchSimilarToItem(const std::string& space,
                                                                const std::string& item_id,
                                                                size_t k,
                                                                const ItemFilter& filter = {}) = 0;

  // Checkpoints every space's indexes now (as the background job does) and
  // truncates their change logs. Errors: FailedPrecondition when read-only;
  // IOError.
  virtual Status CheckpointIndexes() = 0;

  // --- Privacy (recdb/privacy.h, engine/privacy/README.md) -----------------

  // Forgets user `id`: deletes their record, id mapping, every stored event
  // (one range delete) and their vectors in every space, subtracts their
  // events from the per-item counts, and adds a keyed hash of the id to the
  // forget ledger, all but the vectors in one atomic write. From then on no
  // read, count or training run sees the user, and RecordEvents/UpsertUsers
  // silently drop records of this id until UnforgetUser. The serving model
  // drops their contribution at the retrain this schedules (or at once with
  // options.retrain); their bytes leave the files at the next sweep (at once
  // with options.wait_for_physical_erasure).
  // Returns what was removed. Errors: InvalidArgument for an empty or
  // oversize id; NotFound for an unknown user (FailedPrecondition if the id
  // is in the ledger already); FailedPrecondition when read-only; IOError.
  virtual StatusOr<ErasureReceipt> ForgetUser(const std::string& id,
                                              const ForgetOptions& options = {}) = 0;

  // Removes `id` from the forget ledger, so it may be recorded again.
  // Errors: NotFound if the id is not in the ledger; FailedPrecondition when
  // read-only; IOError.
  virtual Status UnforgetUser(const std::string& id) = 0;

  // Everything the database holds about user `id` as one JSON object:
  // record, consent, events (with context), vectors, impressions (with
  // context and propensities when given). Errors: NotFound for an
  // unknown user; Corruption for a record that fails verification.
  virtual StatusOr<std::string> ExportUser(const std::string& id) = 0;

  // Applies Options::retention now and makes every deletion physical: forgets
  // inactive users, trims users past max_events_per_user, flushes, compacts
  // the events family (dropping expired events) and the ranges of forgotten
  // users, checkpoints the vector indexes, and rotates the WAL and MANIFEST.
  // On return no file in the directory holds data deleted before the call
  // (unless a snapshot taken before it is still open).
  // Errors: FailedPrecondition when read-only; IOError.
  virtual StatusOr<SweepReport> SweepRetention() = 0;

  // Appends `added_keys` to the pseudonym key chain (Options::pseudonyms):
  // every stored user id x becomes hex(HMAC(key, x)) for each added key in
  // order, in ONE atomic write (the ids entries, the user records and the
  // chain's check value), then the sweep makes the old ids physically gone.
  // A crash before the write commits leaves the old chain valid; after, the
  // new one (open with it). Opened without keys, this pseudonymises a
  // database of raw ids. Forget-ledger entries stay valid for raw ids given
  // later (RecordEvents, UpsertUsers); those of users forgotten by retention
  // (inactive) under the old chain no longer match. Returns the number of
  // user ids rewritten. Errors: InvalidArgument for no key or a key under 16
  // bytes; FailedPrecondition when read-only; IOError. Cost: memory for one
  // batch of every user's entry and record (~200 bytes + attributes each).
  virtual StatusOr<int64_t> RotatePseudonymKeys(const std::vector<std::string>& added_keys) = 0;

  // The privacy audit log, oldest first (recdb/privacy.h AuditEntry):
  // forget, unforget, export, consent changes, retention sweeps, key
  // rotations. Errors: Corruption for a malformed entry; IOError.
  virtual StatusOr<std::vector<AuditEntry>> ReadAuditLog() = 0;

  // --- Snapshots and backups (recdb/snapshot.h) ----------------------------

  // Takes a consistent snapshot of the database, online: reads and writes
  // continue meanwhile, and every write acknowledged before the call started
  // is in it. Writes BACKUP_DIR/snapshot-N (created with the directory if
  // missing): the RocksDB files, the derived index files and a checksummed
  // manifest, sharing unchanged files with the previous snapshot (and with
  // the database when options.link_files and the file system allow).
  // Index checkpoints wait while the snapshot captures its files.
  // Returns the new snapshot. Errors: FailedPrecondition after Close;
  // IOError (a failed snapshot leaves nothing behind but a partial directory
  // the next create or prune removes).
  virtual StatusOr<SnapshotInfo> CreateSnapshot(const std::string& backup_dir,
                                                const SnapshotOptions& options = {}) = 0;

  // Restores a snapshot into `dest`, a new (absent or empty) directory:
  // `src` is a snapshot directory or a backup directory (its newest
  // snapshot). Checks the manifest first and every file's size and CRC-32C
  // while copying; then opens the copy, forgets again every stored user the
  // snapshot's own forget ledger names and, with
  // options.forget_ledger_from, every user the live database's ledger
  // names, and makes those erasures physical before returning.
  // Errors: NotFound if `src` is neither; Corruption naming the file if the
  // snapshot is partial or damaged (nothing is left in `dest`);
  // AlreadyExists if `dest` is not empty; errors opening either database.
  [[nodiscard]] static StatusOr<RestoreReport> Restore(const std::string& src,
                                                       const std::string& dest,
                                                       const RestoreOptions& options = {});

  // --- Scans (dump, export, training) --------------------------------------
  // Each visits every record from one consistent snapshot of the database.
  // A callback that returns a non-OK Status stops the scan, which returns it.

  // Items and users in the order they were first created.
  virtual Status ForEachItem(const std::function<Status(const Item&)>& fn) = 0;
  virtual Status ForEachUser(const std::function<Status(const User&)>& fn) = 0;
  // Events user by user (users in creation order), each user's oldest first.
  virtual Status ForEachEvent(const std::function<Status(const Event&)>& fn) = 0;
};

}  // namespace recdb
