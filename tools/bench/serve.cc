// `recdb bench serve`: Recommend latency of an existing database as it is
// (the stored model serves; no import, no Train, no retrain): `--requests`
// requests for random known users of a synthetic world (tools/import/
// synthetic_world.h ids "u<N>", N < --users, default the database's user
// count), each timed in wall time and in the serving thread's CPU time
// (ThreadCpuMs: on a loaded machine the wall p99 includes waiting for a
// core). A profiler can attach once stderr says "serving".
//
// It also prints a digest of every answer (item ids in order, and ids with
// their scores printed to 6 significant digits): two binaries run on the same
// database with the same --seed and --requests serve the same answers
// exactly when their digests match -- the check that a serving speedup
// changed no answer, at a size the unit tests do not reach.
//
// The anchor is another binary (or another build) on the same database in
// the same session, interleaved: this bench only measures.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "recdb/db.h"
#include "tools/bench/bench.h"
#include "tools/bench/world.h"
#include "tools/import/synthetic_world.h"

namespace recdb::bench {
namespace {

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench serve: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

// FNV-1a, 64 bits.
void Mix(uint64_t* h, const std::string& bytes) {
  for (unsigned char c : bytes) {
    *h ^= c;
    *h *= 0x100000001b3ull;
  }
  *h ^= 0xff;  // a separator: "ab","c" differs from "a","bc"
  *h *= 0x100000001b3ull;
}

int BenchServeMain(int argc, char** argv) {
  Flags f("serve");
  f.args().AddFlag("dir", "D", "a database with a stored model (it is opened, served, closed)");
  f.args().AddFlag("requests", "N", "timed requests (after 100 warm-up requests)", "2000");
  f.args().AddFlag("k", "N", "items per request", "10");
  f.args().AddFlag("users", "N", "draw users u0..u<N-1> (0: the database's user count)", "0");
  f.args().AddFlag("seed", "N", "the user draw's seed", "7");
  f.args().AddSwitch("json", "print one JSON object");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const std::string dir = f.Str("dir");
  const size_t requests = f.Int("requests", 1), k = f.Int("k", 1);
  int64_t users = f.Int("users", 0);
  const uint64_t seed = f.Int("seed", 0);
  const bool json = f.Has("json");
  if (!f.ok()) return f.exit_code();
  if (dir.empty()) return cli::UsageError("bench serve", "--dir is required");

  auto opened = OpenBenchDB(dir);
  if (!opened.ok()) return Fail("open " + dir, opened.status());
  std::unique_ptr<DB> db = std::move(opened).value();
  auto stats = db->GetStats();
  if (!stats.ok()) return Fail("stats", stats.status());
  if (stats->model_version == 0) {
    return Fail("open " + dir, Status::FailedPrecondition("no stored model serves (train it first)"));
  }
  if (users == 0) users = stats->users;
  if (users <= 0) return Fail("open " + dir, Status::FailedPrecondition("no users"));

  std::mt19937_64 rng(seed);
  uint64_t ids_digest = 0xcbf29ce484222325ull, scored_digest = ids_digest;
  size_t answered = 0;
  auto run = [&](size_t n, std::vector<double>* ms, std::vector<double>* cpu_ms) -> Status {
    for (size_t i = 0; i < n; ++i) {
      RecommendRequest r;
      r.user = tools::SyntheticWorld::UserId(static_cast<int64_t>(rng() % users));
      r.k = k;
      const double c0 = ThreadCpuMs();
      const auto t0 = std::chrono::steady_clock::now();
      auto res = db->Recommend(r);
      const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const double cpu = ThreadCpuMs() - c0;
      if (!res.ok()) return res.status().WithContext("recommend for " + r.user);
      if (ms == nullptr) continue;
      ms->push_back(wall);
      cpu_ms->push_back(cpu);
      ++answered;
      Mix(&ids_digest, r.user);
      Mix(&scored_digest, r.user);
      for (const Recommendation& x : res->items) {
        Mix(&ids_digest, x.id);
        char score[32];
        std::snprintf(score, sizeof(score), "%.6g", x.score);
        Mix(&scored_digest, x.id + "=" + score);
      }
    }
    return Status::OK();
  };
  const std::string load_before = LoadAverage();
  if (Status s = run(std::min<size_t>(100, requests), nullptr, nullptr); !s.ok()) return Fail("warm-up", s);
  std::fprintf(stderr, "bench serve: serving %zu requests (load %s)\n", requests, LoadAverage().c_str());
  std::vector<double> ms, cpu_ms;
  if (Status s = run(requests, &ms, &cpu_ms); !s.ok()) return Fail("serve", s);
  const std::string load_after = LoadAverage();
  const Latency wall = Summarise(ms), cpu = Summarise(cpu_ms);
  if (Status s = db->Close(); !s.ok()) return Fail("close", s);

  if (json) {
    std::printf(
        "{\"dir\": \"%s\", \"users\": %lld, \"items\": %lld, \"events\": %lld, \"model_version\": %llu, "
        "\"k\": %zu, \"requests\": %zu, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
        "\"mean_ms\": %.3f, \"cpu_p50_ms\": %.3f, \"cpu_p99_ms\": %.3f, \"cpu_max_ms\": %.3f, "
        "\"cpu_mean_ms\": %.3f, \"load_before\": \"%s\", \"load_after\": \"%s\", "
        "\"ids_digest\": \"%016" PRIx64 "\", \"scored_digest\": \"%016" PRIx64 "\"}\n",
        dir.c_str(), static_cast<long long>(stats->users), static_cast<long long>(stats->items),
        static_cast<long long>(stats->events), static_cast<unsigned long long>(stats->model_version), k,
        answered, wall.p50, wall.p99, wall.max, wall.mean, cpu.p50, cpu.p99, cpu.max, cpu.mean,
        load_before.c_str(), load_after.c_str(), ids_digest, scored_digest);
  } else {
    std::printf("%s: %lld users, %lld items, %lld events, model %llu\n", dir.c_str(),
                static_cast<long long>(stats->users), static_cast<long long>(stats->items),
                static_cast<long long>(stats->events), static_cast<unsigned long long>(stats->model_version));
    std::printf("Recommend k=%zu, %zu requests, load %s -> %s\n", k, answered, load_before.c_str(),
                load_after.c_str());
    std::printf("  wall: p50 %.3f ms  p99 %.3f ms  max %.3f ms  mean %.3f ms\n", wall.p50, wall.p99,
                wall.max, wall.mean);
    std::printf("  CPU:  p50 %.3f ms  p99 %.3f ms  max %.3f ms  mean %.3f ms\n", cpu.p50, cpu.p99, cpu.max,
                cpu.mean);
    std::printf("  answers digest: ids %016" PRIx64 ", ids and scores %016" PRIx64 "\n", ids_digest,
                scored_digest);
  }
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("serve", BenchServeMain,
                     "Recommend latency (wall and CPU) of an existing database's stored model, with a "
                     "digest of the answers");

}  // namespace recdb::bench
