// recdb backup create|list|verify|prune|restore: snapshots and backups
// (recdb/snapshot.h, engine/snapshot/README.md).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "recdb/snapshot.h"
#include "tools/cli/admin_json.h"
#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"

namespace recdb::cli {
namespace {

constexpr const char* kUsage =
    "Usage: recdb backup ACTION ... [--json]\n\n"
    "Actions:\n"
    "  create DIR DEST                 snapshot database DIR into backup directory DEST\n"
    "  list DEST                       the snapshots in DEST\n"
    "  verify DEST                     re-checksum every file of every snapshot (exit 1 if bad)\n"
    "  prune DEST --keep N [--max-age D]  keep the newest N, drop those older than D days\n"
    "  restore SRC DEST [--forget-ledger FROM_DIR]\n"
    "                                  restore SRC (a backup dir: its newest snapshot; or one\n"
    "                                  snapshot dir) into the new directory DEST\n\n"
    "A snapshot directory DEST/snapshot-N opens read-only in place (e.g. recdb stats).\n"
    "Run 'recdb backup ACTION --help' for an action's flags.\n";

std::string Line(const SnapshotInfo& s) {
  if (!s.problem.empty()) return s.name + "  DAMAGED: " + s.problem;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s  %s UTC  seq %llu  %llu files  %s (%s new)",
                s.name.c_str(), FormatTime(s.created_unix_micros / 1000000).c_str(),
                static_cast<unsigned long long>(s.sequence_number),
                static_cast<unsigned long long>(s.files), FormatBytes(s.bytes).c_str(),
                FormatBytes(s.unique_bytes).c_str());
  return buf;
}

int Create(int argc, char** argv) {
  ArgParser args("backup create", "Snapshot a database into a backup directory, online.",
                 "Writes DEST/snapshot-N: RocksDB's files (flushed, one consistent point),\n"
                 "the derived index files and a checksummed manifest. Unchanged files are\n"
                 "shared with the previous snapshot (and with DIR on the same file system)\n"
                 "by hard links. DIR must not be open in another process (RocksDB allows\n"
                 "one writer): an application snapshots its open database online with\n"
                 "DB::CreateSnapshot.");
  args.AddPositional("DIR", "database directory");
  args.AddPositional("DEST", "backup directory (created if missing)");
  args.AddSwitch("copy", "copy files instead of hard-linking them from DIR");
  args.AddSwitch("json", "print the new snapshot as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadWrite);
  if (!db.ok()) return Fail("backup create", db.status());
  SnapshotOptions options;
  options.link_files = !args.Has("copy");
  auto info = (*db)->CreateSnapshot(args.Positional("DEST"), options);
  if (!info.ok()) return Fail("backup create", info.status());
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("backup create", closed);
  if (args.Has("json")) {
    std::cout << SnapshotToJson(*info).dump(2) << "\n";
  } else {
    std::printf("created %s in %.3f s\n%s\n", info->path.c_str(), info->seconds,
                Line(*info).c_str());
  }
  return kExitOk;
}

int List(int argc, char** argv) {
  ArgParser args("backup list", "List the snapshots of a backup directory.",
                 "Checks each manifest's own checksum (not the files: see verify).");
  args.AddPositional("DEST", "backup directory");
  args.AddSwitch("json", "print a JSON array");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto list = ListSnapshots(args.Positional("DEST"));
  if (!list.ok()) return Fail("backup list", list.status());
  if (args.Has("json")) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const SnapshotInfo& s : *list) j.push_back(SnapshotToJson(s));
    std::cout << j.dump(2) << "\n";
  } else {
    if (list->empty()) std::cout << "no snapshots in " << args.Positional("DEST") << "\n";
    for (const SnapshotInfo& s : *list) std::cout << Line(s) << "\n";
  }
  return kExitOk;
}

int Verify(int argc, char** argv) {
  ArgParser args("backup verify", "Re-checksum every file of every snapshot.",
                 "Reads every file the manifests list (shared files once) and compares size\n"
                 "and CRC-32C. Exit status 1 names each bad file; 0 when all match.");
  args.AddPositional("DEST", "backup directory, or one snapshot directory");
  args.AddSwitch("json", "print the report as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto report = VerifySnapshots(args.Positional("DEST"));
  if (!report.ok()) return Fail("backup verify", report.status());
  const bool empty = report->snapshots == 0;
  if (args.Has("json")) {
    const nlohmann::ordered_json j = VerifyReportToJson(*report);
    std::cout << j.dump(2) << "\n";
  } else {
    for (const auto& p : report->problems) {
      std::cerr << "BAD " << p.snapshot << "/" << p.file << ": " << p.message << "\n";
    }
    std::cout << report->snapshots << " snapshots, " << report->files << " files, "
              << FormatBytes(report->bytes_read) << " read: "
              << (empty ? "nothing to verify"
                        : report->ok() ? "all match"
                                       : std::to_string(report->problems.size()) + " problems")
              << "\n";
  }
  return report->ok() && !empty ? kExitOk : kExitFailure;
}

int Prune(int argc, char** argv) {
  ArgParser args("backup prune", "Remove old snapshots.",
                 "Keeps the newest N snapshots and removes the rest, and any older than\n"
                 "--max-age days (set it to your privacy retention bound: a snapshot keeps\n"
                 "users forgotten after it was taken). Also removes partial snapshots.");
  args.AddPositional("DEST", "backup directory");
  args.AddFlag("keep", "N", "number of newest snapshots to keep (required)");
  args.AddFlag("max-age", "D", "also remove snapshots older than D days (may be fractional)");
  args.AddSwitch("json", "print the report as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (!args.Has("keep")) {
    std::cerr << "recdb backup prune: error: --keep N is required\n" << args.Help();
    return kExitUsage;
  }
  PruneOptions options;
  auto keep = args.GetInt("keep");
  if (!keep.ok() || *keep < 0) {
    std::cerr << "recdb backup prune: error: --keep must be a number >= 0\n";
    return kExitUsage;
  }
  options.keep = *keep;
  if (args.Has("max-age")) {
    auto days = args.GetDouble("max-age");
    if (!days.ok() || *days <= 0) {
      std::cerr << "recdb backup prune: error: --max-age must be a number of days > 0\n";
      return kExitUsage;
    }
    options.max_age_seconds = std::max<int64_t>(1, static_cast<int64_t>(*days * 86400.0));
  }
  auto report = PruneSnapshots(args.Positional("DEST"), options);
  if (!report.ok()) return Fail("backup prune", report.status());
  if (args.Has("json")) {
    nlohmann::ordered_json j = {{"removed", report->removed},
                                {"kept", report->kept},
                                {"bytes_freed", report->bytes_freed}};
    std::cout << j.dump(2) << "\n";
  } else {
    for (const std::string& name : report->removed) std::cout << "removed " << name << "\n";
    std::cout << report->kept.size() << " kept, " << report->removed.size() << " removed, "
              << FormatBytes(report->bytes_freed) << " freed\n";
  }
  return kExitOk;
}

int Restore(int argc, char** argv) {
  ArgParser args("backup restore", "Restore a snapshot into a new directory.",
                 "SRC is a backup directory (its newest snapshot is restored) or one\n"
                 "snapshot directory. Refuses a partial or damaged snapshot (every file's\n"
                 "size and CRC-32C are checked). Users in the snapshot's forget ledger are\n"
                 "forgotten again; with --forget-ledger, also every user forgotten in that\n"
                 "(live) database, e.g. after the snapshot was taken.");
  args.AddPositional("SRC", "backup directory or snapshot directory");
  args.AddPositional("DEST", "new database directory (absent or empty)");
  args.AddFlag("forget-ledger", "FROM_DIR", "re-apply the forget ledger of this database");
  args.AddSwitch("json", "print the report as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  RestoreOptions options;
  options.forget_ledger_from = args.Get("forget-ledger");
  auto r = DB::Restore(args.Positional("SRC"), args.Positional("DEST"), options);
  if (!r.ok()) return Fail("backup restore", r.status());
  if (args.Has("json")) {
    nlohmann::ordered_json j = {{"snapshot", SnapshotToJson(r->snapshot)},
                                {"dest", args.Positional("DEST")},
                                {"files", r->files},
                                {"bytes", r->bytes},
                                {"forgotten_by_snapshot_ledger", r->forgotten_by_snapshot_ledger},
                                {"forgotten_by_live_ledger", r->forgotten_by_live_ledger},
                                {"ledger_entries_imported", r->ledger_entries_imported},
                                {"ledger_entries_not_imported", r->ledger_entries_not_imported},
                                {"seconds", r->seconds},
                                {"copy_seconds", r->copy_seconds}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("restored %s (seq %llu) into %s: %llu files, %s, %.3f s\n",
                r->snapshot.path.c_str(),
                static_cast<unsigned long long>(r->snapshot.sequence_number),
                args.Positional("DEST").c_str(), static_cast<unsigned long long>(r->files),
                FormatBytes(r->bytes).c_str(), r->seconds);
    std::printf("forgotten again: %lld (snapshot ledger), %lld (live ledger); "
                "live ledger entries imported %lld, not importable %lld\n",
                static_cast<long long>(r->forgotten_by_snapshot_ledger),
                static_cast<long long>(r->forgotten_by_live_ledger),
                static_cast<long long>(r->ledger_entries_imported),
                static_cast<long long>(r->ledger_entries_not_imported));
  }
  return kExitOk;
}

int BackupMain(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    (argc < 2 ? std::cerr : std::cout) << kUsage;
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string action = argv[1];
  if (action == "create") return Create(argc - 1, argv + 1);
  if (action == "list") return List(argc - 1, argv + 1);
  if (action == "verify") return Verify(argc - 1, argv + 1);
  if (action == "prune") return Prune(argc - 1, argv + 1);
  if (action == "restore") return Restore(argc - 1, argv + 1);
  std::cerr << "recdb backup: error: unknown action \"" << action << "\"\n\n" << kUsage;
  return kExitUsage;
}

}  // namespace
RECDB_REGISTER_COMMAND("backup", BackupMain, 103,
                       "snapshot, list, verify, prune and restore backups");
}  // namespace recdb::cli
