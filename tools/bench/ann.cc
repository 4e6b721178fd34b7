// `recdb bench ann`: recdb's HnswIndex against raw hnswlib, same data, same
// parameters, same run (docs/DESIGN.md "Benchmarks").
//
// Synthetic clustered vectors (Gaussian blobs, normalised: the cosine setting
// of text embeddings). Ground truth by exact brute force. Reports recall@10
// and single-thread queries/s for HnswIndex and for hnswlib::HierarchicalNSW
// used directly, build time, checkpoint bytes per vector, and filtered search
// at 1%, 10% and 50% selectivity against a post-filter baseline (raw hnswlib
// asked for k/selectivity*2 neighbours, then filtered).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "index/brute_force_index.h"
#include "index/hnsw_index.h"
#include "index/hnswlib_shim.h"
#include "index/id_filter.h"
#include "index/vector_math.h"
#include "tools/bench/bench.h"

namespace recdb::bench {
namespace {

using index::Neighbor;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

struct AnnFlags {
  size_t n = 100000;
  uint32_t dim = 384;
  size_t queries = 1000;
  size_t m = 16;
  size_t ef_construction = 200;
  size_t ef = 64;
  bool ef_given = false;
  size_t clusters = 200;
  uint64_t seed = 1;
  size_t k = 10;
  size_t removals = 1000;
  bool json = false;
};

// False when the benchmark should return *exit_code (--help, a bad flag).
bool ParseFlags(int argc, char** argv, AnnFlags* f, int* exit_code) {
  Flags flags("ann", "--ef fixes ef_search; without it ef rises from 64 until recall@10 >= 0.95.");
  cli::ArgParser& a = flags.args();
  a.AddFlag("n", "N", "vectors", "100000");
  a.AddFlag("dim", "D", "dimensions", "384");
  a.AddFlag("queries", "N", "queries", "1000");
  a.AddFlag("M", "M", "HNSW M", "16");
  a.AddFlag("ef-construction", "N", "HNSW ef_construction", "200");
  a.AddFlag("ef", "N", "ef_search (default: raised until recall@10 >= 0.95)", "64");
  a.AddFlag("clusters", "N", "cluster centres the vectors are drawn around", "200");
  a.AddFlag("seed", "N", "random seed", "1");
  a.AddFlag("removals", "N", "vectors removed before the after-removal pass", "1000");
  a.AddSwitch("json", "print one JSON object");
  if (!flags.Parse(argc, argv)) return *exit_code = flags.exit_code(), false;
  f->n = flags.Int("n", 1);
  f->dim = static_cast<uint32_t>(flags.Int("dim", 1));
  f->queries = flags.Int("queries", 1);
  f->m = flags.Int("M", 2);
  f->ef_construction = flags.Int("ef-construction", 1);
  f->ef = flags.Int("ef", 1);
  f->ef_given = flags.Has("ef");
  f->clusters = flags.Int("clusters", 1);
  f->seed = flags.Int("seed", 0);
  f->removals = flags.Int("removals", 0);
  f->json = flags.Has("json");
  *exit_code = flags.exit_code();
  return flags.ok();
}

// n unit vectors around `clusters` random centres; queries come from the same
// distribution (same centres, fresh noise).
std::vector<float> MakeClustered(size_t n, uint32_t dim, const std::vector<float>& centres,
                                 size_t clusters, std::mt19937_64& rng) {
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::uniform_int_distribution<size_t> pick(0, clusters - 1);
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const float* c = centres.data() + pick(rng) * dim;
    float* v = out.data() + i * dim;
    for (uint32_t j = 0; j < dim; ++j) v[j] = c[j] + 0.6f * gauss(rng);
    index::NormalizeInPlace(v, dim).IgnoreError();  // non-zero with probability 1
  }
  return out;
}

double Recall(const std::vector<std::vector<uint32_t>>& got,
              const std::vector<std::vector<Neighbor>>& truth) {
  double sum = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    if (truth[q].empty()) {
      sum += 1;
      continue;
    }
    std::set<uint32_t> t;
    for (const Neighbor& n : truth[q]) t.insert(n.id);
    size_t hit = 0;
    for (uint32_t id : got[q]) hit += t.count(id);
    sum += static_cast<double>(hit) / truth[q].size();
  }
  return sum / truth.size();
}

// Exact top-k for every query, on all cores (ground truth is not timed).
std::vector<std::vector<Neighbor>> GroundTruth(const index::BruteForceIndex& exact,
                                               const std::vector<float>& queries, uint32_t dim,
                                               size_t nq, size_t k,
                                               const index::SearchFilter* filter) {
  std::vector<std::vector<Neighbor>> truth(nq);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t q = t; q < nq; q += threads) {
        truth[q] = exact.Search({queries.data() + q * dim, dim}, k, filter).value();
      }
    });
  }
  for (auto& th : pool) th.join();
  return truth;
}

struct Measured {
  double recall = 0;
  double qps = 0;
};

// Runs `search(q) -> ids` over all queries `rounds` times; best qps.
template <typename SearchFn>
Measured Measure(size_t nq, const std::vector<std::vector<Neighbor>>& truth, int rounds,
                 SearchFn search) {
  Measured m;
  std::vector<std::vector<uint32_t>> got(nq);
  for (int r = 0; r < rounds; ++r) {
    const auto start = Clock::now();
    for (size_t q = 0; q < nq; ++q) got[q] = search(q);
    m.qps = std::max(m.qps, nq / Seconds(start));
  }
  m.recall = Recall(got, truth);
  return m;
}

int Run(const AnnFlags& f) {
  auto log = [&](const char* fmt, auto... args) {
    if (!f.json) std::printf(fmt, args...);
    std::fflush(stdout);
  };
  std::mt19937_64 rng(f.seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centres(f.clusters * f.dim);
  for (float& c : centres) c = gauss(rng);
  const std::vector<float> data = MakeClustered(f.n, f.dim, centres, f.clusters, rng);
  const std::vector<float> queries = MakeClustered(f.queries, f.dim, centres, f.clusters, rng);
  auto query = [&](size_t q) { return std::span<const float>(queries.data() + q * f.dim, f.dim); };
  log("ann: n=%zu dim=%u queries=%zu M=%zu ef_construction=%zu clusters=%zu seed=%llu\n", f.n,
      f.dim, f.queries, f.m, f.ef_construction, f.clusters,
      static_cast<unsigned long long>(f.seed));

  index::BruteForceIndex exact(f.dim, index::Metric::kCosine);
  for (size_t i = 0; i < f.n; ++i) {
    if (!exact.Add(i, {data.data() + i * f.dim, f.dim}).ok()) return 1;
  }
  auto start = Clock::now();
  const auto truth = GroundTruth(exact, queries, f.dim, f.queries, f.k, nullptr);
  log("ground truth: %.1f s\n", Seconds(start));

  // recdb HnswIndex.
  index::HnswOptions options;
  options.m = f.m;
  options.ef_construction = f.ef_construction;
  options.ef_search = f.ef;
  options.initial_capacity = f.n;
  auto created = index::HnswIndex::Create(f.dim, index::Metric::kCosine, options);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  index::HnswIndex& ours = **created;
  start = Clock::now();
  for (size_t i = 0; i < f.n; ++i) {
    Status s = ours.Add(i, {data.data() + i * f.dim, f.dim});
    if (!s.ok()) {
      std::fprintf(stderr, "add: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double build_s = Seconds(start);
  log("recdb build: %.1f s\n", build_s);

  // Raw hnswlib, the anchor: same vectors (already unit length), same params.
  hnswlib::InnerProductSpace space(f.dim);
  hnswlib::HierarchicalNSW<float> raw(&space, f.n, f.m, f.ef_construction, options.random_seed);
  start = Clock::now();
  for (size_t i = 0; i < f.n; ++i) raw.addPoint(data.data() + i * f.dim, i);
  const double raw_build_s = Seconds(start);
  log("hnswlib build: %.1f s\n", raw_build_s);

  auto ours_search = [&](size_t q) {
    const std::vector<Neighbor> found = ours.Search(query(q), f.k).value();
    std::vector<uint32_t> ids;
    for (const Neighbor& n : found) ids.push_back(n.id);
    return ids;
  };
  auto raw_search = [&](size_t q) {
    auto pq = raw.searchKnn(queries.data() + q * f.dim, f.k);
    std::vector<uint32_t> ids;
    while (!pq.empty()) {
      ids.push_back(static_cast<uint32_t>(pq.top().second));
      pq.pop();
    }
    return ids;
  };

  // Unfiltered: pick ef (the smallest of a ladder reaching recall 0.95 for
  // HnswIndex, unless --ef fixed it), then time both, interleaved.
  size_t ef = f.ef;
  Measured ours_m, raw_m;
  for (size_t candidate : {f.ef, size_t{96}, size_t{128}, size_t{192}, size_t{256}, size_t{384}}) {
    if (candidate < f.ef) continue;
    ef = candidate;
    ours.set_ef_search(ef);
    raw.setEf(ef);
    ours_m = Measure(f.queries, truth, 1, ours_search);
    if (f.ef_given || ours_m.recall >= 0.95) break;
  }
  ours_m = Measured{};
  raw_m = Measured{};
  for (int round = 0; round < 3; ++round) {  // interleave against drift
    const Measured a = Measure(f.queries, truth, 1, raw_search);
    const Measured b = Measure(f.queries, truth, 1, ours_search);
    raw_m = {a.recall, std::max(raw_m.qps, a.qps)};
    ours_m = {b.recall, std::max(ours_m.qps, b.qps)};
  }
  log("ef=%zu  recdb: recall@10 %.4f  %.0f q/s   hnswlib: recall@10 %.4f  %.0f q/s   ratio %.3f\n",
      ef, ours_m.recall, ours_m.qps, raw_m.recall, raw_m.qps, ours_m.qps / raw_m.qps);

  // Checkpoint size.
  char tmpl[] = "/tmp/recdb_ann_XXXXXX";
  const char* dir = mkdtemp(tmpl);
  double bytes_per_vector = 0;
  double save_s = 0, load_s = 0;
  if (dir != nullptr) {
    const std::string path = std::string(dir) + "/ann.hnsw";
    start = Clock::now();
    Status s = ours.Save(path);
    save_s = Seconds(start);
    struct stat st;
    if (s.ok() && ::stat(path.c_str(), &st) == 0) {
      bytes_per_vector = static_cast<double>(st.st_size) / f.n;
      start = Clock::now();
      auto loaded = index::HnswIndex::Load(path, f.dim, index::Metric::kCosine, options);
      load_s = Seconds(start);
      if (!loaded.ok()) std::fprintf(stderr, "load: %s\n", loaded.status().ToString().c_str());
    } else {
      std::fprintf(stderr, "save: %s\n", s.ToString().c_str());
    }
    ::unlink(path.c_str());
    ::rmdir(dir);
  }
  log("checkpoint: %.1f bytes/vector (raw vector %u), save %.2f s, load %.2f s\n",
      bytes_per_vector, f.dim * 4, save_s, load_s);

  // Filtered search.
  struct FilterResult {
    Measured auto_plan, graph, exact_plan, postfilter;
  };
  std::map<std::string, FilterResult> filtered;
  const size_t filtered_queries = std::min<size_t>(f.queries, 500);
  for (double sel : {0.01, 0.02, 0.05, 0.1, 0.5}) {
    std::mt19937_64 frng(f.seed * 31 + static_cast<uint64_t>(sel * 1000));
    std::bernoulli_distribution take(sel);
    index::IdFilter filter;
    for (uint32_t i = 0; i < f.n; ++i) {
      if (take(frng)) filter.Allow(i);
    }
    const auto ftruth = GroundTruth(exact, queries, f.dim, filtered_queries, f.k, &filter);
    FilterResult r;
    auto with_plan = [&](index::SearchPlan plan) {
      return [&, plan](size_t q) {
        const std::vector<Neighbor> found =
            ours.Search(query(q), f.k, &filter, plan, nullptr).value();
        std::vector<uint32_t> ids;
        for (const Neighbor& n : found) ids.push_back(n.id);
        return ids;
      };
    };
    r.auto_plan = Measure(filtered_queries, ftruth, 1, with_plan(index::SearchPlan::kAuto));
    r.graph = Measure(filtered_queries, ftruth, 1, with_plan(index::SearchPlan::kGraph));
    r.exact_plan = Measure(filtered_queries, ftruth, 1, with_plan(index::SearchPlan::kExact));
    const size_t wide_k = std::min<size_t>(f.n, static_cast<size_t>(std::ceil(2 * f.k / sel)));
    r.postfilter = Measure(filtered_queries, ftruth, 1, [&](size_t q) {
      auto pq = raw.searchKnn(queries.data() + q * f.dim, wide_k);
      std::vector<std::pair<float, uint32_t>> hits;
      while (!pq.empty()) {
        const uint32_t id = static_cast<uint32_t>(pq.top().second);
        if (filter.Allows(id)) hits.emplace_back(pq.top().first, id);
        pq.pop();
      }
      std::sort(hits.begin(), hits.end());
      std::vector<uint32_t> ids;
      for (size_t i = 0; i < hits.size() && i < f.k; ++i) ids.push_back(hits[i].second);
      return ids;
    });
    char key[16];
    std::snprintf(key, sizeof(key), "%g", sel);
    filtered[key] = r;
    log("filter %-5s recdb(auto) %.4f %7.0f q/s | graph %.4f %7.0f q/s | exact %.4f %7.0f q/s | "
        "post-filter(k=%zu) %.4f %7.0f q/s\n",
        key, r.auto_plan.recall, r.auto_plan.qps, r.graph.recall, r.graph.qps,
        r.exact_plan.recall, r.exact_plan.qps, wide_k, r.postfilter.recall, r.postfilter.qps);
  }

  // Removal: recdb erases the vector and unlinks the node (hnsw_index.h);
  // raw hnswlib only marks it deleted. Same random ids, one at a time (as a
  // stream of deletes arrives), then recall@10 against the exact top 10 of
  // the remaining vectors.
  const size_t removals = std::min(f.removals, f.n / 4);
  double ours_remove_s = 0, raw_remove_s = 0, ours_batch_s = 0;
  Measured ours_after, raw_after;
  if (removals > 0) {
    std::vector<uint32_t> ids(f.n);
    for (uint32_t i = 0; i < f.n; ++i) ids[i] = i;
    std::mt19937_64 rrng(f.seed * 77 + 5);
    std::shuffle(ids.begin(), ids.end(), rrng);
    ids.resize(removals);
    start = Clock::now();
    for (uint32_t id : ids) raw.markDelete(id);
    raw_remove_s = Seconds(start);
    start = Clock::now();
    for (uint32_t id : ids) {
      Status s = ours.Remove(id);
      if (!s.ok()) {
        std::fprintf(stderr, "remove: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    ours_remove_s = Seconds(start);
    // The same number again as one batch (DB::DeleteVectors of many ids).
    std::vector<uint32_t> batch(f.n);
    for (uint32_t i = 0; i < f.n; ++i) batch[i] = i;
    std::shuffle(batch.begin(), batch.end(), rrng);
    std::vector<uint32_t> more;
    for (uint32_t id : batch) {
      if (more.size() == removals) break;
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) more.push_back(id);
    }
    for (uint32_t id : more) raw.markDelete(id);
    start = Clock::now();
    auto many = ours.RemoveMany(more);
    ours_batch_s = Seconds(start);
    if (!many.ok() || *many != more.size()) {
      std::fprintf(stderr, "remove many: %s\n", many.status().ToString().c_str());
      return 1;
    }
    ids.insert(ids.end(), more.begin(), more.end());
    index::IdFilter live;
    for (uint32_t id : ids) live.Exclude(id);
    const size_t nq = std::min<size_t>(f.queries, 500);
    const auto rtruth = GroundTruth(exact, queries, f.dim, nq, f.k, &live);
    ours_after = Measure(nq, rtruth, 1, ours_search);
    raw_after = Measure(nq, rtruth, 1, raw_search);
    log("removal of %zu: recdb %.3f ms each (erase + unlink), hnswlib markDelete %.4f ms each; "
        "%zu more in one RemoveMany: %.1f ms in all (%.4f ms each); "
        "recall@10 after both: recdb %.4f, hnswlib %.4f\n",
        removals, 1e3 * ours_remove_s / removals, 1e3 * raw_remove_s / removals, more.size(),
        1e3 * ours_batch_s, 1e3 * ours_batch_s / removals, ours_after.recall, raw_after.recall);
  }

  if (f.json) {
    std::printf("{\"n\": %zu, \"dim\": %u, \"queries\": %zu, \"M\": %zu, \"ef_construction\": %zu, "
                "\"ef\": %zu, \"recall_at_10\": %.4f, \"qps\": %.1f, \"hnswlib_recall_at_10\": %.4f, "
                "\"hnswlib_qps\": %.1f, \"qps_ratio\": %.4f, \"build_s\": %.2f, "
                "\"hnswlib_build_s\": %.2f, \"bytes_per_vector\": %.1f, \"filtered\": {",
                f.n, f.dim, f.queries, f.m, f.ef_construction, ef, ours_m.recall, ours_m.qps,
                raw_m.recall, raw_m.qps, ours_m.qps / raw_m.qps, build_s, raw_build_s,
                bytes_per_vector);
    bool first = true;
    for (const auto& [key, r] : filtered) {
      std::printf("%s\"%s\": {\"recall_at_10\": %.4f, \"qps\": %.1f, \"graph_recall_at_10\": %.4f, "
                  "\"graph_qps\": %.1f, \"exact_qps\": %.1f, \"postfilter_recall_at_10\": %.4f, "
                  "\"postfilter_qps\": %.1f}",
                  first ? "" : ", ", key.c_str(), r.auto_plan.recall, r.auto_plan.qps,
                  r.graph.recall, r.graph.qps, r.exact_plan.qps, r.postfilter.recall,
                  r.postfilter.qps);
      first = false;
    }
    std::printf("}, \"removals\": %zu, \"remove_ms\": %.4f, \"hnswlib_mark_delete_ms\": %.5f, "
                "\"remove_many_ms_total\": %.2f, "
                "\"recall_at_10_after_removals\": %.4f, \"hnswlib_recall_at_10_after_removals\": %.4f}\n",
                removals, removals ? 1e3 * ours_remove_s / removals : 0.0,
                removals ? 1e3 * raw_remove_s / removals : 0.0, 1e3 * ours_batch_s,
                ours_after.recall, raw_after.recall);
  }
  const bool ok = ours_m.recall >= 0.95 && ours_m.qps >= 0.9 * raw_m.qps &&
                  filtered["0.01"].auto_plan.recall >= 0.95 &&
                  filtered["0.1"].auto_plan.recall >= 0.95;
  log("%s\n", ok ? "PASS: recall >= 0.95 at >= 0.9x hnswlib qps; filtered 1%/10% recall >= 0.95"
                 : "BELOW THE BAR (see figures above)");
  return 0;
}

int BenchAnnMain(int argc, char** argv) {
  AnnFlags flags;
  int exit_code = 0;
  if (!ParseFlags(argc, argv, &flags, &exit_code)) return exit_code;
  return Run(flags);
}

}  // namespace

RECDB_REGISTER_BENCH("ann", BenchAnnMain,
                     "HNSW recall@10 and q/s vs raw hnswlib, filtered search vs post-filtering");

}  // namespace recdb::bench
