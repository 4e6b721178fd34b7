// DBImpl's write path: event types, item and user upserts, event ingest.
//
// Every write call follows the same steps:
//  1. validate every record without locks (write_validation.h); any failure
//     rejects the whole batch before anything is written;
//  2. under write_mu_: resolve external ids (allocating new internal ids
//     tentatively), build ONE rocksdb::WriteBatch holding the records, the
//     "ids" entries of new entities, the aggregated item_stats merges and
//     the updated meta counters, and commit it;
//  3. only after the commit succeeded, publish new ids and counters to the
//     in-memory state under state_mu_ (exclusive). A failed commit leaves
//     memory untouched, so the next batch re-allocates the same ids.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "engine/db_impl/db_impl.h"
#include "engine/no_throw.h"
#include "engine/write_validation.h"
#include "storage/key_codec.h"
#include "storage/record_codec.h"

namespace recdb {

using storage::ColumnFamily;

namespace {

// A batch buffer that grew past this is dropped rather than kept as scratch.
constexpr size_t kMaxRetainedBatchBytes = 16u << 20;


uint8_t ConsentBits(const Consent& c) {
  return static_cast<uint8_t>((c.personalization ? storage::kConsentPersonalization : 0) |
                              (c.store_events ? storage::kConsentStoreEvents : 0) |
                              (c.training ? storage::kConsentTraining : 0));
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  out += '"';
  return out;
}

}  // namespace

Status DBImpl::ValidateAppliedPosition(const WriteOptions& wo) {
  if (wo.applied_position_key.size() > kMaxIdBytes) {
    return Status::InvalidArgument("applied_position_key: over " + std::to_string(kMaxIdBytes) +
                                   " bytes");
  }
  if (wo.applied_position_value.size() > kMaxAttributeValueBytes) {
    return Status::InvalidArgument("applied_position_value: over " +
                                   std::to_string(kMaxAttributeValueBytes) + " bytes");
  }
  if (wo.applied_position_key.empty() && !wo.applied_position_value.empty()) {
    return Status::InvalidArgument("applied_position_value given without applied_position_key");
  }
  return Status::OK();
}

void DBImpl::PutAppliedPosition(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                        const WriteOptions& wo) {
  if (wo.applied_position_key.empty()) return;
  std::string key(storage::kMetaAppliedPositionPrefix);
  key += wo.applied_position_key;
  batch->Put(meta, key, wo.applied_position_value);
}

void DBImpl::PutCounter(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                        std::string_view key, uint64_t value) {
  char buf[8];
  storage::EncodeFixed64LE(buf, value);
  batch->Put(meta, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(buf, 8));
}

void DBImpl::PutStatsLogEntry(rocksdb::WriteBatch* batch,
                              const std::vector<storage::ItemStatsDeltaEntry>& entries,
                              flatbuffers::FlatBufferBuilder* fbb) const {
  storage::BuildItemStatsDelta(entries.data(), entries.size(), fbb);
  char log_key[8];
  storage::EncodeFixed64BE(log_key, stats_log_end_);
  batch->Put(store_->Handle(ColumnFamily::kStatsLog), rocksdb::Slice(log_key, 8),
             rocksdb::Slice(reinterpret_cast<const char*>(fbb->GetBufferPointer()), fbb->GetSize()));
}

// --- Event types ---------------------------------------------------------------

Status DBImpl::RegisterEventType(const EventType& type) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_RETURN_IF_ERROR(ValidateEventType(type));
    std::lock_guard write(write_mu_);
    return RegisterEventTypeLocked(type);
  });
}

Status DBImpl::RegisterEventTypeLocked(const EventType& type) {
  uint16_t id = 0;
  auto found = event_type_ids_.find(type.name);
  const bool is_new = found == event_type_ids_.end();
  if (is_new) {
    if (event_types_.size() >= kMaxEventTypes) {
      return Status::ResourceExhausted("event type " + Quoted(type.name) + ": already " +
                                       std::to_string(kMaxEventTypes) +
                                       " event types (kMaxEventTypes)");
    }
    id = static_cast<uint16_t>(event_types_.size());
  } else {
    id = found->second;
  }
  rocksdb::WriteBatch batch;
  batch.Put(store_->Handle(ColumnFamily::kMeta), storage::EventTypeKey(id),
            storage::EncodeEventType(type));
  RECDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/false));
  std::unique_lock lock(state_mu_);
  if (is_new) {
    event_types_.push_back(type);
    event_type_ids_.emplace(type.name, id);
  } else {
    event_types_[id].weight = type.weight;
  }
  return Status::OK();
}

// --- Items -------------------------------------------------------------------------

Status DBImpl::UpsertItems(const WriteOptions& wo, const std::vector<Item>& items) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_RETURN_IF_ERROR(ValidateBatchSize(items.size(), "items"));
    for (size_t i = 0; i < items.size(); ++i) RECDB_RETURN_IF_ERROR(ValidateItem(items[i], i));
    RECDB_RETURN_IF_ERROR(ValidateAppliedPosition(wo));
    if (items.empty()) return Status::OK();
    std::lock_guard write(write_mu_);
    return UpsertItemsLocked(wo, items);
  });
}

Status DBImpl::UpsertItemsLocked(const WriteOptions& wo, const std::vector<Item>& items) {
  // write_mu_ held: in-memory state is read without state_mu_ (only writers
  // change it, and they hold write_mu_).
  new_items_.clear();
  pending_items_.clear();
  if (batch_.GetDataSize() > kMaxRetainedBatchBytes) batch_ = rocksdb::WriteBatch();
  batch_.Clear();
  auto* items_cf = store_->Handle(ColumnFamily::kItems);
  auto* ids_cf = store_->Handle(ColumnFamily::kIds);
  uint64_t next_item = counters_.next_item_iid;
  for (const Item& item : items) {
    uint32_t iid = 0;
    if (auto f = items_.Find(item.id)) {
      iid = *f;
    } else if (auto p = pending_items_.find(item.id); p != pending_items_.end()) {
      iid = p->second;
    } else {
      if (next_item >= UINT32_MAX) return Status::ResourceExhausted("item id space exhausted");
      iid = static_cast<uint32_t>(next_item++);
      pending_items_.emplace(item.id, iid);
      new_items_.push_back(item.id);
      batch_.Put(ids_cf, storage::IdKey(storage::EntityKind::kItem, item.id),
                 storage::ItemIdValue(iid));
    }
    batch_.Put(items_cf, storage::EntityKey(iid), storage::EncodeItem(item));
  }
  auto* meta = store_->Handle(ColumnFamily::kMeta);
  if (!new_items_.empty()) {
    PutCounter(&batch_, meta, storage::kMetaNextItemId, next_item);
    PutCounter(&batch_, meta, storage::kMetaItemCount, counters_.items + new_items_.size());
  }
  PutAppliedPosition(&batch_, meta, wo);
  RECDB_RETURN_IF_ERROR(store_->Write(&batch_, wo.sync));

  std::unique_lock lock(state_mu_);
  for (size_t k = 0; k < new_items_.size(); ++k) {
    items_.Insert(new_items_[k], static_cast<uint32_t>(counters_.next_item_iid + k));
  }
  counters_.next_item_iid = next_item;
  counters_.items += new_items_.size();
  lock.unlock();
  for (const Item& item : items) {
    if (auto iid = items_.Find(item.id)) catalog_->Upsert(*iid, item);
  }
  return Status::OK();
}

// --- Users -------------------------------------------------------------------------

Status DBImpl::UpsertUsers(const WriteOptions& wo, const std::vector<User>& users) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_RETURN_IF_ERROR(ValidateBatchSize(users.size(), "users"));
    for (size_t i = 0; i < users.size(); ++i) RECDB_RETURN_IF_ERROR(ValidateUser(users[i], i));
    RECDB_RETURN_IF_ERROR(ValidateAppliedPosition(wo));
    if (users.empty()) return Status::OK();
    std::lock_guard write(write_mu_);
    return UpsertUsersLocked(wo, users);
  });
}

Status DBImpl::UpsertUsersLocked(const WriteOptions& wo, const std::vector<User>& users) {
  new_users_.clear();
  pending_users_.clear();
  if (batch_.GetDataSize() > kMaxRetainedBatchBytes) batch_ = rocksdb::WriteBatch();
  batch_.Clear();
  auto* users_cf = store_->Handle(ColumnFamily::kUsers);
  auto* ids_cf = store_->Handle(ColumnFamily::kIds);
  uint64_t next_user = counters_.next_user_iid;
  std::vector<uint32_t> uids;
  uids.reserve(users.size());
  // Pseudonymous ids: the stored form of each id (reserved up front: the
  // maps below view these strings).
  const bool pseudonymous = PseudonymousIdsLocked();
  std::vector<std::string> stored_ids;
  stored_ids.reserve(pseudonymous ? users.size() : 0);
  // Consent changes, for the audit log: previous bits by user iid.
  std::map<uint32_t, uint8_t> consent_before;
  for (const User& user : users) {
    std::string_view id = user.id;
    if (pseudonymous) id = stored_ids.emplace_back(StoredUserIdLocked(user.id));
    uint32_t uid = 0;
    if (auto f = users_.Find(id)) {
      uid = *f;
    } else if (auto p = pending_users_.find(id); p != pending_users_.end()) {
      uid = p->second;
    } else if (IsForgottenId(user.id, id)) {  // forget ledger: dropped (db_impl_privacy.cc)
      uids.push_back(UINT32_MAX);
      continue;
    } else {
      if (next_user >= UINT32_MAX) return Status::ResourceExhausted("user id space exhausted");
      uid = static_cast<uint32_t>(next_user++);
      pending_users_.emplace(id, uid);
      new_users_.push_back(id);
    }
    uids.push_back(uid);
    consent_before.emplace(
        uid, uid < user_consent_.size() ? user_consent_[uid] : storage::kConsentAll);
    // The ids entry carries a copy of the consent bits, so it is rewritten on
    // every upsert (a later duplicate in the batch overwrites it).
    batch_.Put(ids_cf, storage::IdKey(storage::EntityKind::kUser, id),
               storage::UserIdValue(uid, ConsentBits(user.consent)));
    if (pseudonymous) {
      User stored = user;
      stored.id = std::string(id);
      batch_.Put(users_cf, storage::EntityKey(uid), storage::EncodeUser(stored));
    } else {
      batch_.Put(users_cf, storage::EntityKey(uid), storage::EncodeUser(user));
    }
  }
  // Audit: one entry per user whose consent bits change (last write wins).
  {
    std::map<uint32_t, size_t> last;
    for (size_t i = 0; i < users.size(); ++i) {
      if (uids[i] != UINT32_MAX) last[uids[i]] = i;
    }
    for (const auto& [uid, i] : last) {
      const Consent& c = users[i].consent;
      if (ConsentBits(c) == consent_before[uid]) continue;
      AddAuditEntry(&batch_, "consent", pseudonymous ? StoredUserIdLocked(users[i].id) : users[i].id,
                    {{"personalization", c.personalization},
                     {"store_events", c.store_events},
                     {"training", c.training}});
    }
  }
  auto* meta = store_->Handle(ColumnFamily::kMeta);
  if (!new_users_.empty()) {
    PutCounter(&batch_, meta, storage::kMetaNextUserId, next_user);
    PutCounter(&batch_, meta, storage::kMetaUserCount, counters_.users + new_users_.size());
  }
  PutAppliedPosition(&batch_, meta, wo);
  RECDB_RETURN_IF_ERROR(store_->Write(&batch_, wo.sync));

  std::unique_lock lock(state_mu_);
  for (size_t k = 0; k < new_users_.size(); ++k) {
    users_.Insert(new_users_[k], static_cast<uint32_t>(counters_.next_user_iid + k));
  }
  user_consent_.resize(next_user, storage::kConsentAll);
  for (size_t i = 0; i < users.size(); ++i) {
    if (uids[i] != UINT32_MAX) user_consent_[uids[i]] = ConsentBits(users[i].consent);
  }
  counters_.next_user_iid = next_user;
  counters_.users += new_users_.size();
  return Status::OK();
}

// --- Events ------------------------------------------------------------------------

Status DBImpl::RecordEvents(const WriteOptions& wo, const std::vector<Event>& events) {
  return RecordEvents(wo, events, nullptr);
}

Status DBImpl::RecordEvents(const WriteOptions& wo, const std::vector<Event>& events,
                            RecordEventsResult* result) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_RETURN_IF_ERROR(ValidateBatchSize(events.size(), "events"));
    for (size_t i = 0; i < events.size(); ++i) {
      RECDB_RETURN_IF_ERROR(ValidateEvent(events[i], i));
    }
    RECDB_RETURN_IF_ERROR(ValidateAppliedPosition(wo));
    if (events.empty()) {
      if (result != nullptr) *result = RecordEventsResult();
      if (wo.applied_position_key.empty()) return Status::OK();
      // Only the position: the caller skipped log entries it does not apply.
      std::lock_guard write(write_mu_);
      rocksdb::WriteBatch batch;
      PutAppliedPosition(&batch, store_->Handle(ColumnFamily::kMeta), wo);
      return store_->Write(&batch, wo.sync);
    }
    std::lock_guard write(write_mu_);
    return RecordEventsLocked(wo, events, result);
  });
}

Status DBImpl::RecordEventsLocked(const WriteOptions& wo, const std::vector<Event>& events,
                                  RecordEventsResult* result) {
  // 1. Resolve event types and ids; allocate ids of new users/items.
  resolved_.clear();
  resolved_.reserve(events.size());
  new_users_.clear();
  new_items_.clear();
  pending_users_.clear();
  pending_items_.clear();
  uint64_t next_user = counters_.next_user_iid;
  uint64_t next_item = counters_.next_item_iid;
  // Pseudonymous ids: the stored form of each distinct consecutive user id
  // (reserved up front: the maps below view these strings).
  const bool pseudonymous = PseudonymousIdsLocked();
  std::vector<std::string> stored_ids;
  stored_ids.reserve(pseudonymous ? events.size() : 0);
  const std::string* last_user = nullptr;
  int64_t dropped = 0;  // events of forgotten users
  // Batches repeat a few event types: remember the last one resolved.
  const std::string* last_type = nullptr;
  uint16_t last_type_id = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (last_type == nullptr || e.type != *last_type) {
      auto t = event_type_ids_.find(e.type);
      if (t == event_type_ids_.end()) {
        return Status::InvalidArgument("events[" + std::to_string(i) +
                                       "].type: unknown event type " + Quoted(e.type));
      }
      last_type = &t->first;
      last_type_id = t->second;
    }
    ResolvedEvent r{0, 0, last_type_id};
    std::string_view user_id = e.user;
    if (pseudonymous) {
      if (last_user == nullptr || *last_user != e.user) {
        stored_ids.push_back(StoredUserIdLocked(e.user));
        last_user = &e.user;
      }
      user_id = stored_ids.back();
    }
    if (auto f = users_.Find(user_id)) {
      r.user = *f;
    } else if (auto p = pending_users_.find(user_id); p != pending_users_.end()) {
      r.user = p->second;
    } else if (IsForgottenId(e.user, user_id)) {  // forget ledger: dropped (db_impl_privacy.cc)
      resolved_.push_back({UINT32_MAX, 0, 0});
      ++dropped;
      continue;
    } else {
      if (!options_.auto_create_users) {
        return Status::InvalidArgument("events[" + std::to_string(i) + "].user: unknown user " +
                                       Quoted(e.user) + " (auto_create_users is off)");
      }
      if (next_user >= UINT32_MAX) return Status::ResourceExhausted("user id space exhausted");
      r.user = static_cast<uint32_t>(next_user++);
      pending_users_.emplace(user_id, r.user);
      new_users_.push_back(user_id);
    }
    if (auto f = items_.Find(e.item)) {
      r.item = *f;
    } else if (auto p = pending_items_.find(e.item); p != pending_items_.end()) {
      r.item = p->second;
    } else {
      if (!options_.auto_create_items) {
        return Status::InvalidArgument("events[" + std::to_string(i) + "].item: unknown item " +
                                       Quoted(e.item) + " (auto_create_items is off)");
      }
      if (next_item >= UINT32_MAX) return Status::ResourceExhausted("item id space exhausted");
      r.item = static_cast<uint32_t>(next_item++);
      pending_items_.emplace(e.item, r.item);
      new_items_.push_back(e.item);
    }
    resolved_.push_back(r);
  }

  // 2. Build the batch.
  if (batch_.GetDataSize() > kMaxRetainedBatchBytes) batch_ = rocksdb::WriteBatch();
  batch_.Clear();
  auto* ids_cf = store_->Handle(ColumnFamily::kIds);
  auto* meta = store_->Handle(ColumnFamily::kMeta);
  // Auto-created users and items get only their "ids" entry: a missing
  // record reads as the default record (GetUser/GetItem/ForEach*), which
  // saves one put per new entity on the ingest path.
  for (size_t k = 0; k < new_users_.size(); ++k) {
    const auto uid = static_cast<uint32_t>(counters_.next_user_iid + k);
    batch_.Put(ids_cf, storage::IdKey(storage::EntityKind::kUser, new_users_[k]),
               storage::UserIdValue(uid, storage::kConsentAll));
  }
  for (size_t k = 0; k < new_items_.size(); ++k) {
    const auto iid = static_cast<uint32_t>(counters_.next_item_iid + k);
    batch_.Put(ids_cf, storage::IdKey(storage::EntityKind::kItem, new_items_[k]),
               storage::ItemIdValue(iid));
  }

  auto* events_cf = store_->Handle(ColumnFamily::kEvents);
  stats_.clear();
  stats_.reserve(events.size());
  uint64_t seq = counters_.next_event_seq;
  char key[storage::kEventKeySize];
  const size_t known_users = user_consent_.size();
  // The event puts go into the batch in key order, not in the callers'
  // (random user) order: RocksDB inserts a batch into the memtable skip list
  // in batch order and starts each search from the previous insert's path,
  // so ascending keys share most of it. Keys and values are staged here.
  std::string staged;                           // key + value, per event
  std::vector<std::pair<size_t, size_t>> puts;  // (offset in staged, value size)
  staged.reserve(events.size() * (storage::kEventKeySize + 32));
  puts.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const ResolvedEvent& r = resolved_[i];
    if (r.user == UINT32_MAX) continue;  // a forgotten user's
    // New users have the default consent, which stores events.
    const bool store_event =
        r.user >= known_users || (user_consent_[r.user] & storage::kConsentStoreEvents) != 0;
    if (store_event) {
      storage::EncodeEventKey(key, r.user, e.timestamp, seq++);
      storage::BuildEventRecord({r.item, r.type, e.value, e.has_value}, e.context, &fbb_);
      puts.emplace_back(staged.size(), fbb_.GetSize());
      staged.append(key, sizeof(key));
      staged.append(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize());
    }
    stats_.push_back({r.item, r.type, storage::DayOf(e.timestamp)});
  }
  std::sort(puts.begin(), puts.end(), [&staged](const auto& a, const auto& b) {
    return std::memcmp(staged.data() + a.first, staged.data() + b.first, storage::kEventKeySize) < 0;
  });
  for (const auto& [offset, value_size] : puts) {
    batch_.Put(events_cf, rocksdb::Slice(staged.data() + offset, storage::kEventKeySize),
               rocksdb::Slice(staged.data() + offset + storage::kEventKeySize, value_size));
  }
  const uint64_t stored = seq - counters_.next_event_seq;

  // 3. Per-item counters: the batch's deltas, aggregated per distinct
  // (item, type, day), go to "stats_log" as ONE value in this batch; they are
  // folded into "item_stats" merges every kFoldBatches batches, when
  // aggregation across batches has shrunk them (FORMAT.md).
  std::sort(stats_.begin(), stats_.end());
  deltas_.clear();
  for (const StatsDelta& d : stats_) {
    if (!deltas_.empty() && deltas_.back().item == d.item && deltas_.back().type == d.type &&
        deltas_.back().day == d.day) {
      deltas_.back().count++;
    } else {
      deltas_.push_back({d.item, d.type, d.day, 1});
    }
  }
  PutStatsLogEntry(&batch_, deltas_, &fbb_);

  // 4. Counters, in the same batch.
  if (stored != 0) {
    PutCounter(&batch_, meta, storage::kMetaNextEventSeq, seq);
    PutCounter(&batch_, meta, storage::kMetaEventCount, counters_.events + stored);
  }
  if (!new_users_.empty()) {
    PutCounter(&batch_, meta, storage::kMetaNextUserId, next_user);
    PutCounter(&batch_, meta, storage::kMetaUserCount, counters_.users + new_users_.size());
  }
  if (!new_items_.empty()) {
    PutCounter(&batch_, meta, storage::kMetaNextItemId, next_item);
    PutCounter(&batch_, meta, storage::kMetaItemCount, counters_.items + new_items_.size());
  }
  PutAppliedPosition(&batch_, meta, wo);
  RECDB_RETURN_IF_ERROR(store_->Write(&batch_, wo.sync));
  stats_log_end_++;

  // 5. Publish.
  {
    std::unique_lock lock(state_mu_);
    PublishEventBatchLocked(seq, stored, next_user, next_item);
  }
  if (result != nullptr) {
    result->stored = static_cast<int64_t>(stored);
    result->dropped_forgotten = dropped;
    result->counted_only = static_cast<int64_t>(events.size()) - dropped - result->stored;
  }
  if (stats_log_end_ - stats_log_begin_ >= kFoldBatches || pending_stats_entries_ >= kFoldEntries) {
    // The batch is committed: a failed fold leaves its deltas in "stats_log"
    // (folded at the next attempt or open), so it does not fail this call.
    FoldItemStatsLocked().IgnoreError();
  }
  return Status::OK();
}

void DBImpl::PublishEventBatchLocked(uint64_t seq, uint64_t stored, uint64_t next_user,
                                     uint64_t next_item) {
  AddPendingStatsLocked(deltas_.data(), deltas_.size());
  for (size_t k = 0; k < new_users_.size(); ++k) {
    users_.Insert(new_users_[k], static_cast<uint32_t>(counters_.next_user_iid + k));
  }
  for (size_t k = 0; k < new_items_.size(); ++k) {
    items_.Insert(new_items_[k], static_cast<uint32_t>(counters_.next_item_iid + k));
  }
  user_consent_.resize(next_user, storage::kConsentAll);
  counters_.next_user_iid = next_user;
  counters_.next_item_iid = next_item;
  counters_.users += new_users_.size();
  counters_.items += new_items_.size();
  counters_.next_event_seq = seq;
  counters_.events += stored;
}

// --- Counter write-behind -------------------------------------------------------------

void DBImpl::AddPendingStatsLocked(const storage::ItemStatsDeltaEntry* entries, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const storage::ItemStatsDeltaEntry& d = entries[i];
    std::vector<PendingCount>& v = pending_stats_[d.item];
    auto it = std::find_if(v.begin(), v.end(), [&](const PendingCount& p) {
      return p.type == d.type && p.day == d.day;
    });
    if (it != v.end()) {
      it->count += d.count;
    } else {
      v.push_back({d.type, d.day, d.count});
      ++pending_stats_entries_;
    }
  }
}

Status DBImpl::FoldItemStats() {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    std::lock_guard write(write_mu_);
    return FoldItemStatsLocked();
  });
}

Status DBImpl::FoldItemStatsLocked() {
  if (stats_log_begin_ == stats_log_end_) return Status::OK();
  rocksdb::WriteBatch fold;
  auto* stats_cf = store_->Handle(ColumnFamily::kItemStats);
  char skey[storage::kStatsDayKeySize];
  char sval[8];
  std::vector<PendingCount> sorted;
  {
    // Only writers change pending_stats_, and write_mu_ is held: read freely.
    for (const auto& [item, counts] : pending_stats_) {
      sorted = counts;
      std::sort(sorted.begin(), sorted.end(), [](const PendingCount& a, const PendingCount& b) {
        return a.type != b.type ? a.type < b.type : a.day < b.day;
      });
      for (size_t i = 0; i < sorted.size();) {
        const uint16_t type = sorted[i].type;
        int64_t all_time = 0;
        for (; i < sorted.size() && sorted[i].type == type; ++i) {
          storage::EncodeStatsDayKey(skey, item, sorted[i].day, type);
          storage::EncodeFixed64LE(sval, static_cast<uint64_t>(sorted[i].count));
          fold.Merge(stats_cf, rocksdb::Slice(skey, storage::kStatsDayKeySize),
                     rocksdb::Slice(sval, 8));
          all_time += sorted[i].count;
        }
        storage::EncodeStatsAllTimeKey(skey, item, type);
        storage::EncodeFixed64LE(sval, static_cast<uint64_t>(all_time));
        fold.Merge(stats_cf, rocksdb::Slice(skey, storage::kStatsAllTimeKeySize),
                   rocksdb::Slice(sval, 8));
      }
    }
  }
  char begin[8], end[8];
  storage::EncodeFixed64BE(begin, stats_log_begin_);
  storage::EncodeFixed64BE(end, stats_log_end_);
  // write_mu_ is held: no writer appends to the log while it is scanned.
  RECDB_RETURN_IF_ERROR(store_->AddDeletesInRange(ColumnFamily::kStatsLog,
                                                  std::string_view(begin, 8),
                                                  std::string_view(end, 8), &fold)
                            .status());
  // Commit and clear under the exclusive state lock: GetItemCounts, which
  // reads RocksDB and pending_stats_ under the shared lock, sees the deltas
  // either pending or folded, never both.
  std::unique_lock lock(state_mu_);
  RECDB_RETURN_IF_ERROR(store_->Write(&fold, /*sync=*/false));
  pending_stats_.clear();
  pending_stats_entries_ = 0;
  stats_log_begin_ = stats_log_end_;
  return Status::OK();
}

}  // namespace recdb
