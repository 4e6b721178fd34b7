#include "engine/spaces/space_manager.h"
#include "engine/no_throw.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <new>
#include <utility>

#include "engine/catalog/item_catalog.h"
#include "engine/db_impl/db_impl.h"
#include "engine/spaces/space.h"
#include "engine/spaces/space_codec.h"
#include "index/vector_math.h"
#include "storage/key_codec.h"
#include "storage/store.h"

namespace recdb {

using spaces::KindSlot;
using spaces::kKinds;
using spaces::Space;
using storage::ColumnFamily;

namespace {

constexpr size_t kMaxSearchK = 10000;
constexpr size_t kMaxModelStringBytes = 256;
constexpr int kMaxHnswM = 1024;
constexpr int kMaxHnswEf = 100000;

// An ItemBitset (a compiled ItemFilter) as the index's SearchFilter.
class BitsetFilter final : public index::SearchFilter {
 public:
  explicit BitsetFilter(const ItemBitset* bits) : bits_(bits), count_(bits->Count()) {}
  bool Allows(uint32_t id) const override { return bits_->Test(id); }
  int64_t EstimatedMatches() const override { return count_; }
  bool ListMatches(std::vector<uint32_t>* ids) const override {
    for (uint32_t i = 0, n = bits_->size(); i < n; ++i) {
      if (bits_->Test(i)) ids->push_back(i);
    }
    return true;
  }

 private:
  const ItemBitset* bits_;
  int64_t count_;
};

Status CheckFinite(std::span<const float> v, uint32_t dim, Metric metric) {
  RECDB_RETURN_IF_ERROR(index::ValidateVector(v, dim));
  if (metric == Metric::kCosine) {
    bool nonzero = false;
    for (float f : v) nonzero = nonzero || f != 0.0f;
    if (!nonzero) return Status::InvalidArgument("all-zero vector in a cosine space");
  }
  return Status::OK();
}

Status ReadCounter(const storage::Store& store, const std::string& key, uint64_t missing,
                   uint64_t* out) {
  std::string v;
  Status s = store.Get(ColumnFamily::kVectors, key, &v);
  if (s.IsNotFound()) {
    *out = missing;
    return Status::OK();
  }
  RECDB_RETURN_IF_ERROR(s);
  if (!storage::DecodeCounter(v, out)) return Status::Corruption("malformed vectors counter");
  return Status::OK();
}

}  // namespace

SpaceManager::SpaceManager(DBImpl* db, const ItemCatalog* catalog, SpaceManagerOptions options)
    : db_(db), catalog_(catalog), options_(options) {}

SpaceManager::~SpaceManager() { Close().IgnoreError(); }

std::string SpaceManager::FilePath(uint32_t space_id, EntityKind kind) const {
  return db_->derived_dir() + "/space-" + std::to_string(space_id) + "-" + spaces::KindName(kind) +
         ".hnsw";
}

Status SpaceManager::CheckWritable() const {
  if (db_->options().read_only) return Status::FailedPrecondition("database is open read-only");
  if (closed_.load()) return Status::FailedPrecondition("database is closed");
  if (db_->store()->Handle(ColumnFamily::kVectors) == nullptr) {
    return Status::FailedPrecondition("database has no vectors column family");
  }
  return Status::OK();
}

StatusOr<SpaceManager::SpacePtr> SpaceManager::Find(const std::string& name) const {
  std::shared_lock lock(spaces_mu_);
  auto it = spaces_.find(name);
  if (it == spaces_.end()) return Status::NotFound("no embedding space \"" + name + "\"");
  return it->second;
}

// --- Open / Close -----------------------------------------------------------

Status SpaceManager::Open() {
  return NoThrow([&]() -> Status {
    storage::Store* store = db_->store();
    // A read-only open of a database that predates the reserved families.
    if (store->Handle(ColumnFamily::kVectors) == nullptr ||
        store->Handle(ColumnFamily::kVectorLog) == nullptr) {
      return Status::OK();
    }
    std::unique_lock lock(spaces_mu_);
    RECDB_RETURN_IF_ERROR(ReadCounter(*store, spaces::NextSpaceIdKey(), 1, &next_space_id_));
    {
      std::lock_guard seq(sequence_mu_);
      RECDB_RETURN_IF_ERROR(
          ReadCounter(*store, spaces::NextLogSequenceKey(), 1, &next_sequence_));
    }
    const uint64_t last = next_sequence_ - 1;

    std::vector<spaces::SpaceDefinition> defs;
    {
      auto it = store->NewPrefixIterator(ColumnFamily::kVectors, spaces::SpaceDefinitionPrefix());
      for (; it->Valid(); it->Next()) {
        spaces::SpaceDefinition def;
        RECDB_RETURN_IF_ERROR(spaces::DecodeSpaceDefinition(it->value().ToStringView(), &def));
        if (def.id >= next_space_id_) {
          return Status::Corruption("space \"" + def.options.name + "\" has id " +
                                    std::to_string(def.id) + " >= the next space id");
        }
        defs.push_back(std::move(def));
      }
      RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
    }
    std::vector<uint32_t> live_ids;
    for (spaces::SpaceDefinition& def : defs) {
      auto s = std::make_shared<Space>(std::move(def));
      uint64_t truncated = 0;
      RECDB_RETURN_IF_ERROR(
          ReadCounter(*store, spaces::TruncatedKey(s->def.id), 0, &truncated));
      s->truncated_through = truncated;
      RECDB_RETURN_IF_ERROR(OpenSpace(s, last).WithContext("space \"" + s->def.options.name + "\""));
      live_ids.push_back(s->def.id);
      spaces_[s->def.options.name] = std::move(s);
    }

    if (!db_->options().read_only) {
      // Index files of spaces that no longer exist (a drop interrupted
      // between its commit and the file removal) are garbage.
      namespace fs = std::filesystem;
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(db_->derived_dir(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("space-", 0) != 0) continue;
        const uint32_t id = static_cast<uint32_t>(std::strtoul(name.c_str() + 6, nullptr, 10));
        if (std::find(live_ids.begin(), live_ids.end(), id) == live_ids.end()) {
          fs::remove(entry.path(), ec);
        }
      }
      if (options_.checkpoint_interval_seconds > 0) {
        checkpoint_job_ = db_->scheduler()->Every(
            "space-checkpoint", std::chrono::seconds(options_.checkpoint_interval_seconds),
            [this] {
              return closed_.load() ? Status::OK() : Checkpoint();  // retried next period
            });
      }
    }
    return Status::OK();
  });
}

Status SpaceManager::OpenSpace(const SpacePtr& s, uint64_t last) {
  namespace fs = std::filesystem;
  const SpaceOptions& o = s->def.options;
  for (EntityKind kind : kKinds) {
    const std::string path = FilePath(s->def.id, kind);
    std::string reason;
    std::shared_ptr<index::HnswIndex> idx;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      reason = "no checkpoint file";
    } else {
      auto loaded = index::HnswIndex::Load(path, static_cast<uint32_t>(o.dimension),
                                           spaces::ToIndexMetric(o.metric),
                                           spaces::ToHnswOptions(o), db_->env());
      if (!loaded.ok()) {
        reason = loaded.status().ToString();
      } else {
        const uint64_t covered = (*loaded)->covered_sequence();
        const index::HnswOptions got = (*loaded)->options();
        if (got.m != static_cast<size_t>(o.hnsw_m) ||
            got.ef_construction != static_cast<size_t>(o.hnsw_ef_construction)) {
          reason = "checkpoint built with other HNSW parameters";
        } else if (covered < s->truncated_through) {
          reason = "checkpoint covers log position " + std::to_string(covered) +
                   " but the log was truncated through " + std::to_string(s->truncated_through);
        } else if (covered > last) {
          reason = "checkpoint covers log position " + std::to_string(covered) +
                   " beyond the log end " + std::to_string(last);
        } else {
          idx = std::move(loaded).value();
          auto replayed = ReplayLog(*s, kind, idx.get(), covered);
          if (!replayed.ok()) {
            reason = "log replay failed: " + replayed.status().ToString();
            idx.reset();
          } else {
            // Replayed upserts can, rarely, cut every link into a node.
            idx->RepairReachability();
            idx->set_covered_sequence(last);
            s->saved_covered[KindSlot(kind)] = covered;
            std::lock_guard lock(stats_mu_);
            stats_.index_loads++;
            stats_.log_replayed += *replayed;
          }
        }
      }
    }
    if (!idx) {
      RECDB_ASSIGN_OR_RETURN(idx, BuildFromStore(*s, kind));
      s->saved_covered[KindSlot(kind)] = 0;
      std::lock_guard lock(stats_mu_);
      stats_.index_rebuilds++;
      rebuild_reasons_.push_back("space " + std::to_string(s->def.id) + " " +
                                 spaces::KindName(kind) + ": " + reason);
    }
    s->SetIndex(kind, std::move(idx));
  }
  return Status::OK();
}

StatusOr<std::shared_ptr<index::HnswIndex>> SpaceManager::BuildFromStore(const Space& s,
                                                                         EntityKind kind) const {
  const SpaceOptions& o = s.def.options;
  const storage::Store& store = *db_->store();
  storage::Snapshot snap = store.GetSnapshot();
  // The log position of the snapshot: the counter is committed in the same
  // batch as every vector change.
  uint64_t next = 1;
  {
    std::string v;
    Status st = store.Get(ColumnFamily::kVectors, spaces::NextLogSequenceKey(), &v, snap->snapshot());
    if (st.ok() && !storage::DecodeCounter(v, &next)) {
      return Status::Corruption("malformed log sequence counter");
    }
    if (!st.ok() && !st.IsNotFound()) return st;
  }
  RECDB_ASSIGN_OR_RETURN(std::unique_ptr<index::HnswIndex> idx,
                         index::HnswIndex::Create(static_cast<uint32_t>(o.dimension),
                                                  spaces::ToIndexMetric(o.metric),
                                                  spaces::ToHnswOptions(o)));
  const std::string lower = spaces::VectorKindBegin(s.def.id, kind);
  const std::string upper = spaces::VectorKindEnd(s.def.id, kind);
  rocksdb::ReadOptions ro;
  rocksdb::Slice lo(lower), up(upper);
  ro.iterate_lower_bound = &lo;
  ro.iterate_upper_bound = &up;
  ro.snapshot = snap->snapshot();
  ro.fill_cache = false;
  auto it = store.NewIterator(ColumnFamily::kVectors, ro);
  std::vector<float> v;
  uint64_t corrupt = 0;
  for (it->Seek(lo); it->Valid(); it->Next()) {
    uint32_t sid = 0, iid = 0;
    storage::EntityKind k;
    if (!spaces::ParseVectorKey(it->key().ToStringView(), &sid, &k, &iid) ||
        !spaces::DecodeVector(it->value().ToStringView(), static_cast<uint32_t>(o.dimension), &v)
             .ok()) {
      ++corrupt;  // GetVector reports it as Corruption; search skips it
      continue;
    }
    RECDB_RETURN_IF_ERROR(idx->Add(iid, v));
  }
  RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
  idx->set_covered_sequence(next - 1);
  if (corrupt > 0) {
    std::lock_guard lock(stats_mu_);
    rebuild_reasons_.push_back(
        "space " + std::to_string(s.def.id) + " " + spaces::KindName(kind) + ": skipped " +
        std::to_string(corrupt) + " corrupt vector(s)");
  }
  return std::shared_ptr<index::HnswIndex>(std::move(idx));
}

StatusOr<uint64_t> SpaceManager::ReplayLog(const Space& s, EntityKind kind, index::HnswIndex* idx,
                                           uint64_t after) const {
  const storage::Store& store = *db_->store();
  const std::string lower = spaces::LogKey(s.def.id, after + 1);
  const std::string upper = spaces::LogKey(s.def.id + 1, 0);
  rocksdb::ReadOptions ro;
  rocksdb::Slice lo(lower), up(upper);
  ro.iterate_lower_bound = &lo;
  ro.iterate_upper_bound = &up;
  ro.fill_cache = false;
  auto it = store.NewIterator(ColumnFamily::kVectorLog, ro);
  // Each touched id is brought to its CURRENT stored state, once: replaying
  // twice, or entries the index already holds, changes nothing.
  std::vector<uint32_t> touched;
  uint64_t entries = 0;
  const storage::EntityKind want = spaces::ToStorageKind(kind);
  for (it->Seek(lo); it->Valid(); it->Next()) {
    spaces::LogEntry e;
    RECDB_RETURN_IF_ERROR(spaces::DecodeLogEntry(it->value().ToStringView(), &e));
    if (e.kind != want) continue;
    touched.push_back(e.iid);
    ++entries;
  }
  RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  std::string bytes;
  std::vector<float> v;
  const auto dim = static_cast<uint32_t>(s.def.options.dimension);
  std::vector<uint32_t> gone;  // each id's final state, so removals can wait
  for (uint32_t iid : touched) {
    Status st = store.Get(ColumnFamily::kVectors, spaces::VectorKey(s.def.id, kind, iid), &bytes);
    if (st.IsNotFound() || (st.ok() && !spaces::DecodeVector(bytes, dim, &v).ok())) {
      gone.push_back(iid);
      continue;
    }
    RECDB_RETURN_IF_ERROR(st);
    RECDB_RETURN_IF_ERROR(idx->Upsert(iid, v));
  }
  RECDB_RETURN_IF_ERROR(idx->RemoveMany(gone).status());  // one pass over the graph
  return entries;
}

void SpaceManager::CloseWithoutCheckpoint() {
  if (closed_.exchange(true)) return;
  if (checkpoint_job_ != 0 && db_->scheduler() != nullptr) db_->scheduler()->Cancel(checkpoint_job_);
}

Status SpaceManager::Close() {
  if (closed_.exchange(true)) return Status::OK();
  return NoThrow([&]() -> Status {
    if (checkpoint_job_ != 0 && db_->scheduler() != nullptr) {
      db_->scheduler()->Cancel(checkpoint_job_);
    }
    if (db_->options().read_only || db_->store() == nullptr ||
        db_->store()->Handle(ColumnFamily::kVectors) == nullptr) {
      return Status::OK();
    }
    return CheckpointAllSpaces();
  });
}

// --- Definitions --------------------------------------------------------------

Status SpaceManager::CreateSpace(const SpaceOptions& options) {
  return NoThrow([&]() -> Status {
    RECDB_RETURN_IF_ERROR(CheckWritable());
    const SpaceOptions& o = options;
    if (!spaces::IsValidSpaceName(o.name)) {
      return Status::InvalidArgument("space name \"" + o.name +
                                     "\" must be 1-64 characters of [A-Za-z0-9_.-]");
    }
    if (o.dimension < 1 || o.dimension > kMaxVectorDimension) {
      return Status::InvalidArgument("dimension " + std::to_string(o.dimension) +
                                     " outside 1.." + std::to_string(kMaxVectorDimension));
    }
    if (o.metric != Metric::kCosine && o.metric != Metric::kInnerProduct &&
        o.metric != Metric::kL2) {
      return Status::InvalidArgument("unknown metric");
    }
    if (o.hnsw_m < 2 || o.hnsw_m > kMaxHnswM) {
      return Status::InvalidArgument("hnsw_m " + std::to_string(o.hnsw_m) + " outside 2..1024");
    }
    if (o.hnsw_ef_construction < 1 || o.hnsw_ef_construction > kMaxHnswEf ||
        o.hnsw_ef_search < 1 || o.hnsw_ef_search > kMaxHnswEf) {
      return Status::InvalidArgument("hnsw_ef_construction and hnsw_ef_search must be in 1..100000");
    }
    if (o.model_name.size() > kMaxModelStringBytes ||
        o.model_version.size() > kMaxModelStringBytes) {
      return Status::InvalidArgument("model_name and model_version are limited to 256 bytes");
    }
    std::unique_lock lock(spaces_mu_);
    if (spaces_.count(o.name) != 0) {
      return Status::AlreadyExists("embedding space \"" + o.name + "\" exists");
    }
    spaces::SpaceDefinition def;
    def.id = static_cast<uint32_t>(next_space_id_);
    def.options = o;
    def.created_at = db_->clock()->NowSeconds();
    if (next_space_id_ >= UINT32_MAX) return Status::ResourceExhausted("space ids exhausted");
    storage::Store* store = db_->store();
    auto* vcf = store->Handle(ColumnFamily::kVectors);
    rocksdb::WriteBatch batch;
    batch.Put(vcf, spaces::SpaceDefinitionKey(def.id), spaces::EncodeSpaceDefinition(def));
    batch.Put(vcf, spaces::NextSpaceIdKey(), storage::EncodeCounter(next_space_id_ + 1));
    RECDB_RETURN_IF_ERROR(store->Write(&batch, /*sync=*/true));
    ++next_space_id_;

    auto s = std::make_shared<Space>(std::move(def));
    uint64_t last = 0;
    {
      std::lock_guard seq(sequence_mu_);
      last = next_sequence_ - 1;
    }
    for (EntityKind kind : kKinds) {
      RECDB_ASSIGN_OR_RETURN(std::unique_ptr<index::HnswIndex> idx,
                             index::HnswIndex::Create(static_cast<uint32_t>(o.dimension),
                                                      spaces::ToIndexMetric(o.metric),
                                                      spaces::ToHnswOptions(o)));
      idx->set_covered_sequence(last);
      s->SetIndex(kind, std::shared_ptr<index::HnswIndex>(std::move(idx)));
    }
    spaces_[o.name] = std::move(s);
    return Status::OK();
  });
}

Status SpaceManager::DropSpace(const std::string& name) {
  return NoThrow([&]() -> Status {
    RECDB_RETURN_IF_ERROR(CheckWritable());
    std::unique_lock lock(spaces_mu_);
    auto found = spaces_.find(name);
    if (found == spaces_.end()) return Status::NotFound("no embedding space \"" + name + "\"");
    SpacePtr s = found->second;
    const uint32_t id = s->def.id;
    storage::Store* store = db_->store();
    {
      std::lock_guard maintenance(s->maintenance_mu);
      std::lock_guard write(s->write_mu);
      rocksdb::WriteBatch batch;
      auto* vcf = store->Handle(ColumnFamily::kVectors);
      batch.Delete(vcf, spaces::SpaceDefinitionKey(id));
      batch.Delete(vcf, spaces::TruncatedKey(id));
      batch.Delete(vcf, spaces::TextModelKey(id));
      // Point deletes, no range tombstones (storage::Store::AddDeletesInRange);
      // write_mu is held, so the scans see every vector and log entry.
      RECDB_RETURN_IF_ERROR(store->AddDeletesInRange(ColumnFamily::kVectors,
                                                     spaces::SpaceBegin(id),
                                                     spaces::SpaceBegin(id + 1), &batch)
                                .status());
      RECDB_RETURN_IF_ERROR(store->AddDeletesInRange(ColumnFamily::kVectorLog,
                                                     spaces::LogKey(id, 0),
                                                     spaces::LogKey(id + 1, 0), &batch)
                                .status());
      RECDB_RETURN_IF_ERROR(store->Write(&batch, /*sync=*/true));
      s->dropped = true;
      spaces_.erase(found);
      for (EntityKind kind : kKinds) {
        std::error_code ec;
        std::filesystem::remove(FilePath(id, kind), ec);
        std::filesystem::remove(FilePath(id, kind) + ".tmp", ec);
      }
    }
    lock.unlock();
    // The dropped vectors' bytes leave RocksDB's files now rather than at
    // some later compaction (docs/DESIGN.md decision 9).
    RECDB_RETURN_IF_ERROR(store->Flush());
    const std::string b = spaces::SpaceBegin(id), e = spaces::SpaceBegin(id + 1);
    rocksdb::Slice lo(b), up(e);
    rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    return storage::FromRocksDB(
        store->db()->CompactRange(cro, store->Handle(ColumnFamily::kVectors), &lo, &up));
  });
}

SpaceInfo SpaceManager::Info(const Space& s) const {
  SpaceInfo info;
  info.options = s.def.options;
  info.item_vectors = static_cast<int64_t>(s.Index(EntityKind::kItem)->Size());
  info.user_vectors = static_cast<int64_t>(s.Index(EntityKind::kUser)->Size());
  info.checkpoint_sequence = std::min(s.saved_covered[0].load(), s.saved_covered[1].load());
  return info;
}

StatusOr<std::vector<SpaceInfo>> SpaceManager::ListSpaces() const {
  return NoThrow([&]() -> StatusOr<std::vector<SpaceInfo>> {
    std::shared_lock lock(spaces_mu_);
    std::vector<SpaceInfo> out;
    out.reserve(spaces_.size());
    for (const auto& [name, s] : spaces_) out.push_back(Info(*s));
    return out;
  });
}

StatusOr<SpaceInfo> SpaceManager::DescribeSpace(const std::string& name) const {
  RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(name));
  return Info(*s);
}

StatusOr<std::string> SpaceManager::IndexPath(const std::string& space, EntityKind kind) const {
  RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
  return FilePath(s->def.id, kind);
}

SpaceManager::Stats SpaceManager::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

std::vector<std::string> SpaceManager::rebuild_reasons() const {
  std::lock_guard lock(stats_mu_);
  return rebuild_reasons_;
}

// --- Writes -------------------------------------------------------------------

Status SpaceManager::PutVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                                const std::vector<VectorRecord>& records) {
  return NoThrow([&]() -> Status {
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
    if (records.size() > kMaxBatchSize) {
      return Status::InvalidArgument("batch of " + std::to_string(records.size()) +
                                     " vectors exceeds kMaxBatchSize (" +
                                     std::to_string(kMaxBatchSize) + ")");
    }
    const SpaceOptions& o = s->def.options;
    std::vector<Change> changes;
    changes.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      const VectorRecord& r = records[i];
      const std::string where = "batch[" + std::to_string(i) + "]";
      std::optional<uint32_t> iid =
          kind == EntityKind::kItem ? db_->FindItemIid(r.id) : db_->FindUserIid(r.id);
      if (!iid) {
        return Status::InvalidArgument(where + ".id: unknown " + spaces::KindName(kind) + " \"" +
                                       r.id + "\"");
      }
      Status valid = CheckFinite(r.values, static_cast<uint32_t>(o.dimension), o.metric);
      if (!valid.ok()) {
        return Status::InvalidArgument(where + ".values (" + spaces::KindName(kind) + " \"" +
                                       r.id + "\"): " + valid.message());
      }
      changes.push_back(Change{*iid, &r.values});
    }
    if (changes.empty()) return Status::OK();
    return Commit(wo, s, kind, changes);
  });
}

Status SpaceManager::DeleteVectors(const WriteOptions& wo, const std::string& space,
                                   EntityKind kind, const std::vector<std::string>& ids) {
  return NoThrow([&]() -> Status {
    RECDB_RETURN_IF_ERROR(CheckWritable());
    RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
    std::vector<uint32_t> iids;
    std::string bytes;
    for (const std::string& id : ids) {
      std::optional<uint32_t> iid =
          kind == EntityKind::kItem ? db_->FindItemIid(id) : db_->FindUserIid(id);
      if (!iid) continue;
      Status st = db_->store()->Get(ColumnFamily::kVectors,
                                    spaces::VectorKey(s->def.id, kind, *iid), &bytes);
      if (st.IsNotFound()) continue;
      RECDB_RETURN_IF_ERROR(st);
      iids.push_back(*iid);
    }
    std::sort(iids.begin(), iids.end());
    iids.erase(std::unique(iids.begin(), iids.end()), iids.end());
    if (iids.empty()) return Status::OK();
    std::vector<Change> changes;
    changes.reserve(iids.size());
    for (uint32_t iid : iids) changes.push_back(Change{iid, nullptr});
    return Commit(wo, s, kind, changes);
  });
}

Status SpaceManager::Commit(const WriteOptions& wo, const SpacePtr& sp, EntityKind kind,
                            const std::vector<Change>& changes) {
  Space& s = *sp;
  storage::Store* store = db_->store();
  std::lock_guard write(s.write_mu);
  if (s.dropped) {
    return Status::NotFound("embedding space \"" + s.def.options.name + "\" was dropped");
  }
  const storage::EntityKind skind = spaces::ToStorageKind(kind);
  uint64_t last = 0;
  bool deleted = false;
  {
    std::lock_guard seq_lock(sequence_mu_);
    rocksdb::WriteBatch batch;
    auto* vcf = store->Handle(ColumnFamily::kVectors);
    auto* lcf = store->Handle(ColumnFamily::kVectorLog);
    uint64_t seq = next_sequence_;
    for (const Change& c : changes) {
      const std::string key = spaces::VectorKey(s.def.id, kind, c.iid);
      spaces::LogEntry entry{skind, c.iid, spaces::LogOp::kPut};
      if (c.values != nullptr) {
        batch.Put(vcf, key, spaces::EncodeVector(c.values->data(), c.values->size()));
      } else {
        batch.Delete(vcf, key);
        entry.op = spaces::LogOp::kDelete;
        deleted = true;
      }
      batch.Put(lcf, spaces::LogKey(s.def.id, seq++), spaces::EncodeLogEntry(entry));
    }
    batch.Put(vcf, spaces::NextLogSequenceKey(), storage::EncodeCounter(seq));
    RECDB_RETURN_IF_ERROR(store->Write(&batch, wo.sync));
    next_sequence_ = seq;
    last = seq - 1;
  }

  // Committed: bring the index up to date, in log order.
  std::shared_ptr<index::HnswIndex> idx = s.Index(kind);
  Status applied;
  for (size_t i = 0; i < changes.size();) {
    Status st;
    if (changes[i].values != nullptr) {
      st = idx->Upsert(changes[i].iid, *changes[i].values);
      ++i;
    } else {  // a run of removals: one pass over the graph (RemoveMany)
      std::vector<uint32_t> run;
      for (; i < changes.size() && changes[i].values == nullptr; ++i) run.push_back(changes[i].iid);
      st = idx->RemoveMany(run).status();
    }
    if (!st.ok() && applied.ok()) applied = st;
  }
  if (deleted) s.deletions_pending = true;
  if (!applied.ok()) {
    // The index no longer matches RocksDB: never checkpoint it; rebuild.
    s.broken[KindSlot(kind)] = true;
    s.rebuild_scheduled[KindSlot(kind)] = false;
    MaybeScheduleCompaction(sp, kind);
    return Status::Internal("vectors stored, but the index update failed (it is rebuilt in the "
                            "background): " +
                            applied.ToString());
  }
  // Every change of this space up to `last` is in both kinds' indexes.
  for (EntityKind k : kKinds) {
    if (!s.broken[KindSlot(k)]) s.Index(k)->set_covered_sequence(last);
  }
  if (deleted) MaybeScheduleCompaction(sp, kind);
  return Status::OK();
}

// --- Reads --------------------------------------------------------------------

StatusOr<std::vector<float>> SpaceManager::GetVector(const std::string& space, EntityKind kind,
                                                     const std::string& id) const {
  return NoThrow([&]() -> StatusOr<std::vector<float>> {
    RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
    std::optional<uint32_t> iid =
        kind == EntityKind::kItem ? db_->FindItemIid(id) : db_->FindUserIid(id);
    if (!iid) return Status::NotFound(std::string("no ") + spaces::KindName(kind) + " \"" + id + "\"");
    std::string bytes;
    Status st = db_->store()->Get(ColumnFamily::kVectors, spaces::VectorKey(s->def.id, kind, *iid),
                                  &bytes);
    if (st.IsNotFound()) {
      return Status::NotFound(std::string(spaces::KindName(kind)) + " \"" + id +
                              "\" has no vector in space \"" + space + "\"");
    }
    RECDB_RETURN_IF_ERROR(st);
    std::vector<float> v;
    st = spaces::DecodeVector(bytes, static_cast<uint32_t>(s->def.options.dimension), &v);
    if (!st.ok()) return st.WithContext(std::string(spaces::KindName(kind)) + " \"" + id + "\"");
    return v;
  });
}

StatusOr<std::vector<ScoredItem>> SpaceManager::Search(const Space& s,
                                                       std::span<const float> query, size_t k,
                                                       const ItemFilter& filter,
                                                       const uint32_t* exclude_iid) const {
  if (k == 0 || k > kMaxSearchK) {
    return Status::InvalidArgument("k " + std::to_string(k) + " outside 1.." +
                                   std::to_string(kMaxSearchK));
  }
  const SpaceOptions& o = s.def.options;
  Status valid = CheckFinite(query, static_cast<uint32_t>(o.dimension), o.metric);
  if (!valid.ok()) return Status::InvalidArgument("query: " + valid.message());
  RECDB_ASSIGN_OR_RETURN(
      ItemBitset bits,
      catalog_->Compile(
          filter, [this](const std::string& id) { return db_->FindItemIid(id); },
          db_->ItemIdLimit()));
  if (exclude_iid != nullptr) bits.Set(*exclude_iid, false);
  BitsetFilter f(&bits);
  std::shared_ptr<index::HnswIndex> idx = s.Index(EntityKind::kItem);
  RECDB_ASSIGN_OR_RETURN(std::vector<index::Neighbor> hits, idx->Search(query, k, &f));
  std::vector<ScoredItem> out;
  out.reserve(hits.size());
  for (const index::Neighbor& n : hits) out.push_back(ScoredItem{db_->ItemExternalId(n.id), n.score});
  return out;
}

StatusOr<std::vector<ScoredItem>> SpaceManager::SearchSimilar(const std::string& space,
                                                              std::span<const float> query,
                                                              size_t k,
                                                              const ItemFilter& filter) const {
  return NoThrow([&]() -> StatusOr<std::vector<ScoredItem>> {
    RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
    return Search(*s, query, k, filter, nullptr);
  });
}

StatusOr<std::vector<ScoredItem>> SpaceManager::SearchSimilarToItem(
    const std::string& space, const std::string& item_id, size_t k,
    const ItemFilter& filter) const {
  return NoThrow([&]() -> StatusOr<std::vector<ScoredItem>> {
    RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
    RECDB_ASSIGN_OR_RETURN(std::vector<float> query, GetVector(space, EntityKind::kItem, item_id));
    const uint32_t iid = *db_->FindItemIid(item_id);  // GetVector resolved it
    return Search(*s, query, k, filter, &iid);
  });
}

// --- Checkpoints and background rebuilds -----------------------------------------

Status SpaceManager::Checkpoint() {
  return NoThrow([&]() -> Status {
    RECDB_RETURN_IF_ERROR(CheckWritable());
    return CheckpointAllSpaces();
  });
}

Status SpaceManager::CheckpointAllSpaces() {
  std::vector<SpacePtr> all;
  {
    std::shared_lock lock(spaces_mu_);
    for (auto& [name, s] : spaces_) all.push_back(s);
  }
  Status first;
  for (const SpacePtr& s : all) {
    Status st = CheckpointSpace(*s);
    if (first.ok() && !st.ok()) first = st.WithContext("space \"" + s->def.options.name + "\"");
  }
  return first;
}

SpaceManager::CheckpointPause SpaceManager::PauseCheckpoints() {
  CheckpointPause pause;
  pause.spaces_lock_ = std::shared_lock(spaces_mu_);
  for (auto& [name, s] : spaces_) {
    pause.spaces_.push_back(s);
    pause.locks_.emplace_back(s->maintenance_mu);
  }
  return pause;
}

Status SpaceManager::CheckpointSpace(Space& s) {
  namespace fs = std::filesystem;
  storage::Store* store = db_->store();
  std::lock_guard maintenance(s.maintenance_mu);
  std::shared_ptr<index::HnswIndex> idx[2];
  uint64_t covered[2] = {0, 0};
  {
    std::lock_guard write(s.write_mu);
    if (s.dropped) return Status::OK();
    for (EntityKind kind : kKinds) {
      idx[KindSlot(kind)] = s.Index(kind);
      covered[KindSlot(kind)] = idx[KindSlot(kind)]->covered_sequence();
    }
  }
  // The checkpoint claims these log positions: make them durable in RocksDB
  // first, so a file never covers writes a power loss could undo.
  // A synced write rather than FlushWAL(true): the write path refuses with
  // the background error once a WAL write has failed, whereas FlushWAL syncs
  // the failed WAL writer, which aborts the process in RocksDB 7.8 builds with
  // assertions on (Debian's). Regression test: tests/fault (CheckpointAfter-
  // FailedWalWriteIsAStatus).
  {
    rocksdb::WriteBatch sync_marker;
    sync_marker.PutLogData(rocksdb::Slice());
    RECDB_RETURN_IF_ERROR(store->Write(&sync_marker, /*sync=*/true));
  }
  for (EntityKind kind : kKinds) {
    const int slot = KindSlot(kind);
    if (s.broken[slot]) continue;  // waits for its rebuild
    const std::string path = FilePath(s.def.id, kind);
    std::error_code ec;
    if (covered[slot] <= s.saved_covered[slot] && fs::exists(path, ec)) continue;
    // Save records the index's covered sequence at copy-out time, >= covered[slot].
    RECDB_RETURN_IF_ERROR(idx[slot]->Save(path, db_->env()));
    s.saved_covered[slot] = covered[slot];
    std::lock_guard lock(stats_mu_);
    stats_.checkpoints++;
  }
  // Log entries both checkpoints cover are no longer needed.
  const uint64_t through = std::min(s.saved_covered[0].load(), s.saved_covered[1].load());
  if (through > s.truncated_through) {
    // Entries up to `through` are all written already: the scan sees each.
    // It starts past the last truncation, not over its tombstones.
    rocksdb::WriteBatch batch;
    RECDB_RETURN_IF_ERROR(store->AddDeletesInRange(ColumnFamily::kVectorLog,
                                                   spaces::LogKey(s.def.id, s.truncated_through + 1),
                                                   spaces::LogKey(s.def.id, through + 1), &batch)
                              .status());
    batch.Put(store->Handle(ColumnFamily::kVectors), spaces::TruncatedKey(s.def.id),
              storage::EncodeCounter(through));
    RECDB_RETURN_IF_ERROR(store->Write(&batch, /*sync=*/false));
    s.truncated_through = through;
  }
  // Deleted vectors: the index files no longer hold them; push their bytes
  // out of the memtables, WAL and SST files too (docs/DESIGN.md decision 9).
  if (s.deletions_pending.exchange(false)) {
    Status st = store->Flush();
    if (st.ok()) {
      const std::string b = spaces::SpaceBegin(s.def.id), e = spaces::SpaceBegin(s.def.id + 1);
      rocksdb::Slice lo(b), up(e);
      rocksdb::CompactRangeOptions cro;
      cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      st = storage::FromRocksDB(
          store->db()->CompactRange(cro, store->Handle(ColumnFamily::kVectors), &lo, &up));
    }
    if (!st.ok()) {
      s.deletions_pending = true;  // retried at the next checkpoint
      return st;
    }
  }
  return Status::OK();
}

void SpaceManager::MaybeScheduleCompaction(const SpacePtr& s, EntityKind kind) {
  const int slot = KindSlot(kind);
  if (db_->options().read_only || closed_.load()) return;
  if (!s->broken[slot] && s->Index(kind)->DeletedFraction() <= options_.compaction_threshold) {
    return;
  }
  if (s->rebuild_scheduled[slot].exchange(true)) return;
  const Scheduler::JobId id = db_->scheduler()->Post("space-rebuild", [this, s, kind, slot] {
    // A failure is retried on the next trigger.
    const Status st = closed_.load() ? Status::OK() : RebuildInBackground(s, kind);
    s->rebuild_scheduled[slot] = false;
    return st;
  });
  if (id == 0) s->rebuild_scheduled[slot] = false;
}

Status SpaceManager::RebuildInBackground(const SpacePtr& sp, EntityKind kind) {
  return NoThrow([&]() -> Status {
    Space& s = *sp;
    std::lock_guard maintenance(s.maintenance_mu);
    {
      std::lock_guard write(s.write_mu);
      if (s.dropped) return Status::OK();
    }
    // Built from a snapshot while the old index keeps serving and writers
    // keep writing; the log then brings it to the present under the write
    // lock (the log is not truncated meanwhile: we hold maintenance_mu).
    RECDB_ASSIGN_OR_RETURN(std::shared_ptr<index::HnswIndex> fresh, BuildFromStore(s, kind));
    std::lock_guard write(s.write_mu);
    if (s.dropped) return Status::OK();
    RECDB_RETURN_IF_ERROR(ReplayLog(s, kind, fresh.get(), fresh->covered_sequence()).status());
    uint64_t last = 0;
    {
      std::lock_guard seq(sequence_mu_);
      last = next_sequence_ - 1;
    }
    fresh->set_covered_sequence(last);
    s.SetIndex(kind, std::move(fresh));
    s.broken[KindSlot(kind)] = false;
    std::lock_guard lock(stats_mu_);
    stats_.compactions++;
    return Status::OK();
  });
}

StatusOr<bool> SpaceManager::CompactIfNeeded(const std::string& space, EntityKind kind) {
  RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
  if (!s->broken[KindSlot(kind)] &&
      s->Index(kind)->DeletedFraction() <= options_.compaction_threshold) {
    return false;
  }
  RECDB_RETURN_IF_ERROR(RebuildInBackground(s, kind));
  return true;
}

StatusOr<std::string> SpaceManager::TextModelBytes(const std::string& space) const {
  RECDB_ASSIGN_OR_RETURN(SpacePtr s, Find(space));
  std::string bytes;
  Status st = db_->store()->Get(ColumnFamily::kVectors, spaces::TextModelKey(s->def.id), &bytes);
  if (st.IsNotFound()) return Status::NotFound("space \"" + space + "\" has no built-in text model");
  RECDB_RETURN_IF_ERROR(st);
  return bytes;
}

}  // namespace recdb
