#include "storage/store.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <atomic>
#include <filesystem>
#include <utility>

#include "storage/counter_merge_operator.h"
#include "storage/env_file_system.h"

namespace recdb::storage {
namespace {

constexpr std::string_view kNames[kNumColumnFamilies] = {
    "default",    "meta",    "ids",        "items",  "users",       "events",
    "item_stats", "vectors", "vector_log", "models", "impressions", "stats_log"};

// Families that must exist for the engine to work. A read-only open of a
// database without one is Corruption; the families added later may be absent
// there (store.h).
constexpr bool IsCore(int i) {
  return i <= static_cast<int>(ColumnFamily::kItemStats) ||
         i == static_cast<int>(ColumnFamily::kStatsLog);
}

int IndexOf(std::string_view name) {
  for (int i = 0; i < kNumColumnFamilies; ++i) {
    if (kNames[i] == name) return i;
  }
  return -1;
}

}  // namespace

std::string_view ColumnFamilyName(ColumnFamily cf) { return kNames[static_cast<int>(cf)]; }

Status FromRocksDB(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  std::string msg = "rocksdb: " + s.ToString();
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return Status::NotFound(msg);
    case rocksdb::Status::kCorruption:
      return Status::Corruption(msg);
    case rocksdb::Status::kNotSupported:
      return Status::NotSupported(msg);
    case rocksdb::Status::kInvalidArgument:
      return Status::InvalidArgument(msg);
    case rocksdb::Status::kIOError:
      if (s.subcode() == rocksdb::Status::kNoSpace) return Status::ResourceExhausted(msg);
      return Status::IOError(msg);
    case rocksdb::Status::kMergeInProgress:
      return Status::Internal(msg);
    case rocksdb::Status::kIncomplete:
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kAborted:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kExpired:
      return Status::Aborted(msg);
    case rocksdb::Status::kShutdownInProgress:
      return Status::FailedPrecondition(msg);
    case rocksdb::Status::kCompactionTooLarge:
      return Status::ResourceExhausted(msg);
    case rocksdb::Status::kColumnFamilyDropped:
      return Status::FailedPrecondition(msg);
    default:
      return Status::Internal(msg);
  }
}

rocksdb::ColumnFamilyOptions Store::MakeColumnFamilyOptions(
    const Options& options, std::string_view name, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = options.write_buffer_bytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  // Point-lookup families get a Bloom filter; the range-scanned ones
  // (events, item_stats) would only pay for it.
  int idx = IndexOf(name);
  if (idx == static_cast<int>(ColumnFamily::kIds) ||
      idx == static_cast<int>(ColumnFamily::kItems) ||
      idx == static_cast<int>(ColumnFamily::kUsers) ||
      idx == static_cast<int>(ColumnFamily::kMeta)) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (idx == static_cast<int>(ColumnFamily::kItemStats)) {
    cf.merge_operator = NewInt64AddOperator();
  }
  return cf;
}

StatusOr<std::unique_ptr<Store>> Store::Open(const Options& options, const std::string& db_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(fs::path(db_dir) / "CURRENT", ec);
  if (!exists && !options.create_if_missing) {
    return Status::NotFound("no database in " + db_dir + " (create_if_missing is false)");
  }
  if (exists && options.error_if_exists) {
    return Status::AlreadyExists("a database exists in " + db_dir + " (error_if_exists)");
  }
  if (!exists && options.read_only) {
    return Status::NotFound("no database in " + db_dir + " to open read-only");
  }

  std::unique_ptr<Store> store(new Store());
  store->dir_ = db_dir;
  store->created_ = !exists;
  store->read_only_ = options.read_only;

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;  // existence was decided above
  dbo.create_missing_column_families = !options.read_only;
  dbo.max_background_jobs = 2;
  // Open loads each column family's table files on this many new threads
  // (RocksDB's default 16, per column family: ~180 thread starts, a third of
  // a one-shot CLI call's CPU on ml-100k). Two cores need no more than two.
  dbo.max_file_opening_threads = 2;
  dbo.bytes_per_sync = 1 << 20;
  dbo.keep_log_file_num = 4;
  store->env_ = NewStorageEnv(options.env);
  if (store->env_ != nullptr) dbo.env = store->env_.get();
  // Privacy (engine/privacy/README.md): start a new MANIFEST at every version
  // edit, so the file boundary keys of compacted-away files (which may be a
  // forgotten user's keys) leave the MANIFEST at the next flush. Costs one
  // small snapshot of the live-file list per flush/compaction. Obsolete WAL
  // files are deleted, never archived (WAL_ttl_seconds = WAL_size_limit_MB = 0,
  // the defaults, stated here because erasure depends on them).
  dbo.max_manifest_file_size = 1;
  dbo.WAL_ttl_seconds = 0;
  dbo.WAL_size_limit_MB = 0;

  // Every family that exists, plus every recdb family (created if missing).
  std::vector<std::string> names;
  if (exists) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(dbo, db_dir, &names);
    if (!s.ok()) {
      // CURRENT names a MANIFEST that cannot be read back (truncated,
      // overwritten): the database is damaged, not foreign.
      return Status(s.IsCorruption() || s.IsIOError() ? StatusCode::kCorruption
                                                      : FromRocksDB(s).code(),
                    fs::path(db_dir).parent_path().string() +
                        " is damaged: its RocksDB MANIFEST cannot be read (" + s.ToString() +
                        "); restore it from a snapshot (recdb backup restore, DB::Restore)");
    }
  }
  std::vector<bool> present(kNumColumnFamilies, false);
  for (const std::string& n : names) {
    if (int i = IndexOf(n); i >= 0) present[i] = true;
  }
  for (int i = 0; i < kNumColumnFamilies; ++i) {
    if (present[i]) continue;
    if (options.read_only) {
      if (IsCore(i)) {
        return Status::Corruption(
            fs::path(db_dir).parent_path().string() + " is damaged or was not written by "
            "recdb: column family \"" + std::string(kNames[i]) + "\" is missing (a truncated "
            "MANIFEST loses them); restore it from a snapshot (recdb backup restore, "
            "DB::Restore)");
      }
      continue;
    }
    names.emplace_back(kNames[i]);
  }

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(names.size());
  for (const std::string& n : names) {
    descriptors.emplace_back(n, MakeColumnFamilyOptions(options, n, cache));
    if (IndexOf(n) == static_cast<int>(ColumnFamily::kEvents)) {
      descriptors.back().options.compaction_filter_factory = store->retention_;
    }
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s;
  if (options.read_only) {
    s = rocksdb::DB::OpenForReadOnly(dbo, db_dir, descriptors, &handles, &store->db_);
  } else {
    if (!fs::exists(db_dir, ec) && !fs::create_directories(db_dir, ec)) {
      return Status::IOError("cannot create " + db_dir + ": " + ec.message());
    }
    s = rocksdb::DB::Open(dbo, db_dir, descriptors, &handles, &store->db_);
  }
  if (!s.ok() && s.IsCorruption()) {
    return Status::Corruption(fs::path(db_dir).parent_path().string() + " is damaged (" +
                              s.ToString() +
                              "); restore it from a snapshot (recdb backup restore, DB::Restore)");
  }
  if (!s.ok()) {
    // RocksDB's "While lock file: .../LOCK: Resource temporarily unavailable"
    // means another process (recdb serve, an application) has the database
    // open for writing: say that, not the errno.
    if (s.IsIOError() && s.ToString().find("lock file") != std::string::npos) {
      const std::string dir = fs::path(db_dir).parent_path().string();
      return Status::IOError(
          dir + " is open in another process (its LOCK file is held: a `recdb serve` or an "
                "application has it open for writing). Stop that process, or go through it: "
                "a served database takes writes and snapshots over HTTP (POST /v1/events, "
                "/v1/items, /v1/users, /v1/snapshots); read-only commands (stats, get, "
                "history, dump) work alongside it");
    }
    return FromRocksDB(s).WithContext("opening " + db_dir);
  }
  store->all_handles_ = handles;
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (int i = IndexOf(h->GetName()); i >= 0) store->handles_[i] = h;
  }
  return store;
}

Store::~Store() { Close().IgnoreError(); }

rocksdb::ColumnFamilyHandle* Store::Handle(std::string_view name) const {
  for (rocksdb::ColumnFamilyHandle* h : all_handles_) {
    if (h->GetName() == name) return h;
  }
  return nullptr;
}

Status Store::Write(rocksdb::WriteBatch* batch, bool sync) {
  if (read_only_) return Status::FailedPrecondition("database is open read-only");
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocksDB(db_->Write(wo, batch));
}

Status Store::Get(ColumnFamily cf, std::string_view key, std::string* value,
                  const rocksdb::Snapshot* snapshot, bool verify_checksums) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.verify_checksums = verify_checksums;
  rocksdb::PinnableSlice pinned;
  rocksdb::Status s = db_->Get(ro, Handle(cf), rocksdb::Slice(key.data(), key.size()), &pinned);
  if (s.IsNotFound()) return Status::NotFound("key not found");
  if (!s.ok()) return FromRocksDB(s);
  value->assign(pinned.data(), pinned.size());
  return Status::OK();
}

std::unique_ptr<rocksdb::Iterator> Store::NewIterator(ColumnFamily cf,
                                                      const rocksdb::ReadOptions& ro) const {
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro, Handle(cf)));
}

namespace {

// The smallest key greater than every key that begins with `prefix`, or ""
// when there is none (a prefix of 0xff bytes only).
std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

// A RocksDB iterator together with the bounds its ReadOptions point at.
class BoundedIterator final : public rocksdb::Iterator {
 public:
  BoundedIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle, std::string_view prefix,
                  const rocksdb::Snapshot* snapshot)
      : lower_(prefix), upper_(PrefixSuccessor(prefix)), lo_(lower_), up_(upper_) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    ro.iterate_lower_bound = &lo_;
    if (!upper_.empty()) ro.iterate_upper_bound = &up_;
    it_.reset(db->NewIterator(ro, handle));
    it_->Seek(lo_);
  }
  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override { it_->Seek(lo_); }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(const rocksdb::Slice& target) override { it_->Seek(target); }
  void SeekForPrev(const rocksdb::Slice& target) override { it_->SeekForPrev(target); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  rocksdb::Slice key() const override { return it_->key(); }
  rocksdb::Slice value() const override { return it_->value(); }
  rocksdb::Status status() const override { return it_->status(); }

 private:
  const std::string lower_, upper_;
  const rocksdb::Slice lo_, up_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace

std::unique_ptr<rocksdb::Iterator> Store::NewPrefixIterator(ColumnFamily cf, std::string_view prefix,
                                                            const rocksdb::Snapshot* snapshot) const {
  return std::make_unique<BoundedIterator>(db_, Handle(cf), prefix, snapshot);
}

StatusOr<int64_t> Store::AddDeletesInRange(ColumnFamily cf, std::string_view begin,
                                           std::string_view end,
                                           rocksdb::WriteBatch* batch) const {
  rocksdb::ColumnFamilyHandle* handle = Handle(cf);
  if (handle == nullptr) return int64_t{0};  // a family added after this database was created
  rocksdb::Slice lo(begin.data(), begin.size()), up(end.data(), end.size());
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lo;
  ro.iterate_upper_bound = &up;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle));
  int64_t n = 0;
  for (it->Seek(lo); it->Valid(); it->Next(), ++n) {
    rocksdb::Status s = batch->Delete(handle, it->key());
    if (!s.ok()) return FromRocksDB(s);
  }
  RECDB_RETURN_IF_ERROR(FromRocksDB(it->status()));
  return n;
}

Snapshot Store::GetSnapshot() const { return std::make_unique<rocksdb::ManagedSnapshot>(db_); }

uint64_t Store::DiskBytes() const {
  uint64_t sst = 0;
  if (!db_->GetAggregatedIntProperty("rocksdb.live-sst-files-size", &sst)) sst = 0;
  uint64_t wal = 0;
  rocksdb::VectorLogPtr files;
  if (!read_only_ && db_->GetSortedWalFiles(files).ok()) {
    for (const auto& f : files) wal += f->SizeFileBytes();
  }
  return sst + wal;
}

Status Store::Flush() {
  if (read_only_) return Status::OK();
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return FromRocksDB(db_->Flush(fo, all_handles_));
}

Status Store::Close() {
  if (closed_ || db_ == nullptr) return Status::OK();
  closed_ = true;
  Status first = Flush();
  for (rocksdb::ColumnFamilyHandle* h : all_handles_) {
    Status s = FromRocksDB(db_->DestroyColumnFamilyHandle(h));
    if (first.ok()) first = s;
  }
  all_handles_.clear();
  handles_.fill(nullptr);
  Status s = FromRocksDB(db_->Close());
  if (first.ok()) first = s;
  delete db_;
  db_ = nullptr;
  return first;
}

}  // namespace recdb::storage
