// DBImpl::CreateSnapshot and ReapplyForgetLedgers: the engine's part of
// snapshots (engine/snapshot/README.md). storage/snapshot_builder.h copies
// RocksDB and the files; this file decides what goes in and when.
#include <chrono>
#include <exception>
#include <filesystem>
#include <new>
#include <thread>

#include "engine/db_impl/db_impl.h"
#include "engine/no_throw.h"
#include "engine/privacy/forget_ledger.h"
#include "engine/privacy/privacy_state.h"
#include "engine/snapshot/snapshot_info.h"
#include "storage/key_codec.h"
#include "storage/snapshot_builder.h"

namespace recdb {

namespace {

// The format version stored in meta (what the snapshot's data is written in).
StatusOr<uint64_t> StoredFormatVersion(const storage::Store& store) {
  std::string value;
  RECDB_RETURN_IF_ERROR(store.Get(storage::ColumnFamily::kMeta, storage::kMetaFormatVersion, &value));
  uint64_t version = 0;
  if (!storage::DecodeCounter(value, &version)) {
    return Status::Corruption("meta format_version is malformed");
  }
  return version;
}

}  // namespace

StatusOr<SnapshotInfo> DBImpl::CreateSnapshot(const std::string& backup_dir,
                                              const SnapshotOptions& options) {
  return NoThrow([&]() -> StatusOr<SnapshotInfo> {
    namespace fs = std::filesystem;
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    if (options_.read_only) {
      return Status::FailedPrecondition(
          "CreateSnapshot needs a writable open (a read-only open cannot flush); a snapshot "
          "directory is already a snapshot");
    }
    const auto start = std::chrono::steady_clock::now();
    RECDB_ASSIGN_OR_RETURN(const uint64_t version, StoredFormatVersion(*store_));
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<storage::SnapshotBuilder> builder,
                           storage::SnapshotBuilder::Begin(env(), backup_dir, options.link_files));
    {
      // No index checkpoint runs from here until the index files are placed,
      // so the files and the RocksDB cut agree: each file covers a log
      // position the cut holds, and the log after it is in the cut (no
      // rebuild when the snapshot opens).
      SpaceManager::CheckpointPause pause = spaces_->PauseCheckpoints();
      RECDB_RETURN_IF_ERROR(builder->CaptureRocksDB(store_->db()));
      std::error_code ec;
      std::vector<std::string> names;
      for (const fs::directory_entry& entry : fs::directory_iterator(derived_dir(), ec)) {
        const std::string name = entry.path().filename().string();
        // Temp files are checkpoints being written (none while paused) or
        // left by a crash; they are never read.
        if (!entry.is_regular_file(ec) || name.ends_with(".tmp")) continue;
        names.push_back(name);
      }
      if (ec) return Status::IOError("cannot list " + derived_dir() + ": " + ec.message());
      for (const std::string& name : names) {
        RECDB_RETURN_IF_ERROR(builder->AddFile(derived_dir() + "/" + name, "derived/" + name));
      }
    }
    RECDB_ASSIGN_OR_RETURN(storage::SnapshotDirEntry entry, builder->Commit(version));
    SnapshotInfo info = snapshot::ToSnapshotInfo(entry);
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return info;
  });
}

Status DBImpl::ReapplyForgetLedgers(const std::string& live_dir, RestoreReport* report) {
  return NoThrow([&]() -> Status {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckWritable());
    // The live database's ledger, read-only (it may be open elsewhere).
    std::unique_ptr<storage::Store> live_store;
    std::unique_ptr<privacy::ForgetLedger> live_ledger;
    std::vector<std::pair<std::string, std::string>> live_entries;  // meta key, value
    auto read_live = [&]() -> Status {
      live_ledger.reset();
      live_store.reset();
      live_entries.clear();
      Options lo;
      lo.read_only = true;
      lo.block_cache_bytes = 1u << 20;
      lo.env = options_.env;  // this database's Env
      auto opened = storage::Store::Open(lo, live_dir + "/db");
      if (!opened.ok()) return opened.status();
      live_store = std::move(opened).value();
      RECDB_ASSIGN_OR_RETURN(live_ledger, privacy::ForgetLedger::Open(live_store.get()));
      auto it = live_store->NewPrefixIterator(storage::ColumnFamily::kMeta,
                                              privacy::kMetaForgottenPrefix);
      for (; it->Valid(); it->Next()) {
        live_entries.emplace_back(it->key().ToString(), it->value().ToString());
      }
      return storage::FromRocksDB(it->status());
    };
    if (!live_dir.empty()) {
      // A read-only open of a database that is live in another handle races
      // with its compactions: a table file its MANIFEST names can be deleted
      // before the open or the read reaches it (Corruption or IOError, "No
      // such file"). Another attempt reads the newer MANIFEST.
      Status s = read_live();
      for (int attempt = 1; attempt < 5 && (s.IsCorruption() || s.IsIOError()); ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
        s = read_live();
      }
      if (!s.ok()) return s.WithContext("forget ledger of " + live_dir);
    }

    bool forgot = false;
    {
      std::lock_guard write(write_mu_);
      const std::vector<std::string> ids = UserExternalIds();
      for (uint32_t uid = 0; uid < ids.size(); ++uid) {
        const std::string& id = ids[uid];
        if (id.empty()) continue;
        const bool own = privacy_->ledger->ContainsId(id);
        const bool live = live_ledger != nullptr && live_ledger->ContainsId(id);
        if (!own && !live) continue;
        ErasureReceipt receipt;
        RECDB_RETURN_IF_ERROR(ForgetUserLocked(uid, id, &receipt).WithContext("forget again"));
        forgot = true;
        if (own) {
          report->forgotten_by_snapshot_ledger++;
        } else {
          report->forgotten_by_live_ledger++;
        }
      }
      // The snapshot's model was fitted with their events: neither its file
      // nor the loaded copy may serve (Train builds a clean one).
      if (forgot) RECDB_RETURN_IF_ERROR(recommend_->DropStoredModel(/*unload=*/true));
      // Entries for users the snapshot never held: copy them so a later
      // import of those ids is dropped too. Possible only under the same key
      // (the hashes are keyed); compared by hashing a probe with both.
      if (live_ledger != nullptr && !live_entries.empty()) {
        const std::string probe = "recdb: ledger key probe";
        const std::string ours = privacy_->ledger->Hash(probe);
        if (!ours.empty() && ours == live_ledger->Hash(probe)) {
          rocksdb::WriteBatch batch;
          std::vector<std::string> added;
          for (const auto& [key, value] : live_entries) {
            const std::string hash = key.substr(privacy::kMetaForgottenPrefix.size());
            if (privacy_->ledger->ContainsHash(hash)) continue;
            batch.Put(store_->Handle(storage::ColumnFamily::kMeta), key, value);
            added.push_back(hash);
          }
          if (!added.empty()) RECDB_RETURN_IF_ERROR(store_->Write(&batch, /*sync=*/true));
          for (const std::string& hash : added) privacy_->ledger->Insert(hash);
          report->ledger_entries_imported = static_cast<int64_t>(added.size());
        } else {
          report->ledger_entries_not_imported = static_cast<int64_t>(live_entries.size());
        }
      }
    }
    // Erasures the snapshot itself carries unswept (a ForgetUser shortly
    // before it was taken) leave their bytes in the copied SST files: a
    // restore makes them physical too.
    bool unswept = false;
    {
      std::lock_guard lock(privacy_->pending_mu);
      unswept = privacy_->pending_unknown;
    }
    if (forgot || unswept) {
      SweepReport sweep_report;
      std::lock_guard sweep(privacy_->sweep_mu);
      RECDB_RETURN_IF_ERROR(SweepPhysical(&sweep_report).WithContext("physical erasure"));
    }
    return Status::OK();
  });
}

}  // namespace recdb
