// `recdb bench two-stage`: the fused blend's Recommend (Fused::
// RecommendExplained, the ranking step of DB::Recommend) through the
// exhaustive path (every component scores every item: the anchor and the
// oracle) and through two-stage retrieval (engine/models/fused.h), on one
// fitted model in one run, requests alternating between the two. Reports
// p50/p99 of both and their ratio, in wall time and in the serving thread's
// CPU time (on a shared machine the wall p99 includes waiting for a core),
// the cost of building the retrieval index
// (HNSW over the iALS item factors; with --serial-build on one thread and on
// --threads, timed in the same run), a load without the stored retrieval
// state (the index then built as deferred work) against one with it
// (Fused::SaveRetrieval / LoadWithRetrieval), and how far two-stage
// agrees with the oracle: mean overlap@k and the share of requests whose
// top-k lists are identical. --skip-open leaves out the Open measurement
// (it rebuilds the index); the requests begin where stderr says "serving",
// for a profiler attached then (`perf record -g -p PID`).
//
// The world is synthetic and built in memory (no DB, no import): Zipf item
// popularity plus per-user topics, so that the factor, neighbour and
// co-occurrence components all carry signal. The blend is fitted with fixed
// weights (1) and few iALS iterations: latency does not depend on them.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "engine/models/fused.h"
#include "engine/models/ials.h"
#include "index/hnsw_index.h"
#include "tools/bench/bench.h"
#include "tools/bench/world.h"

namespace recdb::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// `events` events of `users` users over `items` items: half drawn from a
// global Zipf popularity, half from the user's topic (one of 200), each
// topic a Zipf over its own stride of the catalog.
models::Dataset SyntheticWorld(uint32_t items, uint32_t users, uint64_t events, uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Zipf(1) by inverse-CDF over a precomputed cumulative table.
  std::vector<double> cdf(items);
  double acc = 0;
  for (uint32_t i = 0; i < items; ++i) cdf[i] = acc += 1.0 / (1.0 + i);
  auto zipf = [&]() {
    const double x = std::uniform_real_distribution<double>(0, acc)(rng);
    return static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), x) - cdf.begin());
  };
  constexpr uint32_t kTopics = 200;
  // A fixed permutation so that popular items are not all low ids.
  std::vector<uint32_t> perm(items);
  for (uint32_t i = 0; i < items; ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  models::DatasetSpec spec;
  spec.num_users = users;
  spec.num_items = items;
  spec.interactions.reserve(events);
  for (uint64_t e = 0; e < events; ++e) {
    const uint32_t u = static_cast<uint32_t>(e % users);
    const uint32_t topic = static_cast<uint32_t>((u * 2654435761u) % kTopics);
    uint32_t item;
    if (rng() % 2) {
      item = perm[zipf()];
    } else {
      item = perm[static_cast<uint32_t>((static_cast<uint64_t>(zipf()) * kTopics + topic) % items)];
    }
    spec.interactions.push_back({u, item, static_cast<int64_t>(1'000'000 + e), 1.0f});
  }
  auto d = models::Dataset::Build(std::move(spec));
  return std::move(d).value();
}

int BenchTwoStageMain(int argc, char** argv) {
  Flags f("two-stage");
  cli::ArgParser& p = f.args();
  f.AddWorldSizeFlags(100000, 20000, 300000);
  p.AddFlag("requests", "N", "requests (alternating exhaustive and two-stage)", "300");
  p.AddFlag("k", "N", "items per request", "10");
  p.AddFlag("per-model", "N", "candidates each component nominates", "200");
  p.AddFlag("threads", "N", "training threads", "2");
  p.AddFlag("ials-iterations", "N", "iALS iterations", "4");
  p.AddFlag("ann", "N",
            "iALS retrieves at most N nominees (IalsOptions::retrieval_candidates; 0: its default)",
            "0");
  p.AddFlag("ef-search", "N",
            "iALS's HNSW search beam (IalsOptions::retrieval_ef_search; 0: its default)", "0");
  p.AddSwitch("serial-build",
              "also time the iALS index built on 1 thread and on --threads, with each one's recall@10");
  p.AddFlag("recent-knn-neighbours", "N",
            "cap each item's RecentKnn list at N in the blend (ComponentConfig::"
            "recent_knn_neighbours; 0 = every co-visited item, the default)",
            "0");
  p.AddSwitch("skip-open",
              "skip the Open measurement (two loads of the blend, one rebuilding the iALS index): "
              "for profiling the requests");
  p.AddSwitch("json", "print one JSON object");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const uint32_t items = static_cast<uint32_t>(f.Int("items", 1));
  const uint32_t users = static_cast<uint32_t>(f.Int("users", 1));
  const uint64_t events = f.Int("events", 1);
  const size_t requests = f.Int("requests", 1), k = f.Int("k", 1), per_model = f.Int("per-model", 1);
  const int threads = static_cast<int>(f.Int("threads", 1));
  const int ials_iterations = static_cast<int>(f.Int("ials-iterations", 1));
  const size_t ann = f.Int("ann", 0);  // IalsOptions::retrieval_candidates
  const int ef_search = static_cast<int>(f.Int("ef-search", 0));
  const size_t recent_knn_neighbours = f.Int("recent-knn-neighbours", 0);
  const bool json = f.Has("json"), serial_build = f.Has("serial-build");
  const bool skip_open = f.Has("skip-open");
  if (!f.ok()) return f.exit_code();
  auto t0 = Clock::now();
  const models::Dataset data = SyntheticWorld(items, users, events, 42);
  const double world_s = Since(t0);

  models::ComponentConfig config;
  config.threads = threads;
  config.ials_iterations = ials_iterations;
  config.min_pair_users = 1;
  config.ials_retrieval_candidates = ann;
  config.ials_retrieval_ef_search = ef_search;
  config.recent_knn_neighbours = recent_knn_neighbours;
  models::FusedOptions fo;
  fo.learn_weights = false;
  fo.threads = threads;
  fo.candidates_per_model = per_model;
  fo.retrieval = models::Retrieval::kExhaustive;
  models::Fused fused(models::DefaultFusedComponents(data.num_items(), config), fo);
  t0 = Clock::now();
  Status fit = fused.Fit(data);
  if (!fit.ok()) {
    std::fprintf(stderr, "bench two-stage: fit: %s\n", fit.ToString().c_str());
    return 1;
  }
  const double fit_s = Since(t0);
  t0 = Clock::now();
  fused.SetRetrieval(models::Retrieval::kTwoStage);  // builds the HNSW index, synchronously
  const double prepare_s = Since(t0);
  const models::Ials* trained_ials = nullptr;
  for (size_t j = 0; j < fused.num_components(); ++j) {
    if (fused.component_name(j) == "ials") {
      trained_ials = dynamic_cast<const models::Ials*>(&fused.component(j));
    }
  }

  // --serial-build: the iALS index built again on one thread and on
  // `threads` (HnswIndex::AddMany, what Train and the deferred build run),
  // timed in this run, with each one's recall@10 against an exact scan of
  // the item factors for 200 user vectors.
  double serial_s = 0, parallel_s = 0, serial_recall = 0, parallel_recall = 0;
  double serial_cpu = 0, parallel_cpu = 0;
  if (serial_build && trained_ials != nullptr) {
    const auto& h = trained_ials->item_factors();
    const uint32_t n = static_cast<uint32_t>(h.rows());
    const uint32_t f = static_cast<uint32_t>(h.cols());
    index::HnswOptions o;
    o.m = static_cast<size_t>(trained_ials->options().retrieval_m);
    o.ef_construction = static_cast<size_t>(trained_ials->options().retrieval_ef_construction);
    o.ef_search = static_cast<size_t>(trained_ials->options().retrieval_ef_search);
    o.initial_capacity = n;
    std::vector<uint32_t> ids(n);
    for (uint32_t i = 0; i < n; ++i) ids[i] = i;
    const std::span<const float> rows(h.data(), static_cast<size_t>(h.size()));
    std::vector<std::vector<uint32_t>> truth;
    std::vector<Eigen::VectorXf> queries;
    for (uint32_t q = 0; q < 200; ++q) {
      models::UserQuery uq;
      uq.user = static_cast<uint32_t>((q * 2654435761u) % users);
      queries.push_back(trained_ials->UserVector(uq));
      const Eigen::VectorXf scores = h * queries.back();
      std::vector<uint32_t> order(n);
      for (uint32_t i = 0; i < n; ++i) order[i] = i;
      std::partial_sort(order.begin(), order.begin() + std::min<uint32_t>(10, n), order.end(),
                        [&](uint32_t a, uint32_t b) { return scores[a] > scores[b]; });
      order.resize(std::min<uint32_t>(10, n));
      truth.push_back(std::move(order));
    }
    // CPU seconds of the process (every thread): on a machine other work
    // keeps busy, wall time says little about what a second core buys
    // (Linux's autogroup scheduling shares the CPU per session, not per
    // thread); CPU time shows what the parallel build costs in work.
    auto cpu_seconds = [] {
      struct rusage ru;
      ::getrusage(RUSAGE_SELF, &ru);
      return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    };
    auto build = [&](int build_threads, double* seconds, double* recall, double* cpu) {
      auto created = index::HnswIndex::Create(f, index::Metric::kInnerProduct, o);
      if (!created.ok()) return false;
      const auto start = Clock::now();
      const double cpu0 = cpu_seconds();
      if (!(*created)->AddMany(ids, rows, build_threads).ok()) return false;
      *seconds = Since(start);
      *cpu = cpu_seconds() - cpu0;
      double hits = 0;
      for (size_t q = 0; q < queries.size(); ++q) {
        auto found = (*created)->Search(std::span<const float>(queries[q].data(), f), 10);
        if (!found.ok()) return false;
        for (const auto& nb : *found) {
          hits += std::find(truth[q].begin(), truth[q].end(), nb.id) != truth[q].end();
        }
      }
      *recall = hits / (10.0 * static_cast<double>(queries.size()));
      return true;
    };
    if (!build(1, &serial_s, &serial_recall, &serial_cpu) ||
        !build(threads, &parallel_s, &parallel_recall, &parallel_cpu)) {
      std::fprintf(stderr, "bench two-stage: the index build failed\n");
      return 1;
    }
  }

  // Open: the stored blend loaded into a fresh model serving two-stage.
  // Without the stored retrieval state, Load returns before the iALS index
  // is built (it is built in the background; until then iALS is scored in
  // full): load_s is what Open pays, ready_s when two-stage serving is
  // complete. With it (DIR/derived/fused.retrieval at a DB), Load adopts
  // the stored index: stored_load_s, and two-stage is complete on return.
  double load_s = 0, ready_s = 0, stored_load_s = 0, save_retrieval_s = 0;
  size_t retrieval_bytes = 0;
  if (!skip_open) {
    models::ModelWriter out, retrieval_out;
    Status saved = fused.Save(out);
    t0 = Clock::now();
    const bool has_retrieval = fused.SaveRetrieval(retrieval_out);
    save_retrieval_s = Since(t0);
    retrieval_bytes = retrieval_out.bytes().size();
    models::FusedOptions lo = fo;
    lo.retrieval = models::Retrieval::kTwoStage;
    auto ials_of = [](const models::Fused& f) -> const models::Ials* {
      for (size_t j = 0; j < f.num_components(); ++j) {
        if (f.component_name(j) == "ials") return dynamic_cast<const models::Ials*>(&f.component(j));
      }
      return nullptr;
    };
    {
      models::Fused loaded(models::DefaultFusedComponents(data.num_items(), config), lo);
      models::ModelReader in(out.bytes(), "bench");
      t0 = Clock::now();
      Status ok = saved.ok() ? loaded.Load(in) : saved;
      load_s = Since(t0);
      if (!ok.ok()) {
        std::fprintf(stderr, "bench two-stage: save/load: %s\n", ok.ToString().c_str());
        return 1;
      }
      // What a DB's Scheduler runs after Open.
      const std::atomic<bool> go{false};
      for (auto& work : loaded.TakeDeferredWork()) work(go);
      const models::Ials* ials = ials_of(loaded);
      if (ials != nullptr && !ials->retrieval_ready()) {
        std::fprintf(stderr, "bench two-stage: the iALS index was not built\n");
        return 1;
      }
      ready_s = Since(t0);
    }
    if (has_retrieval) {
      models::Fused loaded(models::DefaultFusedComponents(data.num_items(), config), lo);
      models::ModelReader in(out.bytes(), "bench"), rin(retrieval_out.bytes(), "bench retrieval");
      size_t adopted = 0;
      t0 = Clock::now();
      Status ok = loaded.LoadWithRetrieval(in, rin, &adopted);
      stored_load_s = Since(t0);
      const models::Ials* ials = ials_of(loaded);
      if (!ok.ok() || !loaded.TakeDeferredWork().empty() || ials == nullptr ||
          !ials->retrieval_ready()) {
        std::fprintf(stderr, "bench two-stage: the stored retrieval state was not adopted: %s\n",
                     ok.ToString().c_str());
        return 1;
      }
    }
  }

  // Requests: known users with their history, alternating the two paths.
  std::mt19937_64 rng(7);
  std::vector<double> exhaustive_ms, two_stage_ms, exhaustive_cpu_ms, two_stage_cpu_ms;
  double overlap_sum = 0;
  size_t identical = 0;
  // CPU time: ThreadCpuMs (tools/bench/world.h).
  auto serve = [&](models::Retrieval r, const models::UserQuery& q,
                   std::span<const uint32_t> exclude, std::vector<double>* ms,
                   std::vector<double>* cpu_ms) {
    fused.SetRetrieval(r);  // a flag once prepared
    const double cpu0 = ThreadCpuMs();
    const auto s = Clock::now();
    auto out = fused.RecommendExplained(q, k, exclude, nullptr);
    ms->push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    cpu_ms->push_back(ThreadCpuMs() - cpu0);
    std::vector<uint32_t> ids;
    for (const auto& e : out) ids.push_back(e.item);
    return ids;
  };
  const size_t warm = std::min<size_t>(20, requests);
  // On stderr (stdout stays one JSON object with --json): where the
  // requests begin, for a profiler attached to this process
  // (docs/BENCHMARKS.md, "profiling the requests").
  std::fprintf(stderr, "bench two-stage: serving %zu requests\n", warm + requests);
  for (size_t n = 0; n < warm + requests; ++n) {
    const uint32_t u = static_cast<uint32_t>(rng() % users);
    auto hist = data.UserItems(u);
    std::vector<uint32_t> exclude(hist.begin(), hist.end());  // sorted, unique
    models::UserQuery q;
    q.user = u;
    q.items = hist;
    std::vector<double> ex_ms, ts_ms, ex_cpu, ts_cpu;
    auto want = serve(models::Retrieval::kExhaustive, q, exclude, &ex_ms, &ex_cpu);
    auto got = serve(models::Retrieval::kTwoStage, q, exclude, &ts_ms, &ts_cpu);
    if (n < warm) continue;
    exhaustive_ms.push_back(ex_ms[0]);
    two_stage_ms.push_back(ts_ms[0]);
    exhaustive_cpu_ms.push_back(ex_cpu[0]);
    two_stage_cpu_ms.push_back(ts_cpu[0]);
    size_t common = 0;
    for (uint32_t i : got) common += std::find(want.begin(), want.end(), i) != want.end();
    overlap_sum += want.empty() ? 1.0 : static_cast<double>(common) / static_cast<double>(want.size());
    identical += got == want;
  }
  const Latency ex = Summarise(exhaustive_ms), ts = Summarise(two_stage_ms);
  const Latency ex_cpu = Summarise(exhaustive_cpu_ms), ts_cpu = Summarise(two_stage_cpu_ms);
  const double overlap = overlap_sum / static_cast<double>(requests);
  const double share_identical = static_cast<double>(identical) / static_cast<double>(requests);
  std::string names;
  for (size_t j = 0; j < fused.num_components(); ++j) {
    names += (j ? "," : "") + fused.component_name(j);
  }
  if (json) {
    std::printf(
        "{\"bench\": \"two-stage\", \"items\": %u, \"users\": %u, \"events\": %llu, "
        "\"components\": \"%s\", \"fit_s\": %.3f, \"prepare_s\": %.3f, \"load_s\": %.3f, "
        "\"ready_s\": %.3f, \"stored_load_s\": %.3f, \"save_retrieval_s\": %.3f, "
        "\"retrieval_bytes\": %zu, \"serial_build_s\": %.3f, \"parallel_build_s\": %.3f, "
        "\"build_threads\": %d, \"serial_recall\": %.4f, \"parallel_recall\": %.4f, "
        "\"serial_build_cpu_s\": %.3f, \"parallel_build_cpu_s\": %.3f, "
        "\"requests\": %zu, "
        "\"k\": %zu, \"per_model\": %zu, \"ann\": %zu, \"ef_search\": %d, \"exhaustive\": {\"p50_ms\": %.3f, \"p99_ms\": %.3f, "
        "\"max_ms\": %.3f, \"cpu_p50_ms\": %.3f, \"cpu_p99_ms\": %.3f}, "
        "\"two_stage\": {\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
        "\"cpu_p50_ms\": %.3f, \"cpu_p99_ms\": %.3f}, "
        "\"p50_ratio\": %.3f, \"p99_ratio\": %.3f, \"overlap_at_k\": %.4f, "
        "\"share_identical\": %.4f}\n",
        items, users, static_cast<unsigned long long>(events), names.c_str(), fit_s, prepare_s,
        load_s, ready_s, stored_load_s, save_retrieval_s, retrieval_bytes, serial_s, parallel_s,
        threads, serial_recall, parallel_recall, serial_cpu, parallel_cpu, requests, k, per_model, ann, ef_search, ex.p50, ex.p99, ex.max, ex_cpu.p50, ex_cpu.p99, ts.p50, ts.p99, ts.max,
        ts_cpu.p50, ts_cpu.p99,
        ex.p50 > 0 ? ts.p50 / ex.p50 : 0.0, ex.p99 > 0 ? ts.p99 / ex.p99 : 0.0, overlap,
        share_identical);
    return 0;
  }
  std::printf("world: %u items, %u users, %llu events (built in %.2f s)\n", items, users,
              static_cast<unsigned long long>(events), world_s);
  std::printf("blend: %s; fit %.2f s; two-stage index build %.2f s\n", names.c_str(), fit_s,
              prepare_s);
  if (serial_build) {
    std::printf("iALS index build: 1 thread %.2f s (%.2f s CPU, recall@10 %.4f), %d threads %.2f s "
                "(%.2f s CPU, recall@10 %.4f): wall %.2fx, CPU %.2fx\n",
                serial_s, serial_cpu, serial_recall, threads, parallel_s, parallel_cpu,
                parallel_recall, parallel_s > 0 ? serial_s / parallel_s : 0.0,
                parallel_cpu > 0 ? serial_cpu / parallel_cpu : 0.0);
  }
  if (!skip_open) {
    std::printf("load (Open) %.3f s; two-stage complete (index built in the background) %.2f s\n",
                load_s, ready_s);
    std::printf("load with the stored retrieval state (%.1f MB, written in %.2f s): two-stage complete "
                "at %.3f s (%.1fx sooner)\n",
                static_cast<double>(retrieval_bytes) / 1e6, save_retrieval_s, stored_load_s,
                stored_load_s > 0 ? ready_s / stored_load_s : 0.0);
  }
  const models::IalsOptions ials_defaults;
  std::printf("%zu requests, k=%zu, %zu candidates per component (iALS retrieves %zu, "
              "ef-search %d):\n",
              requests, k, per_model,
              std::min(ann > 0 ? ann : ials_defaults.retrieval_candidates, per_model),
              ef_search > 0 ? ef_search : ials_defaults.retrieval_ef_search);
  std::printf("  exhaustive (anchor): p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", ex.p50, ex.p99, ex.max);
  std::printf("  two-stage:           p50 %.3f ms  p99 %.3f ms  max %.3f ms  (p50 %.3fx, p99 %.3fx)\n",
              ts.p50, ts.p99, ts.max, ex.p50 > 0 ? ts.p50 / ex.p50 : 0.0,
              ex.p99 > 0 ? ts.p99 / ex.p99 : 0.0);
  std::printf("  CPU time of the serving thread: exhaustive p50 %.3f ms  p99 %.3f ms; two-stage "
              "p50 %.3f ms  p99 %.3f ms  (p50 %.3fx, p99 %.3fx)\n",
              ex_cpu.p50, ex_cpu.p99, ts_cpu.p50, ts_cpu.p99,
              ex_cpu.p50 > 0 ? ts_cpu.p50 / ex_cpu.p50 : 0.0,
              ex_cpu.p99 > 0 ? ts_cpu.p99 / ex_cpu.p99 : 0.0);
  std::printf("  agreement with the exhaustive top-%zu: mean overlap %.4f, identical lists %.4f\n", k,
              overlap, share_identical);
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("two-stage", BenchTwoStageMain,
                     "fused Recommend: two-stage retrieval vs the exhaustive path (latency, agreement)");

}  // namespace recdb::bench
