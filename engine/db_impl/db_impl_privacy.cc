// DBImpl's privacy operations: ForgetUser / UnforgetUser, ExportUser, the
// retention sweep and the read-time retention filter. engine/privacy/README.md
// states the guarantees and their bounds; FORMAT.md the meta keys.
//
// Deleting a user's events subtracts them from the per-item counters through
// the same write-behind as ingest (a "stats_log" entry with negative counts
// in the deleting batch, folded into "item_stats" later), so counts stay
// exact and the deletion is one atomic write.
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "engine/db_impl/db_impl.h"
#include "engine/no_throw.h"
#include "engine/privacy/keyed_hash.h"
#include "engine/privacy/laplace_noise.h"
#include "engine/privacy/privacy_state.h"
#include "engine/rerank/impression_log.h"
#include "storage/key_codec.h"
#include "storage/record_codec.h"

namespace recdb {

using storage::ColumnFamily;

namespace {

Status ValidateUserId(const std::string& id) {
  if (id.empty()) return Status::InvalidArgument("user id is empty");
  if (id.size() > kMaxIdBytes) {
    return Status::InvalidArgument("user id is longer than " + std::to_string(kMaxIdBytes) +
                                   " bytes");
  }
  return Status::OK();
}

// Per (item, type, day) counter deltas of events being deleted.
using CountDeltas = std::map<std::tuple<uint32_t, uint16_t, int64_t>, int64_t>;

std::vector<storage::ItemStatsDeltaEntry> ToEntries(const CountDeltas& deltas) {
  std::vector<storage::ItemStatsDeltaEntry> out;
  out.reserve(deltas.size());
  for (const auto& [k, count] : deltas) {
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), count});
  }
  return out;
}

// Events are deleted in batches of this many keys by the sweep.
constexpr size_t kSweepBatchEvents = 10000;

nlohmann::json AttributesToJson(const Attributes& attributes) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& entry : attributes) {  // no structured binding: clang 14 can't capture one
    const std::string& key = entry.first;
    std::visit([&](const auto& v) { out[key] = v; }, entry.second);
  }
  return out;
}

}  // namespace

// --- Open ----------------------------------------------------------------------

Status DBImpl::OpenPrivacy() {
  privacy_ = std::make_unique<privacy::PrivacyState>();
  RECDB_ASSIGN_OR_RETURN(privacy_->ledger, privacy::ForgetLedger::Open(store_.get()));
  RECDB_ASSIGN_OR_RETURN(privacy_->audit, privacy::AuditLog::Open(store_.get()));
  RECDB_RETURN_IF_ERROR(OpenPseudonyms());
  const AggregatePrivacyOptions& aggregate = options_.aggregate_privacy;  // valid: OpenImpl
  privacy_->popularity_epsilon = aggregate.popularity_epsilon;
  privacy_->noise_seed = aggregate.noise_seed;
  if (privacy_->popularity_epsilon > 0 && privacy_->noise_seed == 0) {
    RECDB_ASSIGN_OR_RETURN(std::string seed, privacy::RandomBytes(8));
    privacy_->noise_seed = storage::DecodeFixed64BE(seed.data()) | 1;
  }
  const RetentionPolicy& policy = options_.retention;
  auto rules = std::make_shared<storage::EventExpiryRules>();
  {
    std::shared_lock lock(state_mu_);
    rules->ttl_by_type.assign(event_types_.size(), 0);
  }
  for (const auto& [name, ttl] : policy.ttl_seconds_by_type) {
    std::optional<uint16_t> type = FindEventTypeId(name);
    if (!type) {
      return Status::InvalidArgument("retention policy names unknown event type \"" + name + "\"");
    }
    rules->ttl_by_type[*type] = ttl > 0 ? ttl : 0;
  }
  if (policy.max_events_per_user < 0 || policy.delete_inactive_users_after_days < 0 ||
      policy.training_horizon_seconds < 0 || policy.sweep_interval_seconds < 0 ||
      policy.anonymize_after_days < 0) {
    return Status::InvalidArgument("retention policy: negative limit");
  }
  privacy_->anonymize_after_seconds = policy.anonymize_after_days * 86400;
  privacy_->rules = rules;
  privacy_->training_horizon_seconds = policy.training_horizon_seconds;
  privacy_->trims_users =
      policy.max_events_per_user > 0 || policy.delete_inactive_users_after_days > 0;
  store_->retention()->SetClock(clock());
  store_->retention()->SetRules(rules);

  std::string value;
  Status s = store_->Get(ColumnFamily::kMeta, privacy::kMetaUnswept, &value);
  if (s.ok()) {
    privacy_->pending_unknown = true;
  } else if (!s.IsNotFound()) {
    return s;
  }
  if (!options_.read_only && policy.sweep_interval_seconds > 0) {
    privacy_->sweep_job = scheduler_->Every(
        "retention-sweep", std::chrono::seconds(policy.sweep_interval_seconds), [this] {
          SweepReport report;
          std::lock_guard sweep(privacy_->sweep_mu);
          return SweepPhysical(&report);  // a failure is retried at the next period
        });
  }
  return Status::OK();
}

// Checks the key chain against the database (Options::pseudonyms).
Status DBImpl::OpenPseudonyms() {
  RECDB_ASSIGN_OR_RETURN(privacy::PseudonymChain chain,
                         privacy::PseudonymChain::FromOptions(options_.pseudonyms));
  std::string check;
  Status s = store_->Get(ColumnFamily::kMeta, privacy::kMetaPseudonymCheck, &check);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (s.ok()) {
    if (!chain.enabled()) {
      return Status::FailedPrecondition(
          "the database stores pseudonymous user ids: open it with its key chain "
          "(Options::pseudonyms; recdb: RECDB_PSEUDONYM_KEY_FILE=F, or `recdb --options FILE` "
          "with pseudonyms.key_file)");
    }
    if (chain.CheckValue() != check) {
      return Status::InvalidArgument(
          "the pseudonym key chain does not match the one the database was written with");
    }
  } else if (chain.enabled()) {
    if (counters_.next_user_iid > 0) {
      return Status::FailedPrecondition(
          "the database holds raw user ids: pseudonymise them first with "
          "DB::RotatePseudonymKeys (recdb privacy rotate-key DIR --new-key-file F)");
    }
    if (!options_.read_only) {
      rocksdb::WriteBatch batch;
      batch.Put(store_->Handle(ColumnFamily::kMeta), std::string(privacy::kMetaPseudonymCheck),
                chain.CheckValue());
      RECDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/true));
    }
  }
  std::unique_lock lock(state_mu_);
  privacy_->pseudonyms = std::move(chain);
  return Status::OK();
}

bool DBImpl::PseudonymousIdsLocked() const {
  return privacy_ != nullptr && privacy_->pseudonyms.enabled();
}

std::string DBImpl::StoredUserIdLocked(std::string_view raw) const {
  if (!PseudonymousIdsLocked()) return std::string(raw);
  return privacy_->pseudonyms.Apply(raw);
}

void DBImpl::AddAuditEntry(rocksdb::WriteBatch* batch, std::string operation,
                           std::string_view stored_id,
                           std::map<std::string, int64_t> counts) const {
  AuditEntry e;
  e.timestamp = clock()->NowSeconds();
  e.operation = std::move(operation);
  if (!stored_id.empty()) e.subject = privacy::ToHex(privacy_->ledger->Hash(stored_id));
  e.counts = std::move(counts);
  privacy_->audit->Add(batch, store_->Handle(ColumnFamily::kMeta), std::move(e));
}

void DBImpl::AddCountNoise(uint32_t iid, ItemCounts* counts) const {
  const double epsilon = privacy_ != nullptr ? privacy_->popularity_epsilon : 0.0;
  if (!(epsilon > 0)) return;
  const uint64_t seed = privacy_->noise_seed;
  // Post-processing (clamping at 0) keeps the guarantee.
  auto noisy = [&](int64_t v, uint16_t type, int64_t day, bool all_time) {
    return std::max<int64_t>(
        0, privacy::NoisyCount(v, epsilon, seed, privacy::CountNoiseKey(iid, type, day, all_time)));
  };
  auto type_id = [&](const std::string& name) -> uint16_t {
    auto it = event_type_ids_.find(name);  // REQUIRES: state_mu_ held
    return it == event_type_ids_.end() ? uint16_t{0xFFFE} : it->second;
  };
  for (auto& [name, v] : counts->by_type) v = noisy(v, type_id(name), 0, true);
  for (auto& [day, types] : counts->by_day) {
    for (auto& [name, v] : types) v = noisy(v, type_id(name), day, false);
  }
  counts->total = noisy(counts->total, 0xFFFF, 0, true);
}

bool DBImpl::IsForgottenId(std::string_view raw, std::string_view stored) const {
  if (privacy_ == nullptr) return false;
  if (privacy_->ledger->ContainsId(raw)) return true;
  return stored != raw && privacy_->ledger->ContainsId(stored);
}

storage::StoredEventVisitor DBImpl::SkipExpired(const storage::StoredEventVisitor& fn,
                                                bool training) const {
  if (privacy_ == nullptr) return fn;
  std::shared_ptr<const storage::EventExpiryRules> rules = privacy_->rules;
  const bool ttl = rules != nullptr && rules->any();
  const int64_t horizon = training ? privacy_->training_horizon_seconds : 0;
  const int64_t anonymize = privacy_->anonymize_after_seconds;
  if (!ttl && horizon <= 0 && anonymize <= 0) return fn;
  const int64_t now = clock()->NowSeconds();
  int64_t oldest = horizon > 0 ? now - horizon : INT64_MIN;
  // Events past anonymize_after_days are no longer linked to their user.
  if (anonymize > 0) oldest = std::max(oldest, now - anonymize);
  return [fn, rules, ttl, now, oldest](const storage::StoredEvent& e) -> Status {
    if (e.timestamp < oldest) return Status::OK();
    if (ttl && rules->Expired(e.type, e.timestamp, now)) return Status::OK();
    return fn(e);
  };
}

// --- ForgetUser ----------------------------------------------------------------

StatusOr<ErasureReceipt> DBImpl::ForgetUser(const std::string& id, const ForgetOptions& options) {
  return NoThrow([&]() -> StatusOr<ErasureReceipt> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_RETURN_IF_ERROR(ValidateUserId(id));
    ErasureReceipt receipt;
    {
      std::lock_guard write(write_mu_);
      const std::string stored = StoredUserIdLocked(id);
      std::optional<uint32_t> uid = users_.Find(stored);  // write_mu_ held: stable
      if (!uid) {
        if (IsForgottenId(id, stored)) {
          return Status::FailedPrecondition("user \"" + id + "\" was forgotten already");
        }
        return Status::NotFound("no user \"" + id + "\"");
      }
      RECDB_RETURN_IF_ERROR(ForgetUserLocked(*uid, stored, &receipt, id));
    }
    // The stored model was fitted with the user's events: its file goes now,
    // and the serving model is replaced by a retrain that writes a new one.
    RECDB_RETURN_IF_ERROR(recommend_->DropStoredModel(/*unload=*/false).WithContext("forget: stored model"));
    if (recommend_->trained()) {
      // A failed synchronous retrain (e.g. no events left) falls back to the
      // scheduled one: the erasure itself has committed.
      if (options.retrain && recommend_->Train(TrainOptions{}).ok()) {  // the caller waits: full speed
        receipt.model_retrained = true;
      } else if (scheduler_->Post("retrain-after-forget", [this] {
                   TrainOptions background;
                   background.low_priority = true;
                   return recommend_->Train(background).status();  // next period retries
                 }) != 0) {
        receipt.retrain_scheduled = true;
      }
    }
    if (options.wait_for_physical_erasure) {
      SweepReport report;
      std::lock_guard sweep(privacy_->sweep_mu);
      RECDB_RETURN_IF_ERROR(SweepPhysical(&report).WithContext("physical erasure"));
      receipt.physically_erased = true;
    }
    return receipt;
  });
}

Status DBImpl::ForgetUserLocked(uint32_t uid, const std::string& id, ErasureReceipt* receipt,
                                std::string_view raw) {
  const int64_t now = clock()->NowSeconds();
  // Ledger: the keyed hash of the id as stored (re-applied after a restore,
  // which knows only stored ids) and, when it differs, of the id the caller
  // gave (still matches that id after a pseudonym key rotation).
  const std::string hash = privacy_->ledger->Hash(id);
  if (hash.empty()) return Status::FailedPrecondition("the database has no ledger key");
  const std::string raw_hash =
      !raw.empty() && raw != id ? privacy_->ledger->Hash(raw) : std::string();
  receipt->user = raw.empty() ? id : std::string(raw);
  receipt->timestamp = now;
  receipt->ledger_hash = privacy::ToHex(raw_hash.empty() ? hash : raw_hash);
  // SpaceManager resolves user ids through FindUserIid: `id` is stored form.
  StoredUserIdScope stored_ids;

  // 1. Vectors, through SpaceManager (its own atomic write). It resolves the
  // id through the id map, so this runs before the user is unmapped; if the
  // main write below fails, a retry of ForgetUser completes the erasure.
  if (spaces_ != nullptr) {
    RECDB_ASSIGN_OR_RETURN(std::vector<SpaceInfo> spaces, spaces_->ListSpaces());
    WriteOptions wo;
    wo.sync = true;
    for (const SpaceInfo& space : spaces) {
      if (!spaces_->GetVector(space.options.name, EntityKind::kUser, id).ok()) continue;
      RECDB_RETURN_IF_ERROR(spaces_->DeleteVectors(wo, space.options.name, EntityKind::kUser, {id}));
      receipt->vectors_removed++;
    }
    if (receipt->vectors_removed > 0) {
      std::lock_guard lock(privacy_->pending_mu);
      privacy_->pending_vectors = true;
    }
  }

  // 2. The user's events: what to subtract from the per-item counters. Each
  // key counted is point-deleted in the one batch of step 3 (recdb writes no
  // range tombstones: storage::Store::AddDeletesInRange says why), so the
  // counters move by exactly what is deleted.
  const std::string begin = storage::UserEventsBegin(uid);
  const std::string end = storage::UserEventsEnd(uid);
  rocksdb::WriteBatch batch;
  auto* events_cf = store_->Handle(ColumnFamily::kEvents);
  CountDeltas deltas;
  {
    rocksdb::ReadOptions ro;
    rocksdb::Slice lo(begin), up(end);
    ro.iterate_lower_bound = &lo;
    ro.iterate_upper_bound = &up;
    ro.fill_cache = false;
    auto it = store_->NewIterator(ColumnFamily::kEvents, ro);
    storage::EventKeyParts parts;
    storage::EventPayload payload;
    for (it->Seek(lo); it->Valid(); it->Next()) {
      if (!storage::ParseEventKey(it->key().ToStringView(), &parts)) {
        return Status::Corruption("malformed event key of user \"" + id + "\"");
      }
      RECDB_RETURN_IF_ERROR(
          storage::DecodeEventRecord(it->value().ToStringView(), &payload, nullptr));
      deltas[{payload.item, payload.type, storage::DayOf(parts.timestamp)}]--;
      batch.Delete(events_cf, it->key());
      receipt->events_removed++;
      receipt->bytes_estimate += static_cast<int64_t>(it->key().size() + it->value().size());
    }
    RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
  }
  std::string record;
  Status s = store_->Get(ColumnFamily::kUsers, storage::EntityKey(uid), &record);
  if (!s.ok() && !s.IsNotFound()) return s;
  // An auto-created user has only its ids entry (db_impl_write.cc) yet reads as a
  // user everywhere: the receipt says it had a record either way.
  receipt->had_user_record = true;
  receipt->user_auto_created = s.IsNotFound();
  receipt->bytes_estimate += static_cast<int64_t>(record.size() + 1 + id.size() + 5);
  // Impressions: keyed user iid first like events (FORMAT.md), one range.
  if (auto* impressions = store_->Handle(ColumnFamily::kImpressions)) {
    rocksdb::ReadOptions ro;
    rocksdb::Slice lo(begin), up(end);
    ro.iterate_lower_bound = &lo;
    ro.iterate_upper_bound = &up;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(store_->db()->NewIterator(ro, impressions));
    for (it->Seek(lo); it->Valid(); it->Next()) {
      batch.Delete(impressions, it->key());
      receipt->impressions_removed++;
      receipt->bytes_estimate += static_cast<int64_t>(it->key().size() + it->value().size());
    }
    RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
  }

  // 3. One atomic batch.
  auto* meta = store_->Handle(ColumnFamily::kMeta);
  batch.Delete(store_->Handle(ColumnFamily::kIds), storage::IdKey(storage::EntityKind::kUser, id));
  batch.Delete(store_->Handle(ColumnFamily::kUsers), storage::EntityKey(uid));
  std::vector<storage::ItemStatsDeltaEntry> entries = ToEntries(deltas);
  receipt->counts_adjusted = static_cast<int64_t>(entries.size());
  if (!entries.empty()) {
    flatbuffers::FlatBufferBuilder fbb(256);
    PutStatsLogEntry(&batch, entries, &fbb);
  }
  const auto removed = static_cast<uint64_t>(receipt->events_removed);
  PutCounter(&batch, meta, storage::kMetaUserCount, counters_.users - 1);
  PutCounter(&batch, meta, storage::kMetaEventCount, counters_.events - removed);
  privacy::ForgetLedger::PutEntry(&batch, meta, hash, now);
  if (!raw_hash.empty()) privacy::ForgetLedger::PutEntry(&batch, meta, raw_hash, now);
  batch.Put(meta, std::string(privacy::kMetaUnswept), "1");
  AddAuditEntry(&batch, "forget", id,
                {{"events", receipt->events_removed},
                 {"vectors", receipt->vectors_removed},
                 {"impressions", receipt->impressions_removed},
                 {"user_record", receipt->had_user_record ? 1 : 0}});
  RECDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/true));
  if (!entries.empty()) stats_log_end_++;

  // 4. Publish.
  {
    std::unique_lock lock(state_mu_);
    users_.Erase(uid);
    counters_.users--;
    counters_.events -= removed;
    AddPendingStatsLocked(entries.data(), entries.size());
  }
  privacy_->ledger->Insert(hash);
  if (!raw_hash.empty()) privacy_->ledger->Insert(raw_hash);
  std::lock_guard lock(privacy_->pending_mu);
  privacy_->pending_users.push_back(uid);
  return Status::OK();
}

Status DBImpl::UnforgetUser(const std::string& id) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_RETURN_IF_ERROR(ValidateUserId(id));
    std::lock_guard write(write_mu_);
    const std::string stored = StoredUserIdLocked(id);
    std::vector<std::string> hashes;
    for (const std::string& form : {std::string(id), stored}) {
      const std::string hash = privacy_->ledger->Hash(form);
      if (!hash.empty() && privacy_->ledger->ContainsHash(hash) &&
          std::find(hashes.begin(), hashes.end(), hash) == hashes.end()) {
        hashes.push_back(hash);
      }
    }
    if (hashes.empty()) {
      return Status::NotFound("user \"" + id + "\" is not in the forget ledger");
    }
    rocksdb::WriteBatch batch;
    for (const std::string& hash : hashes) {
      privacy::ForgetLedger::DeleteEntry(&batch, store_->Handle(ColumnFamily::kMeta), hash);
    }
    AddAuditEntry(&batch, "unforget", stored, {});
    RECDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/true));
    for (const std::string& hash : hashes) privacy_->ledger->Erase(hash);
    return Status::OK();
  });
}

// --- ExportUser ----------------------------------------------------------------

StatusOr<std::string> DBImpl::ExportUser(const std::string& id) {
  return NoThrow([&]() -> StatusOr<std::string> {
    RECDB_ASSIGN_OR_RETURN(User user, GetUser(id));  // NotFound / Corruption
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    std::optional<uint32_t> uid = FindUserIid(id);
    if (!uid) return Status::NotFound("no user \"" + id + "\"");
    nlohmann::json out;
    out["user"] = id;
    out["exported_at"] = clock()->NowSeconds();
    out["attributes"] = AttributesToJson(user.attributes);
    out["consent"] = {{"personalization", user.consent.personalization},
                      {"store_events", user.consent.store_events},
                      {"training", user.consent.training}};
    nlohmann::json events = nlohmann::json::array();
    const std::vector<EventTypeInfo> types = EventTypesById();
    Status s = storage::ScanUserEvents(
        *store_, nullptr, *uid, kMinTimestamp, kMaxTimestamp + 1,
        SkipExpired(
            [&](const storage::StoredEvent& e) -> Status {
              nlohmann::json ev;
              ev["item"] = ItemExternalId(e.item);
              ev["type"] = e.type < types.size() ? types[e.type].name : std::to_string(e.type);
              ev["timestamp"] = e.timestamp;
              if (e.has_value) ev["value"] = e.value;
              if (e.context != nullptr && !e.context->empty()) ev["context"] = *e.context;
              events.push_back(std::move(ev));
              return Status::OK();
            },
            /*training=*/false),
        /*with_context=*/true);
    RECDB_RETURN_IF_ERROR(s);
    out["events"] = std::move(events);
    nlohmann::json vectors = nlohmann::json::object();
    if (spaces_ != nullptr) {
      RECDB_ASSIGN_OR_RETURN(std::vector<SpaceInfo> spaces, spaces_->ListSpaces());
      for (const SpaceInfo& space : spaces) {
        auto v = spaces_->GetVector(space.options.name, EntityKind::kUser, id);
        if (v.ok()) {
          vectors[space.options.name] = *v;
        } else if (!v.status().IsNotFound()) {
          return v.status();
        }
      }
    }
    out["vectors"] = std::move(vectors);
    // Impressions: each list shown to the user, when, items in slot order,
    // with its context and per-slot propensities when they were given.
    nlohmann::json impressions = nlohmann::json::array();
    RECDB_ASSIGN_OR_RETURN(
        std::vector<rerank::Shown> shown,
        rerank::ImpressionLog(this).UserImpressions(*uid, kMinTimestamp, kMaxTimestamp + 1,
                                                    /*with_context=*/true));
    for (const rerank::Shown& list : shown) {
      nlohmann::json items = nlohmann::json::array();
      for (uint32_t iid : list.items) items.push_back(ItemExternalId(iid));
      nlohmann::json entry = {{"timestamp", list.timestamp}, {"items", std::move(items)}};
      if (!list.context.empty()) entry["context"] = list.context;
      if (!list.propensities.empty()) entry["propensities"] = list.propensities;
      impressions.push_back(std::move(entry));
    }
    out["impressions"] = std::move(impressions);
    // Audit (not on a read-only open, which writes nothing).
    if (!options_.read_only) {
      rocksdb::WriteBatch batch;
      std::string stored;
      {
        std::shared_lock lock(state_mu_);
        stored = StoredUserIdLocked(id);
      }
      AddAuditEntry(&batch, "export", stored,
                    {{"events", static_cast<int64_t>(out["events"].size())},
                     {"impressions", static_cast<int64_t>(shown.size())}});
      RECDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/false));
    }
    return out.dump(2);
  });
}

// --- Retention sweep -----------------------------------------------------------

StatusOr<SweepReport> DBImpl::SweepRetention() {
  return NoThrow([&]() -> StatusOr<SweepReport> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    SweepReport report;
    std::lock_guard sweep(privacy_->sweep_mu);
    RECDB_RETURN_IF_ERROR(SweepPhysical(&report));
    return report;
  });
}

// REQUIRES: privacy_->sweep_mu held; the lifecycle held (shared) or a
// scheduler job.
Status DBImpl::SweepPhysical(SweepReport* report) {
  const auto start = std::chrono::steady_clock::now();
  const RetentionPolicy& policy = options_.retention;
  std::shared_ptr<const storage::EventExpiryRules> rules = privacy_->rules;
  const bool ttl = rules != nullptr && rules->any();
  const int64_t anonymize = privacy_->anonymize_after_seconds;

  // 1. Logical retention: expired events, per-user trims and inactive users,
  // deleted with their counts in batches under the writer lock, so counts
  // and counter/events stay exact. Anonymised events are deleted from their
  // user's range but keep their per-item counts.
  if (ttl || privacy_->trims_users || anonymize > 0) {
    std::lock_guard write(write_mu_);
    const int64_t now = clock()->NowSeconds();
    const int64_t inactive_before =
        policy.delete_inactive_users_after_days > 0
            ? now - policy.delete_inactive_users_after_days * 86400
            : INT64_MIN;
    storage::Snapshot snap = store_->GetSnapshot();
    rocksdb::ReadOptions ro;
    ro.snapshot = snap->snapshot();
    ro.fill_cache = false;
    auto it = store_->NewIterator(ColumnFamily::kEvents, ro);
    rocksdb::WriteBatch batch;
    CountDeltas deltas;
    uint64_t pending_deletes = 0;
    auto commit = [&]() -> Status {
      if (pending_deletes == 0) return Status::OK();
      std::vector<storage::ItemStatsDeltaEntry> entries = ToEntries(deltas);
      if (!entries.empty()) {
        flatbuffers::FlatBufferBuilder fbb(256);
        PutStatsLogEntry(&batch, entries, &fbb);
      }
      PutCounter(&batch, store_->Handle(ColumnFamily::kMeta), storage::kMetaEventCount,
                 counters_.events - pending_deletes);
      RECDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/false));
      if (!entries.empty()) stats_log_end_++;
      {
        std::unique_lock lock(state_mu_);
        counters_.events -= pending_deletes;
        AddPendingStatsLocked(entries.data(), entries.size());
      }
      batch.Clear();
      deltas.clear();
      pending_deletes = 0;
      return Status::OK();
    };
    // One user's live (unexpired) events, oldest first: key + counter key.
    struct Live {
      std::string key;
      uint32_t item;
      uint16_t type;
      int64_t day;
    };
    std::vector<Live> live;
    uint32_t current = UINT32_MAX;
    int64_t newest = INT64_MIN;
    std::vector<uint32_t> inactive;
    auto finish_user = [&]() {
      if (current == UINT32_MAX) return;
      if (newest < inactive_before && !live.empty()) {
        inactive.push_back(current);
      } else if (policy.max_events_per_user > 0 &&
                 live.size() > static_cast<size_t>(policy.max_events_per_user)) {
        const size_t excess = live.size() - static_cast<size_t>(policy.max_events_per_user);
        for (size_t i = 0; i < excess; ++i) {
          batch.Delete(store_->Handle(ColumnFamily::kEvents), live[i].key);
          deltas[{live[i].item, live[i].type, live[i].day}]--;
          pending_deletes++;
        }
        report->excess_events_removed += static_cast<int64_t>(excess);
      }
      live.clear();
      newest = INT64_MIN;
    };
    storage::EventKeyParts parts;
    storage::EventPayload payload;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!storage::ParseEventKey(it->key().ToStringView(), &parts)) {
        return Status::Corruption("malformed event key");
      }
      RECDB_RETURN_IF_ERROR(
          storage::DecodeEventRecord(it->value().ToStringView(), &payload, nullptr));
      if (parts.user != current) {
        finish_user();
        current = parts.user;
      }
      if (ttl && rules->Expired(payload.type, parts.timestamp, now)) {
        batch.Delete(store_->Handle(ColumnFamily::kEvents), it->key());
        deltas[{payload.item, payload.type, storage::DayOf(parts.timestamp)}]--;
        pending_deletes++;
        report->expired_events_removed++;
      } else if (anonymize > 0 && parts.timestamp < now - anonymize) {
        // Unlinked from the user; its per-item counts stay (no delta).
        batch.Delete(store_->Handle(ColumnFamily::kEvents), it->key());
        pending_deletes++;
        report->events_anonymized++;
      } else if (privacy_->trims_users) {
        live.push_back({it->key().ToString(), payload.item, payload.type,
                        storage::DayOf(parts.timestamp)});
        newest = std::max(newest, parts.timestamp);
      }
      if (pending_deletes >= kSweepBatchEvents) RECDB_RETURN_IF_ERROR(commit());
    }
    RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
    finish_user();
    RECDB_RETURN_IF_ERROR(commit());
    it.reset();
    snap.reset();
    for (uint32_t uid : inactive) {
      const std::string id(users_.External(uid));
      if (id.empty()) continue;
      ErasureReceipt receipt;
      RECDB_RETURN_IF_ERROR(ForgetUserLocked(uid, id, &receipt));
      report->inactive_users_forgotten++;
    }
  }

  // 2. Physical: checkpoint the vector indexes (zeroes deleted vectors in the
  // files), flush every memtable (the WALs holding deleted data become
  // obsolete), compact what was deleted down to the last level (tombstones
  // and the data they cover are dropped), then one more flush so that the
  // MANIFEST is rewritten without the compacted files' boundary keys, and a
  // synchronous purge of obsolete files.
  std::vector<uint32_t> users;
  bool vectors = false;
  bool unknown = false;
  {
    std::lock_guard lock(privacy_->pending_mu);
    users.swap(privacy_->pending_users);
    vectors = privacy_->pending_vectors;
    unknown = privacy_->pending_unknown;
    privacy_->pending_vectors = false;
    privacy_->pending_unknown = false;
  }
  auto restore = [&](Status s) {
    std::lock_guard lock(privacy_->pending_mu);
    privacy_->pending_users.insert(privacy_->pending_users.end(), users.begin(), users.end());
    privacy_->pending_vectors |= vectors;
    privacy_->pending_unknown |= unknown;
    return s;
  };
  if ((vectors || unknown) && spaces_ != nullptr) {
    Status s = spaces_->Checkpoint();
    if (!s.ok()) return restore(s);
  }
  Status s = store_->Flush();
  if (!s.ok()) return restore(s);

  rocksdb::DB* db = store_->db();
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  auto compact = [&](ColumnFamily cf, const rocksdb::Slice* lo, const rocksdb::Slice* hi) {
    report->ranges_compacted++;
    return storage::FromRocksDB(db->CompactRange(cro, store_->Handle(cf), lo, hi));
  };
  const bool full = unknown || ttl || anonymize > 0;
  report->full_compaction = full;
  if (full) {
    s = compact(ColumnFamily::kEvents, nullptr, nullptr);
    if (s.ok() && unknown) s = compact(ColumnFamily::kUsers, nullptr, nullptr);
    if (s.ok() && unknown) s = compact(ColumnFamily::kImpressions, nullptr, nullptr);
  }
  for (uint32_t uid : users) {
    if (!s.ok()) break;
    const std::string lo = storage::EntityKey(uid);
    const std::string hi = storage::UserEventsEnd(uid);
    const rocksdb::Slice l(lo), h(hi);
    if (!full) s = compact(ColumnFamily::kEvents, &l, &h);
    if (s.ok() && !unknown) s = compact(ColumnFamily::kUsers, &l, &h);
    if (s.ok() && !unknown) s = compact(ColumnFamily::kImpressions, &l, &h);
  }
  if (s.ok() && (unknown || !users.empty())) {
    // Every user's "ids" entry: the range bounds name no user.
    const std::string lo(1, static_cast<char>(storage::EntityKind::kUser));
    const std::string hi(1, static_cast<char>(static_cast<char>(storage::EntityKind::kUser) + 1));
    const rocksdb::Slice l(lo), h(hi);
    s = compact(ColumnFamily::kIds, &l, &h);
  }
  if (!s.ok()) return restore(s);

  rocksdb::WriteBatch done;
  auto* meta = store_->Handle(ColumnFamily::kMeta);
  done.Put(meta, std::string(privacy::kMetaLastSweep),
           storage::EncodeCounter(static_cast<uint64_t>(clock()->NowSeconds())));
  done.Delete(meta, std::string(privacy::kMetaUnswept));
  AddAuditEntry(&done, "retention_sweep", "",
                {{"expired_events", report->expired_events_removed},
                 {"excess_events", report->excess_events_removed},
                 {"inactive_users", report->inactive_users_forgotten},
                 {"anonymized_events", report->events_anonymized},
                 {"erasures_made_physical", static_cast<int64_t>(users.size())},
                 {"ranges_compacted", report->ranges_compacted}});
  s = store_->Write(&done, /*sync=*/true);
  if (s.ok()) s = store_->Flush();
  if (s.ok()) {
    // Re-enabling deletions purges every obsolete file (WALs, SSTs, old
    // MANIFESTs) on this thread before returning.
    s = storage::FromRocksDB(db->DisableFileDeletions());
    if (s.ok()) s = storage::FromRocksDB(db->EnableFileDeletions(/*force=*/false));
  }
  if (!s.ok()) return restore(s);
  report->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::OK();
}

// --- Pseudonym key rotation -------------------------------------------------

StatusOr<int64_t> DBImpl::RotatePseudonymKeys(const std::vector<std::string>& added_keys) {
  return NoThrow([&]() -> StatusOr<int64_t> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    if (added_keys.empty()) return Status::InvalidArgument("rotate: no new key");
    for (const std::string& k : added_keys) {
      if (k.size() < privacy::kMinPseudonymKeyBytes) {
        return Status::InvalidArgument("rotate: a key is shorter than " +
                                       std::to_string(privacy::kMinPseudonymKeyBytes) + " bytes");
      }
    }
    int64_t rewritten = 0;
    {
      std::lock_guard write(write_mu_);
      std::vector<std::string> keys = privacy_->pseudonyms.keys();
      keys.insert(keys.end(), added_keys.begin(), added_keys.end());
      const privacy::PseudonymChain next(std::move(keys));
      // One atomic batch: every user's ids entry (moved to the new key) and
      // record (its id field), the chain's check value and the audit entry.
      // Reads come from one snapshot; write_mu_ keeps writers out meanwhile.
      rocksdb::WriteBatch batch;
      auto* ids_cf = store_->Handle(ColumnFamily::kIds);
      auto* users_cf = store_->Handle(ColumnFamily::kUsers);
      std::vector<std::pair<uint32_t, std::string>> renamed;
      storage::Snapshot snap = store_->GetSnapshot();
      rocksdb::ReadOptions ro;
      ro.snapshot = snap->snapshot();
      ro.fill_cache = false;
      const std::string lower(1, static_cast<char>(storage::EntityKind::kUser));
      const std::string upper(1, static_cast<char>(static_cast<char>(storage::EntityKind::kUser) + 1));
      rocksdb::Slice lo(lower), up(upper);
      ro.iterate_lower_bound = &lo;
      ro.iterate_upper_bound = &up;
      auto it = store_->NewIterator(ColumnFamily::kIds, ro);
      for (it->Seek(lo); it->Valid(); it->Next()) {
        const std::string_view old_id = it->key().ToStringView().substr(1);
        uint32_t uid = 0;
        uint8_t bits = 0;
        if (!storage::ParseIdValue(storage::EntityKind::kUser, it->value().ToStringView(), &uid,
                                   &bits)) {
          return Status::Corruption("malformed ids value");
        }
        std::string new_id = privacy::PseudonymChain::Extend(old_id, added_keys);
        batch.Delete(ids_cf, it->key());
        batch.Put(ids_cf, storage::IdKey(storage::EntityKind::kUser, new_id), it->value());
        std::string record;
        Status s = store_->Get(ColumnFamily::kUsers, storage::EntityKey(uid), &record);
        if (s.ok()) {
          User user;
          RECDB_RETURN_IF_ERROR(storage::DecodeUser(record, &user));
          user.id = new_id;
          batch.Put(users_cf, storage::EntityKey(uid), storage::EncodeUser(user));
        } else if (!s.IsNotFound()) {
          return s;
        }
        renamed.emplace_back(uid, std::move(new_id));
      }
      RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
      it.reset();
      snap.reset();
      rewritten = static_cast<int64_t>(renamed.size());
      auto* meta = store_->Handle(ColumnFamily::kMeta);
      batch.Put(meta, std::string(privacy::kMetaPseudonymCheck), next.CheckValue());
      AddAuditEntry(&batch, "rotate_key", "",
                    {{"users", rewritten},
                     {"keys_added", static_cast<int64_t>(added_keys.size())},
                     {"chain_length", static_cast<int64_t>(next.size())}});
      // Physical removal of the old ids at the sweep below: compact whole
      // families (persisted, so a crash before it is caught up after).
      batch.Put(meta, std::string(privacy::kMetaUnswept), "1");
      RECDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/true));
      std::unique_lock lock(state_mu_);
      for (const auto& [uid, id] : renamed) users_.Erase(uid);
      for (const auto& [uid, id] : renamed) users_.Insert(id, uid);
      privacy_->pseudonyms = next;
    }
    {
      std::lock_guard lock(privacy_->pending_mu);
      privacy_->pending_unknown = true;
    }
    SweepReport report;
    std::lock_guard sweep(privacy_->sweep_mu);
    RECDB_RETURN_IF_ERROR(SweepPhysical(&report).WithContext("rotate: physical removal"));
    return rewritten;
  });
}

StatusOr<std::vector<AuditEntry>> DBImpl::ReadAuditLog() {
  return NoThrow([&]() -> StatusOr<std::vector<AuditEntry>> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    return privacy::AuditLog::ReadAll(store_.get());
  });
}

}  // namespace recdb
