// DBImpl: the implementation of recdb::DB over one storage::Store.
//
// Directory layout: DIR/db/ holds RocksDB (the only source of truth);
// DIR/derived/ is reserved for derived files (indexes, models) that other
// engine modules write and can rebuild.
//
// Beyond the public DB interface, DBImpl offers an engine-internal API
// (section "Engine-internal" below; engine/README.md) for training, indexes
// and recommendation: id lookups in both directions, event types by id, a
// consent lookup and event scans in internal ids that build no strings.
//
// Thread-safety: every method is safe to call concurrently, except that
// Close/the destructor REQUIRE that no callback of a running scan calls
// Close. Locking:
//  - lifecycle_mu_ (shared by every call, exclusive in Close) keeps the Store
//    alive while a call runs.
//  - write_mu_ serialises writers: id and sequence allocation and the commit
//    of one WriteBatch happen under it, so counters persisted in the batch
//    match the ids it allocates.
//  - state_mu_ guards the in-memory maps and counters (GUARDED_BY comments).
//    Readers share it; a writer takes it exclusively only after its batch
//    has committed, to publish new ids. Lock order: lifecycle_mu_ ->
//    write_mu_ -> state_mu_.
// Reads of RocksDB itself take no recdb lock beyond the shared lifecycle.
#pragma once

#include <flatbuffers/flatbuffers.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "engine/catalog/item_catalog.h"
#include "engine/recommend/recommend_service.h"
#include "engine/scheduler.h"
#include "engine/spaces/space_manager.h"
#include "recdb/db.h"
#include "recdb/off_policy.h"
#include "storage/event_scan.h"
#include "storage/id_map.h"
#include "storage/record_codec.h"
#include "storage/store.h"

namespace recdb {

namespace privacy {
struct PrivacyState;
}  // namespace privacy

class DBImpl final : public DB {
 public:
  // See DB::Open. Creates DIR, DIR/db and DIR/derived when creating.
  static StatusOr<std::unique_ptr<DBImpl>> OpenImpl(const Options& options,
                                                    const std::string& path);
  ~DBImpl() override;

  Status Close() override;

  Status RegisterEventType(const EventType& type) override;
  StatusOr<std::vector<EventType>> ListEventTypes() override;

  Status UpsertItems(const WriteOptions& wo, const std::vector<Item>& items) override;
  Status UpsertUsers(const WriteOptions& wo, const std::vector<User>& users) override;
  Status RecordEvents(const WriteOptions& wo, const std::vector<Event>& events) override;
  Status RecordEvents(const WriteOptions& wo, const std::vector<Event>& events,
                      RecordEventsResult* result) override;

  StatusOr<std::string> GetAppliedPosition(const std::string& key) override;
  StatusOr<Item> GetItem(const std::string& id) override;
  StatusOr<User> GetUser(const std::string& id) override;
  StatusOr<std::vector<Event>> GetUserHistory(const std::string& user_id,
                                              const HistoryRange& range) override;
  StatusOr<ItemCounts> GetItemCounts(const std::string& item_id) override;
  StatusOr<DBStats> GetStats() override;

  Status ForEachItem(const std::function<Status(const Item&)>& fn) override;
  Status ForEachUser(const std::function<Status(const User&)>& fn) override;
  Status ForEachEvent(const std::function<Status(const Event&)>& fn) override;

  // Recommendations (db_impl_recommend.cc).
  StatusOr<TrainReport> Train(const TrainOptions& options) override;
  StatusOr<TrainReport> GetModelReport() override;
  Status InstallModel(const std::string& dir) override;
  StatusOr<RecommendResponse> Recommend(const RecommendRequest& request) override;
  StatusOr<RecommendResponse> SimilarItems(const std::string& item_id, size_t k,
                                           const ItemFilter& filter) override;
  StatusOr<EvaluationReport> Evaluate(const EvaluateOptions& options) override;
  // Impressions (db_impl_impressions.cc), stored by RecommendService.
  Status RecordImpressions(const WriteOptions& wo, const std::string& user,
                           const std::vector<std::string>& items,
                           const ImpressionContext& context) override;
  StatusOr<std::vector<ShownList>> GetUserImpressions(const std::string& user_id) override;

  // Embedding spaces (engine/db_impl/db_impl_spaces.cc), forwarded to SpaceManager.
  Status CreateSpace(const SpaceOptions& options) override;
  Status DropSpace(const std::string& name) override;
  StatusOr<std::vector<SpaceInfo>> ListSpaces() override;
  StatusOr<SpaceInfo> DescribeSpace(const std::string& name) override;
  Status PutVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                    const std::vector<VectorRecord>& records) override;
  StatusOr<std::vector<float>> GetVector(const std::string& space, EntityKind kind,
                                         const std::string& id) override;
  Status DeleteVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                       const std::vector<std::string>& ids) override;
  StatusOr<std::vector<ScoredItem>> SearchSimilar(const std::string& space,
                                                  const std::vector<float>& query, size_t k,
                                                  const ItemFilter& filter) override;
  StatusOr<std::vector<ScoredItem>> SearchSimilarToItem(const std::string& space,
                                                        const std::string& item_id, size_t k,
                                                        const ItemFilter& filter) override;
  Status CheckpointIndexes() override;

  // Privacy (db_impl_privacy.cc).
  StatusOr<ErasureReceipt> ForgetUser(const std::string& id,
                                      const ForgetOptions& options) override;
  Status UnforgetUser(const std::string& id) override;
  StatusOr<std::string> ExportUser(const std::string& id) override;
  StatusOr<SweepReport> SweepRetention() override;
  StatusOr<int64_t> RotatePseudonymKeys(const std::vector<std::string>& added_keys) override;
  StatusOr<std::vector<AuditEntry>> ReadAuditLog() override;

  // Snapshots (engine/db_impl/db_impl_snapshot.cc; DB::Restore in restore.cc).
  StatusOr<SnapshotInfo> CreateSnapshot(const std::string& backup_dir,
                                        const SnapshotOptions& options) override;
  // After a restore: forgets again every stored user named by this
  // database's own forget ledger or by the ledger of the database in
  // `live_dir` (if not empty; opened read-only), copies the live ledger's
  // entries when both share the ledger key, and makes the erasures physical.
  // Counts go to `report`. Errors: FailedPrecondition when read-only; errors
  // opening `live_dir`; IOError.
  Status ReapplyForgetLedgers(const std::string& live_dir, RestoreReport* report);

  // --- Engine-internal ------------------------------------------------------
  // Not part of the public API; for engine modules (models, indexes,
  // recommend). None of these take the lifecycle lock: callers run inside a
  // DB call or a scheduler job, both of which end before Close returns.

  const Options& options() const { return options_; }
  const std::string& path() const { return path_; }
  // DIR/derived: where derived files (indexes, models) live.
  std::string derived_dir() const { return path_ + "/derived"; }
  storage::Store* store() const { return store_.get(); }
  // WriteOptions::applied_position_* (db_impl_write.cc): InvalidArgument for an oversize key or
  // value, or a value without a key; else OK.
  static Status ValidateAppliedPosition(const WriteOptions& wo);
  // Puts the applied position into `batch` (nothing when wo has no key), so
  // it commits with the batch's records.
  static void PutAppliedPosition(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                                 const WriteOptions& wo);
  Scheduler* scheduler() const { return scheduler_.get(); }
  // Items' serving metadata by internal id, kept current by UpsertItems.
  const ItemCatalog* catalog() const { return catalog_.get(); }
  // Embedding spaces and their indexes (embedding providers, tests).
  SpaceManager* spaces() const { return spaces_.get(); }
  // The trained model's service (tests: how the stored model was loaded).
  RecommendService* recommend_service() const { return recommend_.get(); }

  // The Env of Options::env (Env::Default() when none): every file
  // operation of recdb's own files goes through it (common/file_io.h), and
  // the Store adapts it for RocksDB (storage/env_file_system.h).
  Env* env() const { return env_; }
  // Where retention and receipts read the time: the Env's wall clock.
  const Clock* clock() const { return &clock_; }

  // Internal ids are dense: every allocated item iid is < ItemIdLimit().
  // With no deletions yet, ItemIdLimit() == number of items.
  uint32_t ItemIdLimit() const;
  uint32_t UserIdLimit() const;
  std::optional<uint32_t> FindItemIid(std::string_view external_id) const;
  // A user's internal id by the id the application gives: with pseudonymous
  // ids on (Options::pseudonyms), `external_id` is hashed to its pseudonym
  // first, except on a thread inside a StoredUserIdScope.
  std::optional<uint32_t> FindUserIid(std::string_view external_id) const;
  // While alive, FindUserIid on this thread takes ids as stored (pseudonyms):
  // for privacy work that knows a user only by the stored id.
  class StoredUserIdScope {
   public:
    StoredUserIdScope();
    ~StoredUserIdScope();
    StoredUserIdScope(const StoredUserIdScope&) = delete;
    StoredUserIdScope& operator=(const StoredUserIdScope&) = delete;

   private:
    bool previous_;
  };
  // External id of an internal id as stored (a pseudonym with pseudonymous
  // ids on); "" if unallocated.
  std::string ItemExternalId(uint32_t iid) const;
  std::string UserExternalId(uint32_t iid) const;
  // All external ids indexed by internal id (a copy), for bulk export.
  std::vector<std::string> ItemExternalIds() const;
  std::vector<std::string> UserExternalIds() const;

  // Event types by id (id = registration order, the value stored in events).
  struct EventTypeInfo {
    uint16_t id = 0;
    std::string name;
    double weight = 1.0;
  };
  std::vector<EventTypeInfo> EventTypesById() const;
  std::optional<uint16_t> FindEventTypeId(std::string_view name) const;

  // Off-policy estimates from the impression log (db_impl_off_policy.cc); the
  // public entry point is recdb::EvaluateOffPolicy (recdb/off_policy.h),
  // which documents it.
  StatusOr<OffPolicyReport> EvaluateOffPolicy(const OffPolicyOptions& options);

  // The reward attribution of off-policy evaluation, the one home of the
  // rule (EvaluateOffPolicy and the learned policy's training,
  // engine/policy/README.md use it): every stored impression with timestamp
  // in [since, until), user by user (ascending iid), each user's oldest
  // first, with per slot the reward: the user's events on the slot's item
  // whose type is_reward[type] marks, with timestamp in [t, t + window),
  // cut at the user's next later impression. `fn` returning non-OK stops
  // the scan with its Status. Errors: Corruption, IOError from the logs.
  struct RewardedImpression {
    uint32_t user = 0;
    const rerank::Shown* shown = nullptr;
    std::vector<double> rewards;  // per slot
  };
  Status ForEachRewardedImpression(int64_t since, int64_t until, int64_t window_seconds,
                                   const std::vector<bool>& is_reward,
                                   const std::function<Status(const RewardedImpression&)>& fn);
  // Event type ids that count as reward: those named (InvalidArgument for an
  // unknown name), or with none named every type of positive weight except
  // "view". *resolved gets their names.
  StatusOr<std::vector<bool>> RewardEventTypes(const std::vector<std::string>& names,
                                               std::vector<std::string>* resolved) const;

  // Folds the per-item counter deltas still held in "stats_log" (and in
  // memory) into "item_stats" now. A reader that scans "item_stats" directly
  // (not through GetItemCounts) calls this first; the write path does it by
  // itself every kFoldBatches batches and Close does it last.
  Status FoldItemStats();

  // The user's consent (defaults if iid is unallocated).
  Consent UserConsent(uint32_t user_iid) const;

  // Every stored event in internal ids, user by user (ascending iid), each
  // user's oldest first, from one consistent snapshot (pass one, or null for
  // a fresh one). No strings are built per event. Events of users whose
  // consent forbids storing them are not stored, hence never visited; users
  // with consent.training == false ARE visited (check UserConsent). Events
  // past their retention TTL or older than the training horizon are not
  // visited (Options::retention).
  // with_context: also decode each event's context map (allocates).
  Status ScanEvents(const storage::StoredEventVisitor& fn,
                    const rocksdb::Snapshot* snapshot = nullptr, bool with_context = false) const;
  // One user's events with timestamp in [start, end), oldest first; events
  // past their retention TTL are not visited.
  Status ScanUserEvents(uint32_t user_iid, int64_t start, int64_t end,
                        const storage::StoredEventVisitor& fn,
                        const rocksdb::Snapshot* snapshot = nullptr) const;

 private:
  DBImpl(const Options& options, std::string path);

  // Open helpers.
  Status InitializeNew();
  Status LoadState();

  // Privacy (db_impl_privacy.cc): loads the forget ledger and retention rules,
  // schedules the sweep.
  Status OpenPrivacy();
  Status OpenPseudonyms();  // checks Options::pseudonyms against meta
  // Forgets one user. REQUIRES: write_mu_ held, `uid` mapped to `id`.
  // `id` is the id as stored; `raw`, if known, the id the caller gave (its
  // keyed hash joins the ledger too, and names the receipt).
  Status ForgetUserLocked(uint32_t uid, const std::string& id, ErasureReceipt* receipt,
                          std::string_view raw = {});
  // Whether a record of the unknown user (`raw` as given, `stored` as it
  // would be stored) is dropped (forget ledger).
  bool IsForgottenId(std::string_view raw, std::string_view stored) const;
  // The stored form of a user id the caller gave (its pseudonym, or itself).
  // REQUIRES: write_mu_ or state_mu_ held (the key chain is stable).
  std::string StoredUserIdLocked(std::string_view raw) const;
  bool PseudonymousIdsLocked() const;  // REQUIRES: as StoredUserIdLocked
  // Adds an audit-log entry about the user stored as `stored_id` ("" for
  // none) to `batch` (engine/privacy/audit_log.h).
  void AddAuditEntry(rocksdb::WriteBatch* batch, std::string operation,
                     std::string_view stored_id, std::map<std::string, int64_t> counts) const;
  // Applies Laplace noise to the counts of item `iid` (Options::aggregate_privacy).
  void AddCountNoise(uint32_t iid, ItemCounts* counts) const;
  // `fn` minus the events expired under the retention rules at this moment
  // (and, if `training`, those older than the training horizon).
  storage::StoredEventVisitor SkipExpired(const storage::StoredEventVisitor& fn,
                                          bool training) const;
  Status SweepPhysical(SweepReport* report);

  // Fails with FailedPrecondition after Close or for writes when read-only.
  Status CheckOpen() const;
  Status CheckWritable() const;

  // Write path (db_impl_write.cc).
  // The one way a batch sets a counter of "meta" (8 bytes, little-endian).
  static void PutCounter(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                         std::string_view key, uint64_t value);
  // Adds to *batch the "stats_log" entry at stats_log_end_ holding `entries`,
  // built in *fbb. The caller advances stats_log_end_ once the batch is
  // written. REQUIRES: write_mu_ held.
  void PutStatsLogEntry(rocksdb::WriteBatch* batch,
                        const std::vector<storage::ItemStatsDeltaEntry>& entries,
                        flatbuffers::FlatBufferBuilder* fbb) const;
  // Folds once this many event batches are pending in "stats_log".
  static constexpr uint64_t kFoldBatches = 1024;
  // ... or once this many distinct (item, type, day) deltas are pending.
  static constexpr size_t kFoldEntries = 1u << 19;
  Status FoldItemStatsLocked();  // REQUIRES: write_mu_ held.
  // Publishes a committed event batch. REQUIRES: write_mu_, state_mu_ exclusive.
  void PublishEventBatchLocked(uint64_t seq, uint64_t stored, uint64_t next_user,
                               uint64_t next_item);
  // REQUIRES: state_mu_ held exclusively.
  void AddPendingStatsLocked(const storage::ItemStatsDeltaEntry* entries, size_t n);
  Status RegisterEventTypeLocked(const EventType& type);
  Status UpsertItemsLocked(const WriteOptions& wo, const std::vector<Item>& items);
  Status UpsertUsersLocked(const WriteOptions& wo, const std::vector<User>& users);
  Status RecordEventsLocked(const WriteOptions& wo, const std::vector<Event>& events,
                            RecordEventsResult* result);

  // Readers' helpers.
  template <typename Record>
  Status ForEachEntity(storage::ColumnFamily cf, const storage::IdMap& ids, uint64_t limit,
                       const rocksdb::Snapshot* snapshot,
                       Status (*decode)(std::string_view, Record*),
                       const std::function<Status(const Record&)>& fn);
  Event ToEvent(const storage::StoredEvent& e, std::string_view user_external,
                const std::map<std::string, std::string>* context) const;

  const Options options_;
  const std::string path_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Scheduler> scheduler_;
  // Derived from the items CF at open; updated after each UpsertItems commit.
  std::unique_ptr<ItemCatalog> catalog_;
  std::unique_ptr<RecommendService> recommend_;
  // The stored model, read, verified and parsed from the start of OpenImpl
  // until OpenEngine hands it to LoadStoredModel (then reset).
  std::shared_ptr<RecommendService::StoredModelReader> stored_model_;
  // Opens the serving-side state (catalog, recommend service, retraining job).
  Status OpenEngine();
  // Embedding spaces; opened after the catalog, closed (checkpointed) in
  // Close before the Store.
  std::unique_ptr<SpaceManager> spaces_;

  // The clock (Options::env's) and privacy state (db_impl_privacy.cc;
  // engine/privacy/privacy_state.h).
  Env* const env_;
  const EnvClock clock_;
  std::unique_ptr<privacy::PrivacyState> privacy_;

  mutable std::shared_mutex lifecycle_mu_;
  bool closed_ = false;  // GUARDED_BY(lifecycle_mu_)

  std::mutex write_mu_;
  // Scratch reused by the write path so a batch allocates (almost) nothing.
  // All GUARDED_BY(write_mu_).
  rocksdb::WriteBatch batch_;
  flatbuffers::FlatBufferBuilder fbb_{256};
  struct ResolvedEvent {
    uint32_t user;
    uint32_t item;
    uint16_t type;
  };
  std::vector<ResolvedEvent> resolved_;
  struct StatsDelta {
    uint32_t item;
    uint16_t type;
    int64_t day;
    friend bool operator<(const StatsDelta& a, const StatsDelta& b) {
      if (a.item != b.item) return a.item < b.item;
      if (a.type != b.type) return a.type < b.type;
      return a.day < b.day;
    }
  };
  std::vector<StatsDelta> stats_;
  std::vector<storage::ItemStatsDeltaEntry> deltas_;
  // "stats_log" entries [stats_log_begin_, stats_log_end_) are not folded yet.
  uint64_t stats_log_begin_ = 0;
  uint64_t stats_log_end_ = 0;
  std::vector<std::string_view> new_users_;  // external ids, in iid order
  std::vector<std::string_view> new_items_;
  std::unordered_map<std::string_view, uint32_t> pending_users_;
  std::unordered_map<std::string_view, uint32_t> pending_items_;

  // In-memory state, loaded at open. Written only with write_mu_ held (and
  // state_mu_ exclusive), so a writer may read it without state_mu_.
  mutable std::shared_mutex state_mu_;
  storage::IdMap items_;                // GUARDED_BY(state_mu_)
  storage::IdMap users_;                // GUARDED_BY(state_mu_)
  std::vector<uint8_t> user_consent_;   // GUARDED_BY(state_mu_); kConsent* bits by user iid
  std::vector<EventType> event_types_;  // GUARDED_BY(state_mu_); by type id
  std::unordered_map<std::string, uint16_t> event_type_ids_;  // GUARDED_BY(state_mu_)
  struct Counters {
    uint64_t next_item_iid = 0;
    uint64_t next_user_iid = 0;
    uint64_t next_event_seq = 1;
    uint64_t items = 0;
    uint64_t users = 0;
    uint64_t events = 0;
  };
  Counters counters_;  // GUARDED_BY(state_mu_)
  // Counter write-behind: the deltas of "stats_log" not yet folded into
  // "item_stats", by item. GetItemCounts adds them to what RocksDB holds.
  // GUARDED_BY(state_mu_); a fold commits and clears under it exclusively,
  // so a reader never counts a delta twice.
  struct PendingCount {
    uint16_t type;
    int64_t day;
    int64_t count;
  };
  std::unordered_map<uint32_t, std::vector<PendingCount>> pending_stats_;
  size_t pending_stats_entries_ = 0;  // GUARDED_BY(state_mu_)
};

}  // namespace recdb
