// `recdb bench cli`: wall time of one-shot CLI calls on a trained database,
// the figure of issue 17's bar "`recdb recommend` CLI on a trained ml-100k
// database <= 0.3 s". Each call is a fresh process (this binary), so the
// time includes exec, opening RocksDB and loading the stored model
// (DIR/derived/fused.model), as a user's shell sees it.
//
// The database: --db DIR (trained already), or built in a temporary folder
// from --data (MovieLens-100K, default ../shared/data/ml-100k): init,
// import, train. Timed, interleaved --repeat times (median, min, max):
//   recommend        recdb recommend DIR --user U -k 10 --json
//   stats            recdb stats DIR
//   stats, no model  recdb stats on a copy of DIR without the model file
//                    (the anchor: open without any model)
//   raw read         read() of the model file into a fresh anonymous
//                    mapping, in this process (the anchor for the model's
//                    bytes: what a plain copy of them costs)
// Ratios: recommend / stats-without-model, and the model's added cost
// (stats - stats without model) against the raw read.
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/bench/bench.h"

extern char** environ;

namespace recdb::bench {
namespace {

namespace fs = std::filesystem;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs this binary with `args` (stdout and stderr to /dev/null unless
// `show`); returns wall seconds, or -1 if it failed.
double Run(const std::vector<std::string>& args, bool show = false) {
  std::vector<char*> argv;
  std::string self = "/proc/self/exe";
  argv.push_back(self.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!show) {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  const double t0 = Now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  const double t = Now() - t0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

// Seconds to read the whole file into fresh memory (a new anonymous
// mapping each time, as a new process has); -1 on error.
double RawRead(const std::string& path) {
  const double t0 = Now();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const size_t size = static_cast<size_t>(::lseek(fd, 0, SEEK_END));
  void* mem = ::mmap(nullptr, std::max<size_t>(size, 1), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    ::close(fd);
    return -1;
  }
  char* bytes = static_cast<char*>(mem);
  size_t done = 0;
  while (done < size) {
    const ssize_t r = ::pread(fd, bytes + done, size - done, static_cast<off_t>(done));
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  ::munmap(mem, std::max<size_t>(size, 1));
  const double t = Now() - t0;
  return done == size ? t : -1;
}

struct Series {
  std::string name;
  std::vector<double> s;
  double Median() const {
    std::vector<double> v = s;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  double Min() const { return s.empty() ? 0 : *std::min_element(s.begin(), s.end()); }
  double Max() const { return s.empty() ? 0 : *std::max_element(s.begin(), s.end()); }
};

int BenchCliMain(int argc, char** argv) {
  Flags f("cli");
  f.args().AddFlag("db", "TRAINED_DIR", "a trained database (default: build one from --data)");
  f.args().AddFlag("data", "ML100K_DIR", "the ml-100k directory", "../shared/data/ml-100k");
  f.args().AddFlag("user", "ID", "the user to recommend for", "1");
  f.args().AddFlag("repeat", "N", "runs of each command", "7");
  f.args().AddSwitch("json", "print one JSON object");
  if (!f.Parse(argc, argv)) return f.exit_code();
  std::string db = f.Str("db");
  const std::string data = f.Str("data"), user = f.Str("user");
  const int repeat = static_cast<int>(f.Int("repeat", 1));
  const bool json = f.Has("json");
  if (!f.ok()) return f.exit_code();
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path() / ("recdb_bench_cli_" + std::to_string(::getpid()));
  fs::create_directories(tmp, ec);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{tmp};
  if (db.empty()) {
    if (!fs::exists(data + "/u.data")) {
      std::fprintf(stderr, "bench cli: no MovieLens data at %s (--data DIR or --db DIR)\n", data.c_str());
      return 1;
    }
    db = (tmp / "db").string();
    if (Run({"init", db}) < 0 || Run({"import", db, "--movielens", data}) < 0 ||
        Run({"train", db}) < 0) {
      std::fprintf(stderr, "bench cli: building the ml-100k database failed\n");
      return 1;
    }
  }
  const std::string model = db + "/derived/fused.model";
  if (!fs::exists(model)) {
    std::fprintf(stderr, "bench cli: %s has no stored model (run recdb train first)\n", db.c_str());
    return 1;
  }
  const std::string bare = (tmp / "bare").string();
  fs::copy(db, bare, fs::copy_options::recursive, ec);
  fs::remove(bare + "/derived/fused.model", ec);
  if (ec) {
    std::fprintf(stderr, "bench cli: copying %s: %s\n", db.c_str(), ec.message().c_str());
    return 1;
  }
  // Warm the page cache and check each call works.
  if (Run({"recommend", db, "--user", user, "-k", "10", "--json"}) < 0 || Run({"stats", db}) < 0 ||
      Run({"stats", bare}) < 0 || RawRead(model) < 0) {
    std::fprintf(stderr, "bench cli: a warm-up call failed\n");
    return 1;
  }
  Series rec{"recommend", {}}, stats{"stats", {}}, bare_stats{"stats, no model", {}},
      raw{"raw read of the model file", {}};
  for (int r = 0; r < repeat; ++r) {
    rec.s.push_back(Run({"recommend", db, "--user", user, "-k", "10", "--json"}));
    stats.s.push_back(Run({"stats", db}));
    bare_stats.s.push_back(Run({"stats", bare}));
    raw.s.push_back(RawRead(model));
  }
  const double model_bytes = static_cast<double>(fs::file_size(model, ec));
  const double added = stats.Median() - bare_stats.Median();
  if (json) {
    nlohmann::json j;
    j["model_bytes"] = model_bytes;
    j["repeat"] = repeat;
    for (const Series* s : {&rec, &stats, &bare_stats, &raw}) {
      j["seconds"][s->name] = {{"median", s->Median()}, {"min", s->Min()}, {"max", s->Max()}};
    }
    j["recommend_over_stats_without_model"] = rec.Median() / bare_stats.Median();
    j["model_added_seconds"] = added;
    j["model_added_over_raw_read"] = added / raw.Median();
    j["bar_recommend_seconds"] = 0.3;
    j["bar_met"] = rec.Median() <= 0.3;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("recdb bench cli: %s, model file %.1f MB, %d interleaved runs\n", db.c_str(),
              model_bytes / 1e6, repeat);
  std::printf("%-28s %9s %9s %9s\n", "", "median s", "min s", "max s");
  for (const Series* s : {&rec, &stats, &bare_stats, &raw}) {
    std::printf("%-28s %9.3f %9.3f %9.3f\n", s->name.c_str(), s->Median(), s->Min(), s->Max());
  }
  std::printf("recommend / stats without model: %.2fx\n", rec.Median() / bare_stats.Median());
  std::printf("model's added cost (stats - stats without model): %.3f s = %.2fx a raw read of its file\n",
              added, added / raw.Median());
  std::printf("bar: recommend <= 0.3 s: %s\n", rec.Median() <= 0.3 ? "met" : "NOT met");
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("cli", BenchCliMain,
                     "wall time of recdb recommend/stats on a trained ml-100k database vs a raw read of its model file");

}  // namespace recdb::bench
