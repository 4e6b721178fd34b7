// recdb crashtest: kill -9 a writing process at random moments and check that
// the database it leaves holds every acknowledged write and agrees with
// itself (RocksDB's tools/db_crashtest.py, for recdb).
//
// Each cycle the parent fork+execs this binary as a child (`recdb crashtest
// --child ...`, not shown in --help) that opens DIR/db and runs a seeded
// random mix of writes (crashtest_child.cc), logging each one in
// DIR/expected.log before the call and acknowledging it after the call
// returns OK. After a random delay the parent SIGKILLs it, then opens the
// database read-only and checks it against the log (crashtest_verify.cc).
// The database carries over from cycle to cycle, so recovery runs on top of
// earlier recoveries. After the last cycle the parent opens it read-write,
// trains, recommends, closes (flushing everything) and verifies once more.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "tools/cli/args.h"
#include "tools/cli/crashtest_child.h"
#include "tools/cli/crashtest_model.h"

namespace recdb::cli {
namespace {

namespace ct = crashtest;

// `recdb crashtest --child DB LOG SEED CYCLE SYNC MAX_OPS`.
int ChildMain(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "recdb crashtest --child: expected 6 arguments\n");
    return kExitUsage;
  }
  ct::ChildConfig cfg;
  cfg.db_path = argv[2];
  cfg.log_path = argv[3];
  cfg.seed = std::strtoull(argv[4], nullptr, 10);
  cfg.cycle = std::strtoll(argv[5], nullptr, 10);
  cfg.sync = std::string(argv[6]) == "1";
  cfg.max_ops = std::strtoll(argv[7], nullptr, 10);
  return ct::RunChild(cfg);
}

// Starts the child with its output appended to `output`. Returns its pid, or
// -1 with errno set.
pid_t SpawnChild(const ct::ChildConfig& cfg, const std::string& output) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> args = {"recdb",
                                   "crashtest",
                                   "--child",
                                   cfg.db_path,
                                   cfg.log_path,
                                   std::to_string(cfg.seed),
                                   std::to_string(cfg.cycle),
                                   cfg.sync ? "1" : "0",
                                   std::to_string(cfg.max_ops)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execv(self.c_str(), argv.data());
    _exit(127);
  }
  ::close(out);
  return pid;
}

std::string Tail(const std::string& path, size_t bytes) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "";
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  const long from = size > static_cast<long>(bytes) ? size - static_cast<long>(bytes) : 0;
  std::fseek(f, from, SEEK_SET);
  std::string s(static_cast<size_t>(size - from), '\0');
  const size_t n = std::fread(s.data(), 1, s.size(), f);
  s.resize(n);
  std::fclose(f);
  return s;
}

// The end-of-run check of the derived state: a read-write open recovers,
// trains and serves, and Close flushes cleanly.
Status FinalReadWriteCheck(const std::string& db_path) {
  Options options;
  options.background_threads = 0;
  auto db = DB::Open(options, db_path);
  if (!db.ok()) return db.status().WithContext("read-write open");
  TrainOptions to;
  to.learn_weights = false;
  to.ials_factors = 8;
  to.ials_iterations = 2;
  auto report = (*db)->Train(to);
  if (report.ok()) {
    RecommendRequest req;
    req.user = ct::UserId(0);
    req.k = 5;
    auto r = (*db)->Recommend(req);
    if (!r.ok()) return r.status().WithContext("recommend after train");
  } else if (report.status().code() != StatusCode::kFailedPrecondition) {
    return report.status().WithContext("train");
  }
  return (*db)->Close().WithContext("close");
}

int CrashtestMain(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--child") return ChildMain(argc, argv);
  ArgParser args(
      "crashtest", "Kill -9 a writing process repeatedly; check no acknowledged write is lost.",
      "Each cycle starts a child process that writes a seeded random mix (events, item and\n"
      "user upserts, event types, vectors, training) to DIR/db, logging every acknowledged\n"
      "write, and SIGKILLs it after a random delay; the database is then reopened and\n"
      "checked against the log and against itself. With --sync off (the default) writes\n"
      "must survive a process kill, not a power loss: the WAL is in the OS page cache.\n"
      "Exit status 1 if any acknowledged write was lost or any inconsistency was found.");
  args.AddFlag("cycles", "N", "kill/reopen/verify cycles", "20");
  args.AddFlag("seed", "S", "seed of the workload and of the kill delays", "1");
  args.AddFlag("dir", "D", "work directory (must not exist or be empty); default: a temp dir");
  args.AddFlag("ops-per-cycle", "N", "a child that finishes N ops closes cleanly", "3000");
  args.AddFlag("min-kill-ms", "MS", "earliest kill after the child starts", "50");
  args.AddFlag("max-kill-ms", "MS", "latest kill after the child starts", "1200");
  args.AddSwitch("sync", "WriteOptions.sync = true for every write");
  args.AddSwitch("keep", "keep the work directory (kept anyway when a check fails)");
  args.AddSwitch("json", "print {\"cycles\",\"acknowledged\",\"lost\",\"inconsistent\",...}");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto cycles = args.GetInt("cycles");
  auto seed = args.GetInt("seed");
  auto max_ops = args.GetInt("ops-per-cycle");
  auto min_ms = args.GetInt("min-kill-ms");
  auto max_ms = args.GetInt("max-kill-ms");
  for (const auto* v : {&cycles, &seed, &max_ops, &min_ms, &max_ms}) {
    if (!v->ok()) return Fail("crashtest", v->status());
  }
  if (*cycles < 1 || *max_ops < 1 || *min_ms < 0 || *max_ms < *min_ms) {
    return Fail("crashtest", "need --cycles >= 1, --ops-per-cycle >= 1, 0 <= min <= max kill ms");
  }

  namespace fs = std::filesystem;
  std::string dir = args.Get("dir");
  std::error_code ec;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/recdb-crashtest-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return Fail("crashtest", "cannot create a temp dir");
    dir = tmpl;
  } else if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return Fail("crashtest", dir + " is not empty");
  } else if (!fs::create_directories(dir, ec) && ec) {
    return Fail("crashtest", "cannot create " + dir + ": " + ec.message());
  }

  ct::ChildConfig cfg;
  cfg.db_path = dir + "/db";
  cfg.log_path = dir + "/expected.log";
  cfg.seed = static_cast<uint64_t>(*seed);
  cfg.sync = args.Has("sync");
  cfg.max_ops = *max_ops;
  const std::string child_output = dir + "/child.log";
  std::mt19937_64 rng(cfg.seed ^ 0x6b696c6cull);

  const auto start = std::chrono::steady_clock::now();
  int64_t clean_exits = 0;
  int64_t inconsistent = 0;
  std::set<std::string> lost;
  ct::VerifyResult last;
  auto report = [&](const std::string& what) {
    ++inconsistent;
    if (inconsistent <= 20) std::cerr << "crashtest: " << what << "\n";
  };
  auto verify = [&](const std::string& when) {
    std::string open_error;
    last = ct::Verify(cfg.db_path, cfg.log_path, &open_error);
    if (!open_error.empty()) report(when + ": cannot open: " + open_error);
    for (const std::string& s : last.inconsistencies) report(when + ": " + s);
    for (const std::string& s : last.lost_details) {
      if (lost.insert(s.substr(0, s.find(':'))).second) {
        std::cerr << "crashtest: " << when << ": LOST " << s << "\n";
      }
    }
  };

  for (int64_t c = 0; c < *cycles; ++c) {
    cfg.cycle = c;
    const pid_t pid = SpawnChild(cfg, child_output);
    if (pid < 0) return Fail("crashtest", "cannot start the child process");
    const auto delay = std::chrono::milliseconds(
        *min_ms + static_cast<int64_t>(rng() % static_cast<uint64_t>(*max_ms - *min_ms + 1)));
    const auto deadline = std::chrono::steady_clock::now() + delay;
    int status = 0;
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    if (exited) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        ++clean_exits;
      } else {
        report("cycle " + std::to_string(c) + ": child failed (status " + std::to_string(status) +
               "): " + Tail(child_output, 600));
      }
    }
    verify("cycle " + std::to_string(c));
  }
  Status final_check = FinalReadWriteCheck(cfg.db_path);
  if (!final_check.ok()) report("final read-write check: " + final_check.ToString());
  verify("after the final read-write open");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const bool ok = lost.empty() && inconsistent == 0;
  if (args.Has("json")) {
    nlohmann::ordered_json j = {{"cycles", *cycles},
                                {"acknowledged", last.acknowledged},
                                {"lost", lost.size()},
                                {"inconsistent", inconsistent},
                                {"in_flight", last.in_flight},
                                {"clean_exits", clean_exits},
                                {"sync", cfg.sync},
                                {"seed", *seed},
                                {"seconds", seconds},
                                {"dir", ok && !args.Has("keep") ? "" : dir}};
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "cycles        " << *cycles << " (" << clean_exits << " ended cleanly)\n"
              << "acknowledged  " << last.acknowledged << " ops (" << last.in_flight
              << " in flight at a kill)\n"
              << "lost          " << lost.size() << "\n"
              << "inconsistent  " << inconsistent << "\n"
              << "sync          " << (cfg.sync ? "true" : "false") << "\n"
              << "seconds       " << seconds << "\n";
    if (!ok || args.Has("keep")) std::cout << "dir           " << dir << "\n";
  }
  if (ok && !args.Has("keep")) fs::remove_all(dir, ec);
  return ok ? kExitOk : kExitFailure;
}

}  // namespace
RECDB_REGISTER_COMMAND("crashtest", CrashtestMain, 90,
                       "kill -9 a writer repeatedly; verify no acknowledged write is lost");
}  // namespace recdb::cli
