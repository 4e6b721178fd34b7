#include "engine/db_impl/db_impl.h"
#include "engine/no_throw.h"

#include <cmath>
#include <exception>
#include <filesystem>
#include <new>
#include <utility>

#include "engine/privacy/privacy_state.h"
#include "engine/rerank/rerank.h"
#include "recdb/options_file.h"
#include "storage/backup_dir.h"
#include "storage/counter_merge_operator.h"
#include "storage/key_codec.h"
#include "storage/record_codec.h"

namespace recdb {

using storage::ColumnFamily;

namespace {

// On-disk format version written at creation (FORMAT.md).
constexpr uint64_t kFormatVersion = 1;

const EventType kDefaultEventTypes[] = {
    {"view", 1},     {"click", 1},  {"like", 2},     {"add_to_cart", 3},
    {"purchase", 5}, {"rating", 1}, {"dislike", -1},
};

// Set by DBImpl::StoredUserIdScope: FindUserIid takes stored ids.
thread_local bool t_stored_user_ids = false;

Consent ConsentFromBits(uint8_t bits) {
  return Consent{(bits & storage::kConsentPersonalization) != 0,
                 (bits & storage::kConsentStoreEvents) != 0,
                 (bits & storage::kConsentTraining) != 0};
}

}  // namespace

StatusOr<std::unique_ptr<DB>> DB::Open(const Options& options, const std::string& path) {
  auto impl = DBImpl::OpenImpl(options, path);
  if (!impl.ok()) return impl.status();
  return std::unique_ptr<DB>(std::move(impl).value());
}

DBImpl::DBImpl(const Options& options, std::string path)
    : options_(options),
      path_(std::move(path)),
      env_(options.env != nullptr ? options.env : Env::Default()),
      clock_(env_) {}

DBImpl::~DBImpl() { Close().IgnoreError(); }

StatusOr<std::unique_ptr<DBImpl>> DBImpl::OpenImpl(const Options& options,
                                                   const std::string& path) {
  return NoThrow([&]() -> StatusOr<std::unique_ptr<DBImpl>> {
    namespace fs = std::filesystem;
    if (path.empty()) return Status::InvalidArgument("empty database path");
    RECDB_RETURN_IF_ERROR(ValidateOptions(options));
    // A snapshot opens read-only in place: a write would break its manifest
    // and could change files it shares with other snapshots.
    if (!options.read_only && storage::IsSnapshotDir(path)) {
      return Status::FailedPrecondition(
          path + " is a snapshot: open it with Options::read_only, or restore it "
                 "(DB::Restore, recdb backup restore)");
    }
    std::error_code ec;
    const std::string db_dir = path + "/db";
    const bool exists = fs::exists(fs::path(db_dir) / "CURRENT", ec);
    if (!exists) {
      if (!options.create_if_missing || options.read_only) {
        return Status::NotFound("no recdb database in " + path);
      }
      for (const char* sub : {"/db", "/derived"}) {
        fs::create_directories(path + sub, ec);
        if (ec) return Status::IOError("cannot create " + path + sub + ": " + ec.message());
      }
    } else if (options.error_if_exists) {
      return Status::AlreadyExists("a recdb database exists in " + path);
    }

    std::unique_ptr<DBImpl> db(new DBImpl(options, path));
    // The stored model is mapped, verified (CRC-32C of the whole payload:
    // 850 MB at 10M events) and parsed on a thread of its own while RocksDB
    // opens and the id maps load; OpenEngine checks it against them.
    db->stored_model_ = RecommendService::StartReadingStoredModel(*db);
    RECDB_ASSIGN_OR_RETURN(db->store_, storage::Store::Open(options, db_dir));
    if (!options.read_only) {
      fs::create_directories(path + "/derived", ec);  // reserved for derived files
    }

    // A database with an empty meta family is new (or its creation crashed
    // before the first batch): initialise it.
    rocksdb::ReadOptions ro;
    auto it = db->store_->NewIterator(ColumnFamily::kMeta, ro);
    it->SeekToFirst();
    const bool fresh = !it->Valid();
    RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
    it.reset();
    if (fresh) {
      if (options.read_only) {
        return Status::Corruption(path + " is damaged or was not written by recdb: its metadata "
                                  "is missing (a truncated MANIFEST loses it); restore it from a "
                                  "snapshot (recdb backup restore, DB::Restore)");
      }
      RECDB_RETURN_IF_ERROR(db->InitializeNew());
    }
    RECDB_RETURN_IF_ERROR(db->LoadState());
    // A read-only opener runs no background work.
    db->scheduler_ =
        std::make_unique<Scheduler>(options.read_only ? 0 : options.background_threads);
    RECDB_RETURN_IF_ERROR(db->OpenPrivacy());
    RECDB_RETURN_IF_ERROR(db->OpenEngine());
    SpaceManagerOptions space_options;
    space_options.checkpoint_interval_seconds = options.index_checkpoint_interval_seconds;
    db->spaces_ = std::make_unique<SpaceManager>(db.get(), db->catalog_.get(), space_options);
    RECDB_RETURN_IF_ERROR(db->spaces_->Open());
    return db;
  });
}

Status DBImpl::InitializeNew() {
  rocksdb::WriteBatch batch;
  auto* meta = store_->Handle(ColumnFamily::kMeta);
  batch.Put(meta, std::string(storage::kMetaFormatVersion), storage::EncodeCounter(kFormatVersion));
  uint16_t id = 0;
  for (const EventType& t : kDefaultEventTypes) {
    batch.Put(meta, storage::EventTypeKey(id++), storage::EncodeEventType(t));
  }
  for (std::string_view k :
       {storage::kMetaNextItemId, storage::kMetaNextUserId, storage::kMetaItemCount,
        storage::kMetaUserCount, storage::kMetaEventCount}) {
    batch.Put(meta, std::string(k), storage::EncodeCounter(0));
  }
  batch.Put(meta, std::string(storage::kMetaNextEventSeq), storage::EncodeCounter(1));
  return store_->Write(&batch, /*sync=*/true);
}

Status DBImpl::LoadState() {
  // Format version and counters.
  std::string value;
  uint64_t version = 0;
  Status s = store_->Get(ColumnFamily::kMeta, storage::kMetaFormatVersion, &value);
  if (s.IsNotFound()) {
    return Status::Corruption(path_ + " is damaged or was not written by recdb: no "
                              "format_version (a truncated MANIFEST loses it); restore it from a "
                              "snapshot (recdb backup restore, DB::Restore)");
  }
  RECDB_RETURN_IF_ERROR(s);
  if (!storage::DecodeCounter(value, &version)) {
    return Status::Corruption("meta format_version is malformed");
  }
  if (version != kFormatVersion) {
    return Status::Corruption("format version " + std::to_string(version) +
                              " is not readable by this recdb (reads " +
                              std::to_string(kFormatVersion) + ")");
  }
  struct CounterSlot {
    std::string_view key;
    uint64_t* dst;
  };
  Counters c;
  for (const CounterSlot& slot : {CounterSlot{storage::kMetaNextItemId, &c.next_item_iid},
                                  CounterSlot{storage::kMetaNextUserId, &c.next_user_iid},
                                  CounterSlot{storage::kMetaNextEventSeq, &c.next_event_seq},
                                  CounterSlot{storage::kMetaItemCount, &c.items},
                                  CounterSlot{storage::kMetaUserCount, &c.users},
                                  CounterSlot{storage::kMetaEventCount, &c.events}}) {
    s = store_->Get(ColumnFamily::kMeta, slot.key, &value);
    if (s.IsNotFound()) return Status::Corruption("meta " + std::string(slot.key) + " missing");
    RECDB_RETURN_IF_ERROR(s);
    if (!storage::DecodeCounter(value, slot.dst)) {
      return Status::Corruption("meta " + std::string(slot.key) + " is malformed");
    }
  }
  if (c.next_item_iid > UINT32_MAX || c.next_user_iid > UINT32_MAX) {
    return Status::Corruption("meta id counter out of range");
  }

  // Event types, by id.
  std::vector<EventType> types;
  std::unordered_map<std::string, uint16_t> type_ids;
  {
    auto it = store_->NewPrefixIterator(ColumnFamily::kMeta, storage::kMetaEventTypePrefix);
    for (; it->Valid(); it->Next()) {
      uint16_t id = 0;
      if (!storage::ParseEventTypeKey(it->key().ToStringView(), &id) || id != types.size()) {
        return Status::Corruption("meta event types are not dense");
      }
      EventType t;
      RECDB_RETURN_IF_ERROR(storage::DecodeEventType(it->value().ToStringView(), &t));
      type_ids.emplace(t.name, id);
      types.push_back(std::move(t));
    }
    RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
  }

  // External <-> internal ids and consent bits.
  std::unique_lock lock(state_mu_);
  items_.Reserve(c.items);
  users_.Reserve(c.users);
  user_consent_.assign(c.next_user_iid, storage::kConsentAll);
  {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    auto it = store_->NewIterator(ColumnFamily::kIds, ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = it->key().ToStringView();
      if (key.size() < 2) return Status::Corruption("malformed ids key");
      const auto kind = static_cast<storage::EntityKind>(key[0]);
      if (kind != storage::EntityKind::kItem && kind != storage::EntityKind::kUser) {
        return Status::Corruption("ids key of unknown kind");
      }
      uint32_t iid = 0;
      uint8_t bits = 0;
      if (!storage::ParseIdValue(kind, it->value().ToStringView(), &iid, &bits)) {
        return Status::Corruption("malformed ids value");
      }
      const uint64_t limit = kind == storage::EntityKind::kItem ? c.next_item_iid : c.next_user_iid;
      storage::IdMap& map = kind == storage::EntityKind::kItem ? items_ : users_;
      if (iid >= limit || !map.External(iid).empty()) {
        return Status::Corruption("ids entry with internal id " + std::to_string(iid) +
                                  " out of range or duplicated");
      }
      map.Insert(key.substr(1), iid);
      if (kind == storage::EntityKind::kUser) user_consent_[iid] = bits;
    }
    RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
  }
  if (items_.mapped() != c.items || users_.mapped() != c.users) {
    return Status::Corruption("ids family disagrees with the item/user counters");
  }

  // Counter deltas not yet folded into item_stats (a crash or a read-only
  // open left them); they are folded by the next writer's fold or Close.
  {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    auto it = store_->NewIterator(ColumnFamily::kStatsLog, ro);
    std::vector<storage::ItemStatsDeltaEntry> entries;
    bool first = true;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8) return Status::Corruption("malformed stats_log key");
      const uint64_t n = storage::DecodeFixed64BE(it->key().data());
      if (first) stats_log_begin_ = n;
      first = false;
      stats_log_end_ = n + 1;
      entries.clear();
      RECDB_RETURN_IF_ERROR(storage::DecodeItemStatsDelta(it->value().ToStringView(), &entries));
      AddPendingStatsLocked(entries.data(), entries.size());
    }
    RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
  }
  event_types_ = std::move(types);
  event_type_ids_ = std::move(type_ids);
  counters_ = c;
  return Status::OK();
}

Status DBImpl::Close() {
  return NoThrow([&]() -> Status {
    std::unique_lock lifecycle(lifecycle_mu_);
    if (closed_) return Status::FailedPrecondition("database is closed");
    closed_ = true;
    if (recommend_) recommend_->StopBackgroundWork();  // Close does not wait for an index build
    if (scheduler_) scheduler_->Shutdown();
    if (!store_) return Status::OK();
    Status indexes = spaces_ ? spaces_->Close() : Status::OK();
    Status fold;
    if (!options_.read_only) {
      std::lock_guard write(write_mu_);
      fold = FoldItemStatsLocked();
    }
    Status close = store_->Close();
    if (!indexes.ok()) return indexes;
    return fold.ok() ? close : fold;
  });
}

Status DBImpl::CheckOpen() const {
  if (closed_) return Status::FailedPrecondition("database is closed");
  return Status::OK();
}

Status DBImpl::CheckWritable() const {
  RECDB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) return Status::FailedPrecondition("database is open read-only");
  return Status::OK();
}

// --- Reads ----------------------------------------------------------------

StatusOr<std::vector<EventType>> DBImpl::ListEventTypes() {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  std::shared_lock lock(state_mu_);
  return event_types_;
}

StatusOr<std::string> DBImpl::GetAppliedPosition(const std::string& key) {
  return NoThrow([&]() -> StatusOr<std::string> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    if (key.empty() || key.size() > kMaxIdBytes) {
      return Status::InvalidArgument("applied position key: empty or over " +
                                     std::to_string(kMaxIdBytes) + " bytes");
    }
    std::string value;
    std::string meta_key(storage::kMetaAppliedPositionPrefix);
    meta_key += key;
    Status s = store_->Get(ColumnFamily::kMeta, meta_key, &value);
    if (s.IsNotFound()) return Status::NotFound("no applied position \"" + key + "\"");
    if (!s.ok()) return s;
    return value;
  });
}

StatusOr<Item> DBImpl::GetItem(const std::string& id) {
  return NoThrow([&]() -> StatusOr<Item> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    std::optional<uint32_t> iid = FindItemIid(id);
    if (!iid) return Status::NotFound("no item \"" + id + "\"");
    std::string bytes;
    Status s = store_->Get(ColumnFamily::kItems, storage::EntityKey(*iid), &bytes);
    Item item;
    if (s.IsNotFound()) {  // auto-created by RecordEvents: the default record
      item.id = id;
      return item;
    }
    if (!s.ok()) return s.WithContext("item \"" + id + "\"");
    s = storage::DecodeItem(bytes, &item);
    if (!s.ok()) return s.WithContext("item \"" + id + "\"");
    return item;
  });
}

StatusOr<User> DBImpl::GetUser(const std::string& id) {
  return NoThrow([&]() -> StatusOr<User> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    std::optional<uint32_t> uid = FindUserIid(id);
    if (!uid) return Status::NotFound("no user \"" + id + "\"");
    std::string bytes;
    Status s = store_->Get(ColumnFamily::kUsers, storage::EntityKey(*uid), &bytes);
    User user;
    if (s.IsNotFound()) {  // auto-created by RecordEvents: the default record
      user.id = id;
      return user;
    }
    if (!s.ok()) return s.WithContext("user \"" + id + "\"");
    s = storage::DecodeUser(bytes, &user);
    if (!s.ok()) return s.WithContext("user \"" + id + "\"");
    user.id = id;  // as the caller gave it (the record holds the pseudonym, if any)
    return user;
  });
}

Event DBImpl::ToEvent(const storage::StoredEvent& e, std::string_view user_external,
                      const std::map<std::string, std::string>* context) const {
  // REQUIRES: state_mu_ held (shared).
  Event out;
  out.user.assign(user_external.data(), user_external.size());
  std::string_view item = items_.External(e.item);
  out.item.assign(item.data(), item.size());
  out.type = e.type < event_types_.size() ? event_types_[e.type].name : std::string();
  out.value = e.value;
  out.has_value = e.has_value;
  out.timestamp = e.timestamp;
  if (context != nullptr) out.context = *context;
  return out;
}

StatusOr<std::vector<Event>> DBImpl::GetUserHistory(const std::string& user_id,
                                                    const HistoryRange& range) {
  return NoThrow([&]() -> StatusOr<std::vector<Event>> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    std::optional<uint32_t> uid = FindUserIid(user_id);
    if (!uid) return Status::NotFound("no user \"" + user_id + "\"");
    std::vector<storage::StoredEvent> stored;
    std::vector<std::map<std::string, std::string>> contexts;
    RECDB_RETURN_IF_ERROR(storage::ScanUserEvents(
        *store_, nullptr, *uid, range.start, range.end,
        SkipExpired(
            [&](const storage::StoredEvent& e) -> Status {
              stored.push_back(e);
              contexts.push_back(*e.context);
              return Status::OK();
            },
            /*training=*/false),
        /*with_context=*/true, range.limit));
    std::vector<Event> out;
    out.reserve(stored.size());
    std::shared_lock lock(state_mu_);
    for (size_t i = 0; i < stored.size(); ++i) {
      out.push_back(ToEvent(stored[i], user_id, &contexts[i]));
    }
    return out;
  });
}

StatusOr<ItemCounts> DBImpl::GetItemCounts(const std::string& item_id) {
  return NoThrow([&]() -> StatusOr<ItemCounts> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    std::optional<uint32_t> iid = FindItemIid(item_id);
    if (!iid) return Status::NotFound("no item \"" + item_id + "\"");
    std::string lower = storage::EntityKey(*iid);
    std::string upper = storage::EntityKey(*iid + 1);  // iid < UINT32_MAX by allocation
    rocksdb::ReadOptions ro;
    rocksdb::Slice lo(lower), up(upper);
    ro.iterate_lower_bound = &lo;
    ro.iterate_upper_bound = &up;
    std::vector<std::pair<storage::StatsKeyParts, int64_t>> rows;
    // Held across the RocksDB read and the pending deltas so that a fold
    // (which commits and clears under the exclusive lock) is seen whole.
    std::shared_lock lock(state_mu_);
    auto it = store_->NewIterator(ColumnFamily::kItemStats, ro);
    for (it->Seek(lo); it->Valid(); it->Next()) {
      storage::StatsKeyParts parts;
      if (!storage::ParseStatsKey(it->key().ToStringView(), &parts)) {
        return Status::Corruption("malformed item_stats key of item \"" + item_id + "\"");
      }
      int64_t v = 0;
      if (!storage::DecodeInt64(it->value(), &v)) {
        return Status::Corruption("malformed item_stats value of item \"" + item_id + "\"");
      }
      rows.emplace_back(parts, v);
    }
    RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
    it.reset();
    if (auto p = pending_stats_.find(*iid); p != pending_stats_.end()) {
      for (const PendingCount& pc : p->second) {
        storage::StatsKeyParts day{*iid, false, pc.day, pc.type};
        storage::StatsKeyParts all{*iid, true, 0, pc.type};
        rows.emplace_back(day, pc.count);
        rows.emplace_back(all, pc.count);
      }
    }
    ItemCounts out;
    out.item = item_id;
    for (const auto& [parts, v] : rows) {
      if (parts.type >= event_types_.size()) {
        return Status::Corruption("item_stats names unknown event type " +
                                  std::to_string(parts.type));
      }
      const std::string& name = event_types_[parts.type].name;
      if (parts.all_time) {
        out.by_type[name] += v;
        out.total += v;
      } else {
        out.by_day[parts.day][name] += v;
      }
    }
    // Drop counters brought back to zero (e.g. by privacy work).
    std::erase_if(out.by_type, [](const auto& kv) { return kv.second == 0; });
    for (auto& [day, types] : out.by_day) {
      std::erase_if(types, [](const auto& kv) { return kv.second == 0; });
    }
    std::erase_if(out.by_day, [](const auto& kv) { return kv.second.empty(); });
    AddCountNoise(*iid, &out);  // Options::aggregate_privacy (state_mu_ held)
    return out;
  });
}

StatusOr<DBStats> DBImpl::GetStats() {
  return NoThrow([&]() -> StatusOr<DBStats> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    DBStats st;
    {
      std::shared_lock lock(state_mu_);
      st.users = static_cast<int64_t>(counters_.users);
      st.items = static_cast<int64_t>(counters_.items);
      st.events = static_cast<int64_t>(counters_.events);
      st.event_types = static_cast<int64_t>(event_types_.size());
    }
    st.sequence_number = store_->LatestSequenceNumber();
    st.disk_bytes = store_->DiskBytes();
    if (recommend_) {
      std::tie(st.model_version, st.model_sequence) = recommend_->ModelVersionAndSequence();
      st.model_problem = recommend_->StoredModelProblem();
    }
    st.retention = options_.retention;
    if (scheduler_) {
      for (Scheduler::JobStats& j : scheduler_->Stats()) {
        st.background_jobs.push_back(BackgroundJobStats{std::move(j.name), j.runs, j.failures,
                                                        j.last_run_failed, std::move(j.last_error)});
      }
    }
    std::string last_sweep;
    Status s = store_->Get(ColumnFamily::kMeta, privacy::kMetaLastSweep, &last_sweep);
    if (s.ok()) {
      uint64_t at = 0;
      if (!storage::DecodeCounter(last_sweep, &at)) {
        return Status::Corruption("meta privacy/last_sweep is malformed");
      }
      st.last_retention_sweep = static_cast<int64_t>(at);
    } else if (!s.IsNotFound()) {
      return s;
    }
    return st;
  });
}

// --- Scans ------------------------------------------------------------------

// Visits ids [0, limit) of one kind in id order: the stored record where
// there is one, else the default record of an auto-created entity (its
// external id from `ids`). `limit` is read before the snapshot is taken, so
// every id below it is committed and in the snapshot.
template <typename Record>
Status DBImpl::ForEachEntity(ColumnFamily cf, const storage::IdMap& ids, uint64_t limit,
                             const rocksdb::Snapshot* snapshot,
                             Status (*decode)(std::string_view, Record*),
                             const std::function<Status(const Record&)>& fn) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.fill_cache = false;
  auto it = store_->NewIterator(cf, ro);
  it->SeekToFirst();
  Record record;
  for (uint64_t id = 0; id < limit; ++id) {
    uint32_t key_id = UINT32_MAX;
    if (it->Valid() && !storage::ParseEntityKey(it->key().ToStringView(), &key_id)) {
      return Status::Corruption("malformed " + std::string(storage::ColumnFamilyName(cf)) + " key");
    }
    if (it->Valid() && key_id == id) {
      RECDB_RETURN_IF_ERROR(decode(it->value().ToStringView(), &record));
      it->Next();
    } else {
      record = Record{};
      std::shared_lock lock(state_mu_);
      record.id = std::string(ids.External(static_cast<uint32_t>(id)));
    }
    if (record.id.empty()) continue;  // an id slot with no entity (never expected)
    RECDB_RETURN_IF_ERROR(fn(record));
  }
  return storage::FromRocksDB(it->status());
}

Status DBImpl::ForEachItem(const std::function<Status(const Item&)>& fn) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    const uint64_t limit = ItemIdLimit();
    storage::Snapshot snap = store_->GetSnapshot();
    return ForEachEntity<Item>(ColumnFamily::kItems, items_, limit, snap->snapshot(),
                               &storage::DecodeItem, fn);
  });
}

Status DBImpl::ForEachUser(const std::function<Status(const User&)>& fn) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    const uint64_t limit = UserIdLimit();
    storage::Snapshot snap = store_->GetSnapshot();
    return ForEachEntity<User>(ColumnFamily::kUsers, users_, limit, snap->snapshot(),
                               &storage::DecodeUser, fn);
  });
}

Status DBImpl::ForEachEvent(const std::function<Status(const Event&)>& fn) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    storage::Snapshot snap = store_->GetSnapshot();
    std::string user_external;
    uint32_t current_user = UINT32_MAX;
    return storage::ScanAllEvents(
        *store_, snap->snapshot(),
        [&](const storage::StoredEvent& e) -> Status {
          Event ev;
          {
            // Held only while converting: `fn` may call back into the DB.
            std::shared_lock lock(state_mu_);
            if (e.user != current_user) {
              user_external = std::string(users_.External(e.user));
              current_user = e.user;
            }
            ev = ToEvent(e, user_external, e.context);
          }
          return fn(ev);
        },
        /*with_context=*/true);
  });
}

// --- Engine-internal ----------------------------------------------------------

uint32_t DBImpl::ItemIdLimit() const {
  std::shared_lock lock(state_mu_);
  return static_cast<uint32_t>(counters_.next_item_iid);
}

uint32_t DBImpl::UserIdLimit() const {
  std::shared_lock lock(state_mu_);
  return static_cast<uint32_t>(counters_.next_user_iid);
}

std::optional<uint32_t> DBImpl::FindItemIid(std::string_view external_id) const {
  std::shared_lock lock(state_mu_);
  return items_.Find(external_id);
}

std::optional<uint32_t> DBImpl::FindUserIid(std::string_view external_id) const {
  std::shared_lock lock(state_mu_);
  if (!t_stored_user_ids && PseudonymousIdsLocked()) {
    return users_.Find(StoredUserIdLocked(external_id));
  }
  return users_.Find(external_id);
}

DBImpl::StoredUserIdScope::StoredUserIdScope() : previous_(t_stored_user_ids) {
  t_stored_user_ids = true;
}

DBImpl::StoredUserIdScope::~StoredUserIdScope() { t_stored_user_ids = previous_; }

std::string DBImpl::ItemExternalId(uint32_t iid) const {
  std::shared_lock lock(state_mu_);
  return std::string(items_.External(iid));
}

std::string DBImpl::UserExternalId(uint32_t iid) const {
  std::shared_lock lock(state_mu_);
  return std::string(users_.External(iid));
}

std::vector<std::string> DBImpl::ItemExternalIds() const {
  std::shared_lock lock(state_mu_);
  std::vector<std::string> out(counters_.next_item_iid);
  for (uint32_t i = 0; i < out.size(); ++i) out[i] = std::string(items_.External(i));
  return out;
}

std::vector<std::string> DBImpl::UserExternalIds() const {
  std::shared_lock lock(state_mu_);
  std::vector<std::string> out(counters_.next_user_iid);
  for (uint32_t i = 0; i < out.size(); ++i) out[i] = std::string(users_.External(i));
  return out;
}

std::vector<DBImpl::EventTypeInfo> DBImpl::EventTypesById() const {
  std::shared_lock lock(state_mu_);
  std::vector<EventTypeInfo> out;
  out.reserve(event_types_.size());
  for (size_t i = 0; i < event_types_.size(); ++i) {
    out.push_back({static_cast<uint16_t>(i), event_types_[i].name, event_types_[i].weight});
  }
  return out;
}

std::optional<uint16_t> DBImpl::FindEventTypeId(std::string_view name) const {
  std::shared_lock lock(state_mu_);
  auto it = event_type_ids_.find(std::string(name));
  if (it == event_type_ids_.end()) return std::nullopt;
  return it->second;
}

Consent DBImpl::UserConsent(uint32_t user_iid) const {
  std::shared_lock lock(state_mu_);
  if (user_iid >= user_consent_.size()) return Consent{};
  return ConsentFromBits(user_consent_[user_iid]);
}

Status DBImpl::ScanEvents(const storage::StoredEventVisitor& fn,
                          const rocksdb::Snapshot* snapshot, bool with_context) const {
  return NoThrow([&]() -> Status {
    const storage::StoredEventVisitor visit = SkipExpired(fn, /*training=*/true);
    if (snapshot != nullptr) return storage::ScanAllEvents(*store_, snapshot, visit, with_context);
    storage::Snapshot snap = store_->GetSnapshot();
    return storage::ScanAllEvents(*store_, snap->snapshot(), visit, with_context);
  });
}

Status DBImpl::ScanUserEvents(uint32_t user_iid, int64_t start, int64_t end,
                              const storage::StoredEventVisitor& fn,
                              const rocksdb::Snapshot* snapshot) const {
  return NoThrow([&]() -> Status {
    return storage::ScanUserEvents(*store_, snapshot, user_iid, start, end,
                                   SkipExpired(fn, /*training=*/false));
  });
}

}  // namespace recdb
