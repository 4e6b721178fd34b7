// `recdb bench two-stage`: the fused blend's Recommend (Fused::
// RecommendExplained, the ranking step of DB::Recommend) through the
// exhaustive path (every component scores every item: the anchor and the
// oracle) and through two-stage retrieval (engine/models/fused.h), on one
// fitted model in one run, requests alternating between the two. Reports
// p50/p99 of both and their ratio, the cost of building the retrieval index
// (HNSW over the iALS item factors, built at load), and how far two-stage
// agrees with the oracle: mean overlap@k and the share of requests whose
// top-k lists are identical.
//
// The world is synthetic and built in memory (no DB, no import): Zipf item
// popularity plus per-user topics, so that the factor, neighbour and
// co-occurrence components all carry signal. The blend is fitted with fixed
// weights (1) and few iALS iterations: latency does not depend on them.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/models/fused.h"
#include "engine/models/ials.h"
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
  uint32_t items = 100000, users = 20000;
  uint64_t events = 300000;
  size_t requests = 300, k = 10, per_model = 200;
  int threads = 2, ials_iterations = 4;
  size_t ann = 0;  // IalsOptions::retrieval_candidates
  bool json = false;
  for (int a = 1; a < argc; ++a) {
    auto next = [&](const char* name) -> const char* {
      if (a + 1 >= argc) {
        std::fprintf(stderr, "bench two-stage: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++a];
    };
    if (!std::strcmp(argv[a], "--items")) items = static_cast<uint32_t>(std::atoll(next("--items")));
    else if (!std::strcmp(argv[a], "--users")) users = static_cast<uint32_t>(std::atoll(next("--users")));
    else if (!std::strcmp(argv[a], "--events")) events = std::atoll(next("--events"));
    else if (!std::strcmp(argv[a], "--requests")) requests = std::atoll(next("--requests"));
    else if (!std::strcmp(argv[a], "-k")) k = std::atoll(next("-k"));
    else if (!std::strcmp(argv[a], "--per-model")) per_model = std::atoll(next("--per-model"));
    else if (!std::strcmp(argv[a], "--threads")) threads = std::atoi(next("--threads"));
    else if (!std::strcmp(argv[a], "--ials-iterations")) ials_iterations = std::atoi(next("--ials-iterations"));
    else if (!std::strcmp(argv[a], "--ann")) ann = std::atoll(next("--ann"));
    else if (!std::strcmp(argv[a], "--json")) json = true;
    else {
      std::fprintf(stderr,
                   "usage: recdb bench two-stage [--items N] [--users N] [--events N] [--requests N]\n"
                   "       [-k N] [--per-model N] [--threads N] [--ials-iterations N] [--json]\n"
                   "       [--ann N]  (iALS retrieves at most N nominees; 0 = per-model)\n");
      return 2;
    }
  }
  if (items == 0 || users == 0 || events == 0 || requests == 0) {
    std::fprintf(stderr, "bench two-stage: --items, --users, --events and --requests must be > 0\n");
    return 2;
  }
  auto t0 = Clock::now();
  const models::Dataset data = SyntheticWorld(items, users, events, 42);
  const double world_s = Since(t0);

  models::ComponentConfig config;
  config.threads = threads;
  config.ials_iterations = ials_iterations;
  config.min_pair_users = 1;
  config.ials_retrieval_candidates = ann;
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
  // Open: the stored blend loaded into a fresh model serving two-stage. Load
  // returns before the iALS index is built (it is built in the background;
  // until then iALS is scored in full): load_s is what Open pays, ready_s
  // when two-stage serving is complete.
  double load_s = 0, ready_s = 0;
  {
    models::ModelWriter out;
    Status saved = fused.Save(out);
    models::FusedOptions lo = fo;
    lo.retrieval = models::Retrieval::kTwoStage;
    models::Fused loaded(models::DefaultFusedComponents(data.num_items(), config), lo);
    models::ModelReader in(out.bytes(), "bench");
    t0 = Clock::now();
    Status ok = saved.ok() ? loaded.Load(in) : saved;
    load_s = Since(t0);
    if (!ok.ok()) {
      std::fprintf(stderr, "bench two-stage: save/load: %s\n", ok.ToString().c_str());
      return 1;
    }
    const models::Ials* ials = nullptr;
    for (size_t j = 0; j < loaded.num_components(); ++j) {
      if (loaded.component_name(j) == "ials") {
        ials = dynamic_cast<const models::Ials*>(&loaded.component(j));
      }
    }
    // What a DB's Scheduler runs after Open.
    const std::atomic<bool> go{false};
    for (auto& work : loaded.TakeDeferredWork()) work(go);
    if (ials != nullptr && !ials->retrieval_ready()) {
      std::fprintf(stderr, "bench two-stage: the iALS index was not built\n");
      return 1;
    }
    ready_s = Since(t0);
  }
  t0 = Clock::now();
  fused.SetRetrieval(models::Retrieval::kTwoStage);  // builds the HNSW index, synchronously
  const double prepare_s = Since(t0);

  // Requests: known users with their history, alternating the two paths.
  std::mt19937_64 rng(7);
  std::vector<double> exhaustive_ms, two_stage_ms;
  double overlap_sum = 0;
  size_t identical = 0;
  auto serve = [&](models::Retrieval r, const models::UserQuery& q,
                   std::span<const uint32_t> exclude, std::vector<double>* ms) {
    fused.SetRetrieval(r);  // a flag once prepared
    const auto s = Clock::now();
    auto out = fused.RecommendExplained(q, k, exclude, nullptr);
    ms->push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    std::vector<uint32_t> ids;
    for (const auto& e : out) ids.push_back(e.item);
    return ids;
  };
  const size_t warm = std::min<size_t>(20, requests);
  for (size_t n = 0; n < warm + requests; ++n) {
    const uint32_t u = static_cast<uint32_t>(rng() % users);
    auto hist = data.UserItems(u);
    std::vector<uint32_t> exclude(hist.begin(), hist.end());  // sorted, unique
    models::UserQuery q;
    q.user = u;
    q.items = hist;
    std::vector<double> ex_ms, ts_ms;
    auto want = serve(models::Retrieval::kExhaustive, q, exclude, &ex_ms);
    auto got = serve(models::Retrieval::kTwoStage, q, exclude, &ts_ms);
    if (n < warm) continue;
    exhaustive_ms.push_back(ex_ms[0]);
    two_stage_ms.push_back(ts_ms[0]);
    size_t common = 0;
    for (uint32_t i : got) common += std::find(want.begin(), want.end(), i) != want.end();
    overlap_sum += want.empty() ? 1.0 : static_cast<double>(common) / static_cast<double>(want.size());
    identical += got == want;
  }
  const Latency ex = Summarise(exhaustive_ms), ts = Summarise(two_stage_ms);
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
        "\"ready_s\": %.3f, \"requests\": %zu, "
        "\"k\": %zu, \"per_model\": %zu, \"ann\": %zu, \"exhaustive\": {\"p50_ms\": %.3f, \"p99_ms\": %.3f, "
        "\"max_ms\": %.3f}, \"two_stage\": {\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}, "
        "\"p50_ratio\": %.3f, \"p99_ratio\": %.3f, \"overlap_at_k\": %.4f, "
        "\"share_identical\": %.4f}\n",
        items, users, static_cast<unsigned long long>(events), names.c_str(), fit_s, prepare_s,
        load_s, ready_s, requests, k, per_model, ann, ex.p50, ex.p99, ex.max, ts.p50, ts.p99, ts.max,
        ex.p50 > 0 ? ts.p50 / ex.p50 : 0.0, ex.p99 > 0 ? ts.p99 / ex.p99 : 0.0, overlap,
        share_identical);
    return 0;
  }
  std::printf("world: %u items, %u users, %llu events (built in %.2f s)\n", items, users,
              static_cast<unsigned long long>(events), world_s);
  std::printf("blend: %s; fit %.2f s; two-stage index build %.2f s\n", names.c_str(), fit_s,
              prepare_s);
  std::printf("load (Open) %.3f s; two-stage complete (index built in the background) %.2f s\n",
              load_s, ready_s);
  std::printf("%zu requests, k=%zu, %zu candidates per component (iALS retrieves %zu):\n", requests,
              k, per_model, ann > 0 ? std::min(ann, per_model) : per_model);
  std::printf("  exhaustive (anchor): p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", ex.p50, ex.p99, ex.max);
  std::printf("  two-stage:           p50 %.3f ms  p99 %.3f ms  max %.3f ms  (p50 %.3fx, p99 %.3fx)\n",
              ts.p50, ts.p99, ts.max, ex.p50 > 0 ? ts.p50 / ex.p50 : 0.0,
              ex.p99 > 0 ? ts.p99 / ex.p99 : 0.0);
  std::printf("  agreement with the exhaustive top-%zu: mean overlap %.4f, identical lists %.4f\n", k,
              overlap, share_identical);
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("two-stage", BenchTwoStageMain,
                     "fused Recommend: two-stage retrieval vs the exhaustive path (latency, agreement)");

}  // namespace recdb::bench
