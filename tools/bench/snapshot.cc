// `recdb bench snapshot`: time and size of DB::CreateSnapshot on the ml-100k
// database (--data, default ../shared/data/ml-100k; skipped when absent) and
// on a synthetic world (default 1M events, as `recdb bench recommend
// --world synthetic`), against two anchors measured in the same run on the
// same database:
//   - rocksdb::Checkpoint of the same RocksDB (hard links, no checksums, no
//     derived files, no manifest): what the snapshot adds to RocksDB's own
//     online copy;
//   - a plain recursive copy of the directory, every file and directory
//     fsynced (not consistent while the database runs): what a durable byte
//     copy costs, against a snapshot with SnapshotOptions::link_files =
//     false (which copies, checksums and fsyncs too).
// Each figure is the median of --repeat runs, interleaved. Also reported:
// an incremental snapshot after 1% more events (its new bytes), verify and
// restore times. Bar (issue 8): ml-100k snapshot under 1 s.
#include <fcntl.h>
#include <rocksdb/utilities/checkpoint.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/db_impl/db_impl.h"
#include "recdb/db.h"
#include "recdb/snapshot.h"
#include "storage/snapshot_files.h"
#include "tools/bench/bench.h"
#include "tools/bench/world.h"

namespace recdb::bench {
namespace {

namespace fs = std::filesystem;

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench snapshot: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

double Seconds(const std::function<Status()>& fn, Status* status) {
  const auto t0 = std::chrono::steady_clock::now();
  *status = fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double Median(std::vector<double> v) { return Summarise(std::move(v)).p50; }

uint64_t TreeBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

// The anchor: what a careful backup script does, `cp -r` then fsync every
// file and directory (a backup that a power loss can undo is none).
Status CopyTreeSynced(const std::string& src, const std::string& dst) {
  std::error_code ec;
  fs::copy(src, dst, fs::copy_options::recursive, ec);
  if (ec) return Status::IOError("copy " + src + ": " + ec.message());
  std::vector<std::string> dirs{dst};
  for (const auto& e : fs::recursive_directory_iterator(dst, ec)) {
    if (e.is_directory(ec)) {
      dirs.push_back(e.path().string());
      continue;
    }
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      return Status::IOError("fsync " + e.path().string());
    }
    ::close(fd);
  }
  for (const std::string& d : dirs) RECDB_RETURN_IF_ERROR(storage::SyncDir(Env::Default(), d));
  return Status::OK();
}

struct WorldResult {
  std::string world;
  int64_t events = 0;
  uint64_t db_bytes = 0;         // DIR on disk (SST + WAL + logs + derived)
  uint64_t snapshot_bytes = 0;   // files listed in the manifest
  double snapshot_s = 0;         // link_files = true
  double checkpoint_s = 0;       // anchor: rocksdb::Checkpoint
  double snapshot_copy_s = 0;    // link_files = false
  double file_copy_s = 0;        // anchor: recursive copy of DIR
  double incremental_s = 0;      // after 1% more events
  uint64_t incremental_new_bytes = 0;
  double verify_s = 0;
  double restore_s = 0;
  double restore_copy_s = 0;  // of which verifying + copying the files
};

// Measures one loaded database in `dir` (open as `db`); scratch under `work`.
Status Measure(DB* db, const std::string& dir, const std::string& work, int repeat,
               WorldResult* r) {
  auto* impl = static_cast<DBImpl*>(db);
  // Every variant starts from flushed memtables, so none pays the flush.
  RECDB_RETURN_IF_ERROR(impl->store()->Flush());
  r->db_bytes = TreeBytes(dir);
  std::vector<double> snap, cp, snap_copy, file_copy;
  Status s;
  for (int i = 0; i < repeat; ++i) {
    const std::string tag = std::to_string(i);
    cp.push_back(Seconds(
        [&]() -> Status {
          rocksdb::Checkpoint* raw = nullptr;
          RECDB_RETURN_IF_ERROR(storage::FromRocksDB(rocksdb::Checkpoint::Create(impl->store()->db(), &raw)));
          std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
          return storage::FromRocksDB(checkpoint->CreateCheckpoint(work + "/checkpoint" + tag));
        },
        &s));
    RECDB_RETURN_IF_ERROR(s.WithContext("rocksdb checkpoint"));
    StatusOr<SnapshotInfo> info = Status::Internal("not run");
    snap.push_back(Seconds(
        [&]() -> Status {
          info = db->CreateSnapshot(work + "/linked" + tag);
          return info.status();
        },
        &s));
    RECDB_RETURN_IF_ERROR(s.WithContext("snapshot"));
    r->snapshot_bytes = info->bytes;
    file_copy.push_back(Seconds([&]() -> Status { return CopyTreeSynced(dir, work + "/copy" + tag); },
                                &s));
    RECDB_RETURN_IF_ERROR(s.WithContext("file copy"));
    SnapshotOptions copy_files;
    copy_files.link_files = false;
    snap_copy.push_back(Seconds(
        [&]() -> Status { return db->CreateSnapshot(work + "/copied" + tag, copy_files).status(); },
        &s));
    RECDB_RETURN_IF_ERROR(s.WithContext("snapshot (copy)"));
  }
  r->snapshot_s = Median(snap);
  r->checkpoint_s = Median(cp);
  r->snapshot_copy_s = Median(snap_copy);
  r->file_copy_s = Median(file_copy);

  // Incremental: 1% more events, then a second snapshot into the copied
  // backup directory (files equal to the first snapshot's are shared).
  auto stats = db->GetStats();
  RECDB_RETURN_IF_ERROR(stats.status());
  r->events = stats->events;
  std::vector<Event> more;
  for (int64_t i = 0; i < std::max<int64_t>(1, stats->events / 100); ++i) {
    Event e;
    e.user = "bench-snapshot-user" + std::to_string(i % 100);
    e.item = "bench-snapshot-item" + std::to_string(i % 1000);
    e.type = "view";
    e.timestamp = 1700000000 + i;
    more.push_back(std::move(e));
  }
  RECDB_RETURN_IF_ERROR(db->RecordEvents({}, more));
  SnapshotOptions copy_files;
  copy_files.link_files = false;
  StatusOr<SnapshotInfo> inc = Status::Internal("not run");
  r->incremental_s = Seconds(
      [&]() -> Status {
        inc = db->CreateSnapshot(work + "/copied0", copy_files);
        return inc.status();
      },
      &s);
  RECDB_RETURN_IF_ERROR(s.WithContext("incremental snapshot"));
  r->incremental_new_bytes = inc->unique_bytes;
  StatusOr<VerifyReport> verified = Status::Internal("not run");
  r->verify_s = Seconds(
      [&]() -> Status {
        verified = VerifySnapshots(work + "/copied0");
        return verified.status();
      },
      &s);
  RECDB_RETURN_IF_ERROR(s);
  if (!verified->ok()) return Status::Corruption("verify found " + verified->problems[0].file);
  StatusOr<RestoreReport> restored = Status::Internal("not run");
  r->restore_s = Seconds(
      [&]() -> Status {
        restored = DB::Restore(work + "/copied0", work + "/restored");
        return restored.status();
      },
      &s);
  RECDB_RETURN_IF_ERROR(s.WithContext("restore"));
  r->restore_copy_s = restored->copy_seconds;
  return Status::OK();
}

void Print(const WorldResult& r, bool json, bool last) {
  if (json) {
    std::printf(
        "    {\"world\": \"%s\", \"events\": %lld, \"db_bytes\": %llu, \"snapshot_bytes\": %llu, "
        "\"snapshot_s\": %.4f, \"rocksdb_checkpoint_s\": %.4f, \"ratio_vs_checkpoint\": %.2f, "
        "\"snapshot_copy_s\": %.4f, \"file_copy_s\": %.4f, \"ratio_vs_file_copy\": %.2f, "
        "\"incremental_s\": %.4f, \"incremental_new_bytes\": %llu, \"verify_s\": %.4f, "
        "\"restore_s\": %.4f, \"restore_copy_s\": %.4f}%s\n",
        r.world.c_str(), static_cast<long long>(r.events),
        static_cast<unsigned long long>(r.db_bytes),
        static_cast<unsigned long long>(r.snapshot_bytes), r.snapshot_s, r.checkpoint_s,
        r.checkpoint_s > 0 ? r.snapshot_s / r.checkpoint_s : 0.0, r.snapshot_copy_s, r.file_copy_s,
        r.file_copy_s > 0 ? r.snapshot_copy_s / r.file_copy_s : 0.0, r.incremental_s,
        static_cast<unsigned long long>(r.incremental_new_bytes), r.verify_s, r.restore_s,
        r.restore_copy_s, last ? "" : ",");
    return;
  }
  std::printf("%s: %lld events, directory %.1f MiB, snapshot %.1f MiB\n", r.world.c_str(),
              static_cast<long long>(r.events), r.db_bytes / 1048576.0,
              r.snapshot_bytes / 1048576.0);
  std::printf("  snapshot (hard links)     %8.4f s   rocksdb::Checkpoint %8.4f s   ratio %.2fx\n",
              r.snapshot_s, r.checkpoint_s, r.checkpoint_s > 0 ? r.snapshot_s / r.checkpoint_s : 0);
  std::printf("  snapshot (copy files)     %8.4f s   copy + fsync        %8.4f s   ratio %.2fx\n",
              r.snapshot_copy_s, r.file_copy_s,
              r.file_copy_s > 0 ? r.snapshot_copy_s / r.file_copy_s : 0);
  std::printf("  incremental (+1%% events)  %8.4f s, %.1f KiB new\n", r.incremental_s,
              r.incremental_new_bytes / 1024.0);
  std::printf("  verify %.4f s, restore %.4f s (%.4f s verifying + copying, the rest reopening)\n",
              r.verify_s, r.restore_s, r.restore_copy_s);
}

int BenchSnapshotMain(int argc, char** argv) {
  Flags f("snapshot");
  f.args().AddFlag("data", "DIR", "the ml-100k directory (skipped when absent)", "../shared/data/ml-100k");
  f.AddWorldSizeFlags(100000, 50000, 1000000);
  f.args().AddFlag("repeat", "R", "repetitions of each measurement", "3");
  f.args().AddSwitch("no-synthetic", "measure ml-100k only");
  f.args().AddSwitch("json", "print one JSON object");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const std::string data_dir = f.Str("data");
  const int64_t items = f.Int("items", 1), users = f.Int("users", 1), events = f.Int("events", 1);
  const int repeat = static_cast<int>(f.Int("repeat", 1));
  const bool json = f.Has("json"), synthetic = !f.Has("no-synthetic");
  if (!f.ok()) return f.exit_code();
  char tmpl[] = "/tmp/recdb_bench_snapshot_XXXXXX";
  if (!mkdtemp(tmpl)) return Fail("mkdtemp", Status::IOError("cannot create temp dir"));
  const std::string root = tmpl;
  std::vector<WorldResult> results;
  std::vector<std::string> worlds;
  std::error_code ec;
  if (fs::exists(fs::path(data_dir) / "u.data", ec)) {
    worlds.push_back("ml100k");
  } else if (!json) {
    std::printf("ml-100k not found in %s: skipped (--data DIR)\n", data_dir.c_str());
  }
  if (synthetic) worlds.push_back("synthetic");
  for (const std::string& world : worlds) {
    const std::string dir = root + "/" + world + "-db";
    const std::string work = root + "/" + world + "-work";
    fs::create_directories(work, ec);
    auto opened = OpenBenchDB(dir);
    if (!opened.ok()) return Fail("open", opened.status());
    std::unique_ptr<DB> db = std::move(opened).value();
    Status s = world == "ml100k" ? LoadMovieLens(db.get(), data_dir)
                                 : LoadSynthetic(db.get(), items, users, events);
    if (!s.ok()) return Fail("load " + world, s);
    WorldResult r;
    r.world = world == "ml100k" ? "ml-100k" : "synthetic " + std::to_string(events) + " events";
    s = Measure(db.get(), dir, work, repeat, &r);
    if (!s.ok()) return Fail(world, s);
    s = db->Close();
    if (!s.ok()) return Fail("close", s);
    results.push_back(r);
    fs::remove_all(dir, ec);
    fs::remove_all(work, ec);
  }
  fs::remove_all(root, ec);
  if (json) std::printf("{\"repeat\": %d, \"worlds\": [\n", repeat);
  for (size_t i = 0; i < results.size(); ++i) Print(results[i], json, i + 1 == results.size());
  if (json) std::printf("]}\n");
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("snapshot", BenchSnapshotMain,
                     "snapshot time/size (ml-100k, 1M-event world) vs rocksdb::Checkpoint and a file copy");

}  // namespace recdb::bench
