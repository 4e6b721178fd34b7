// `recdb bench recommend`: Recommend latency (p50/p99/max) through the public
// DB API, on ml-100k (--world ml100k, reads ../shared/data/ml-100k) or on a
// synthetic world (--world synthetic --items N --users N --events N), first
// idle and then while Train runs on another thread. Also reports training
// time, and the CPU time each request took on its thread (CLOCK_THREAD_CPUTIME_ID:
// on a loaded machine the wall p99 is the scheduler's, the CPU time is the
// request's own). --idle-only skips the phase while training. Latency bars are absolute (docs/DESIGN.md and issue 5: p99 <= 5 ms at
// ml-100k, <= 10 ms at 100K items, at most 2x that while training runs), so
// the "anchor" printed beside them is the idle p99 of the same run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <time.h>
#include <vector>

#include "recdb/db.h"
#include "tools/bench/bench.h"
#include "tools/bench/world.h"

namespace recdb::bench {
namespace {

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench recommend: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

int BenchRecommendMain(int argc, char** argv) {
  Flags f("recommend");
  f.args().AddFlag("world", "ml100k|synthetic", "the data", "ml100k");
  f.args().AddFlag("data", "DIR", "the ml-100k directory", "../shared/data/ml-100k");
  f.AddWorldSizeFlags(100000, 50000, 1000000);
  f.args().AddFlag("requests", "N", "requests per phase", "2000");
  f.args().AddFlag("k", "N", "items per request", "10");
  f.args().AddFlag("dir", "D", "database directory (kept; default a temporary one)");
  f.args().AddFlag("diversity", "X", "re-rank every request with that diversity (default: care off)");
  f.args().AddSwitch("idle-only", "skip the phase while Train runs (a blend with seq retrains for minutes)");
  f.args().AddSwitch("json", "print one JSON object");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const std::string world = f.Str("world");
  const std::string data_dir = f.Str("data");
  std::string dir = f.Str("dir");
  const int64_t items = f.Int("items", 1), users = f.Int("users", 1), events = f.Int("events", 1);
  const size_t requests = f.Int("requests", 1);
  const size_t k = f.Int("k", 1);
  const bool json = f.Has("json");
  const bool idle_only = f.Has("idle-only");
  // < 0: Options::care as configured (diversity off).
  const double diversity = f.Has("diversity") ? f.Double("diversity", 0) : -1;
  if (!f.ok()) return f.exit_code();
  if (world != "ml100k" && world != "synthetic") {
    return cli::UsageError("bench recommend", "unknown world '" + world + "' (ml100k or synthetic)");
  }
  bool temp = dir.empty();
  if (temp) {
    char tmpl[] = "/tmp/recdb_bench_recommend_XXXXXX";
    if (!mkdtemp(tmpl)) return Fail("mkdtemp", Status::IOError("cannot create temp dir"));
    dir = tmpl;
  }
  auto opened = OpenBenchDB(dir);
  if (!opened.ok()) return Fail("open", opened.status());
  std::unique_ptr<DB> db = std::move(opened).value();

  // Load the world.
  const auto t_load = std::chrono::steady_clock::now();
  if (world == "ml100k") {
    Status s = LoadMovieLens(db.get(), data_dir);
    if (!s.ok()) return Fail("import " + data_dir, s);
  } else {
    Status s = LoadSynthetic(db.get(), items, users, events);
    if (!s.ok()) return Fail("load synthetic world", s);
  }
  auto listed = UserIds(db.get());
  if (!listed.ok()) return Fail("users", listed.status());
  const std::vector<std::string> user_ids = std::move(listed).value();
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  auto stats = db->GetStats();
  if (!stats.ok()) return Fail("stats", stats.status());

  const auto t_train = std::chrono::steady_clock::now();
  auto trained = db->Train();
  if (!trained.ok()) return Fail("train", trained.status());
  const double train_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_train).count();

  std::mt19937_64 rng(7);
  std::vector<double> cpu_ms;  // of the last run
  auto run = [&](size_t n, const std::atomic<bool>* stop, double div = -2) {
    if (div < -1) div = diversity;
    std::vector<double> ms;
    cpu_ms.clear();
    for (size_t i = 0; i < n && !(stop && stop->load()); ++i) {
      RecommendRequest r;
      r.user = user_ids[rng() % user_ids.size()];
      r.k = k;
      if (div >= 0) {
        r.care = CareOptions{};
        r.care->diversity = div;
      }
      const double c0 = ThreadCpuMs();
      const auto t0 = std::chrono::steady_clock::now();
      auto res = db->Recommend(r);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      cpu_ms.push_back(ThreadCpuMs() - c0);
      if (!res.ok()) {
        Fail("recommend", res.status());
        std::exit(1);
      }
    }
    return ms;
  };
  run(std::min<size_t>(100, requests), nullptr);  // warm up caches
  // With --diversity, the anchor is the same requests with care off, same run.
  Latency plain;
  if (diversity >= 0) {
    rng.seed(8);  // the same users in both
    plain = Summarise(run(requests, nullptr, -1));
    rng.seed(8);
  }
  Latency idle = Summarise(run(requests, nullptr));
  Latency idle_cpu = Summarise(cpu_ms);

  // While training: one thread retrains (1 training thread, leaving the other
  // core to serving), this thread serves until training ends.
  std::atomic<bool> done{false};
  double train_busy_s = 0;
  if (idle_only) done = true;
  std::thread trainer([&] {
    if (idle_only) return;
    const auto t0 = std::chrono::steady_clock::now();
    TrainOptions to;
    to.threads = 1;
    auto r = db->Train(to);
    train_busy_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) Fail("train (background)", r.status());
    done = true;
  });
  std::vector<double> during_ms;
  while (!done.load()) {
    auto part = run(50, &done);
    during_ms.insert(during_ms.end(), part.begin(), part.end());
  }
  trainer.join();
  Latency during = Summarise(during_ms);

  Status closed = db->Close();
  if (temp) std::filesystem::remove_all(dir);
  if (!closed.ok()) return Fail("close", closed);

  if (json) {
    std::printf(
        "{\"world\": \"%s\", \"users\": %lld, \"items\": %lld, \"events\": %lld, \"load_s\": %.3f, "
        "\"train_s\": %.3f, \"k\": %zu, \"requests\": %zu, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
        "\"max_ms\": %.3f, \"diversity\": %.2f, \"care_off_p50_ms\": %.3f, "
        "\"care_off_p99_ms\": %.3f, \"cpu_p50_ms\": %.3f, \"cpu_p99_ms\": %.3f, "
        "\"during_training\": {\"requests\": %zu, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
        "\"max_ms\": %.3f, \"train_s\": %.3f}, \"p99_ratio_during_training\": %.3f}\n",
        world.c_str(), static_cast<long long>(stats->users), static_cast<long long>(stats->items),
        static_cast<long long>(stats->events), load_s, train_s, k, idle.n, idle.p50, idle.p99,
        idle.max, std::max(0.0, diversity), plain.p50, plain.p99, idle_cpu.p50, idle_cpu.p99, during.n, during.p50, during.p99,
        during.max, train_busy_s,
        idle.p99 > 0 ? during.p99 / idle.p99 : 0.0);
  } else {
    std::printf("world %s: %lld users, %lld items, %lld events (loaded in %.2f s)\n", world.c_str(),
                static_cast<long long>(stats->users), static_cast<long long>(stats->items),
                static_cast<long long>(stats->events), load_s);
    std::printf("train (learned fusion weights, 2 threads): %.2f s\n", train_s);
    std::printf("Recommend k=%zu, %zu requests idle:   p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", k,
                idle.n, idle.p50, idle.p99, idle.max);
    std::printf("  CPU time on the request's thread: p50 %.3f ms  p99 %.3f ms\n", idle_cpu.p50, idle_cpu.p99);
    if (diversity >= 0) {
      std::printf("  with diversity %.2f; care off, same run: p50 %.3f ms  p99 %.3f ms "
                  "(p50 %.2fx, p99 %.2fx)\n",
                  diversity, plain.p50, plain.p99, plain.p50 > 0 ? idle.p50 / plain.p50 : 0.0,
                  plain.p99 > 0 ? idle.p99 / plain.p99 : 0.0);
    }
    std::printf("while Train runs (%.2f s), %zu requests: p50 %.3f ms  p99 %.3f ms  max %.3f ms  "
                "(p99 %.2fx idle)\n",
                train_busy_s, during.n, during.p50, during.p99, during.max,
                idle.p99 > 0 ? during.p99 / idle.p99 : 0.0);
  }
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("recommend", BenchRecommendMain,
                     "Recommend latency p50/p99 idle and while training (ml-100k or synthetic)");

}  // namespace recdb::bench
