// `recdb bench care-variants [--data DIR] [--only a,b]` and `recdb bench
// context-variants [--data DIR]`: the variant studies behind
// engine/rerank/README.md ("Variant study") and engine/models/README.md
// (fusion with and without context). They print tables, not pass/fail:
// the shipped stages' own bars are asserted by
// tests/engine/rerank_ml100k_slow_test.cc.
//
// care-variants fits the fused model on the docs/DESIGN.md split of ml-100k
// (--data, default ../shared/data/ml-100k), fuses each test user's top 300
// once, re-ranks with each variant of the diversity stage (MMR with other
// relevance units, pools, swaps, per-user lambda, embedding blends, floors,
// DPP greedy MAP, test-fitted ceilings per rank and per item, xQuAD /
// IA-Select over genres, a genre-coverage greedy, calibration composed with
// MMR, MMR + xQuAD hybrids), sweeps its trade-off knob and prints the most
// diverse point within -5% NDCG@10. The anchor is the fused list of the
// same run (re-ranking off); the first lines are the shipped rerank::Rerank
// through RerankedEvaluation, i.e. exactly `recdb eval --sweep diversity=...`.
// About 3 CPU-minutes (8 on a loaded machine); --only dpp,swaps runs the
// variants whose names contain "dpp" or "swaps".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/eval/evaluator.h"
#include "engine/eval/metrics.h"
#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "engine/models/context.h"
#include "engine/models/fused.h"
#include "engine/models/ials.h"
#include "engine/rerank/rerank_eval.h"
#include "tools/bench/bench.h"

namespace recdb::bench {
namespace {

// False (after printing why) if `s` is not OK.
bool Check(const Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "variants: %s: %s\n", what, s.ToString().c_str());
  return false;
}
template <typename T>
bool Check(const StatusOr<T>& s, const char* what) {
  return Check(s.status(), what);
}

double Sim(const std::vector<std::vector<uint32_t>>& cats, uint32_t a, uint32_t b) {
  const auto& ca = cats[a];
  const auto& cb = cats[b];
  if (ca.empty() && cb.empty()) return 1.0;
  size_t inter = 0;
  for (uint32_t x : ca) inter += std::count(cb.begin(), cb.end(), x) ? 1 : 0;
  const size_t uni = ca.size() + cb.size() - inter;
  return uni ? double(inter) / uni : 0.0;
}

// Standard deviation of the fused scores of a pool's first n items (the z
// unit of the shipped stage), never 0.
double PoolSd(const std::vector<models::Fused::Explained>& pool, size_t n) {
  double mean = 0, sd = 0;
  for (size_t r = 0; r < n; ++r) mean += pool[r].score;
  mean /= n;
  for (size_t r = 0; r < n; ++r) sd += (pool[r].score - mean) * (pool[r].score - mean);
  return std::sqrt(sd / n) + 1e-9;
}

// The fused blend with and without context popularity and context weight
// deltas (engine/models/README.md, "Context").
int ContextVariants(const std::string& dir) {
  auto data = eval::LoadMovieLens100k(dir);
  if (!Check(data, "data")) return 1;
  auto split = eval::SplitByTime(*data);
  if (!Check(split, "split")) return 1;
  for (bool cp : {false, true}) {
    for (bool deltas : {false, true}) {
      models::FusedOptions fo;
      fo.context_weights = deltas;
      models::Fused fused(models::DefaultFusedComponents(2, split->train.num_items(), nullptr, cp), fo);
      if (!Check(fused.Fit(split->train), "fused.Fit(split->train)")) return 1;
      auto r = eval::Evaluate(fused, *split);
      std::printf("context_pop %d deltas %d: val %.4f test ndcg %.4f recall %.4f deltas %zu\n", cp, deltas,
                  fused.validation_ndcg(), r.ndcg, r.recall, fused.ContextDeltas().size());
      for (auto& [n, w] : fused.Weights()) std::printf("  %s=%.2f", n.c_str(), w);
      std::printf("\n");
    }
  }
  return 0;
}

// Variants of the diversity stage (engine/rerank/README.md, "Variant
// study"). `only`: comma-separated substrings of the variant names to run,
// or null for all.
int DiversityVariants(const std::string& dir, const char* only) {
  auto data = eval::LoadMovieLens100k(dir);
  if (!Check(data, "data")) return 1;
  auto split = eval::SplitByTime(*data);
  if (!Check(split, "split")) return 1;
  const models::Dataset& tr = split->train;
  models::FusedOptions fo;
  models::Fused fused(models::DefaultFusedComponents(2, tr.num_items()), fo);
  if (!Check(fused.Fit(tr), "fused.Fit(tr)")) return 1;
  const size_t depth = 300, K = 10;
  std::vector<std::vector<models::Fused::Explained>> pools(split->test_users.size());
  for (size_t idx = 0; idx < split->test_users.size(); ++idx) {
    models::TimelineQuery tq;
    models::BuildTimelineQuery(tr, split->test_users[idx], &tq);
    pools[idx] =
        fused.RecommendExplained(tq.query, depth, tr.UserItems(split->test_users[idx]), nullptr);
  }
  const uint32_t N = tr.num_items();
  std::vector<float> pop(N);
  for (uint32_t i = 0; i < N; ++i) pop[i] = float(tr.ItemUsers(i).size());
  const float maxpop = *std::max_element(pop.begin(), pop.end());
  std::vector<double> popn(N);
  for (uint32_t i = 0; i < N; ++i) popn[i] = std::log1p(pop[i]) / std::log1p(maxpop);
  const auto& cats = tr.item_categories();
  // Item-item similarities: Jaccard of genre sets (what ILD averages), cosine
  // of genre indicator vectors (PSD, the DPP kernel), cosine of iALS factors.
  std::vector<float> jac(size_t(N) * N), gcos(size_t(N) * N), ecos(size_t(N) * N);
  models::Ials ials;
  if (!Check(ials.Fit(tr), "ials.Fit(tr)")) return 1;
  Eigen::MatrixXf H = ials.item_factors();
  for (int r = 0; r < H.rows(); ++r) H.row(r) /= std::max(1e-9f, H.row(r).norm());
  const Eigen::MatrixXf E = H * H.transpose();
  for (uint32_t a = 0; a < N; ++a) {
    for (uint32_t b = 0; b < N; ++b) {
      jac[size_t(a) * N + b] = float(Sim(cats, a, b));
      size_t inter = 0;
      for (uint32_t x : cats[a]) inter += std::count(cats[b].begin(), cats[b].end(), x) ? 1 : 0;
      const double den = std::sqrt(double(cats[a].size()) * cats[b].size());
      gcos[size_t(a) * N + b] = a == b ? 1.0f : (den > 0 ? float(inter / den) : 0.0f);
      ecos[size_t(a) * N + b] = E(a, b);
    }
  }
  // One configuration of the diversity stage. family 0: greedy MMR
  // (1-lam) rel - lam (mean sim + gamma pop); 1: DPP greedy MAP (Chen et al.
  // 2018), L = diag(q) S diag(q), q = exp(theta z - gamma pop),
  // S = (1-beta)((1-alpha) genre cosine + alpha iALS cosine) + beta I.
  struct Cfg {
    int family = 0;
    int rel_kind = 2;    // 0 1/log2(r+2), 1 1/(r+1), 2 z over pool, 3 exp(z), 4 raw score
    int unit = 0;        // z unit: 0 pool sd, 1 sd of top 2k, 2 head gap s0-s(k-1)
    double flat = 0;     // per-user lambda: logit(lam_u) = logit(lam) + flat (h_u - median h)
    bool swaps = false;  // local search on the set objective after the greedy
    size_t P = 100;
    double lam = 0.9, gamma = 0.3, alpha = 0, beta = 0, floor = -1e9;
    size_t keep = 0;       // the fused top `keep` stay; the rest is diversified
    double hist = 0;       // relevance weight (train history length / median)^hist
    bool max_sim = false;  // MMR: max similarity to the list (Carbonell-Goldstein) instead of mean
    bool jaccard_kernel = false;  // DPP: S = Jaccard of genre sets (PSD, the Tanimoto kernel)
    int signal = 0;  // per-user lambda from: 0 head gap, 1 raw top score, 2 raw top-10 mean
    // family 2: intent-aware (xQuAD, Santos et al. 2010; IA-Select, Agrawal
    // et al. 2009), aspects = genres: (1-lam) z + lam sum_g P(g|u) P(i|g)
    // prod_{j in S} (1 - P(j|g)) - lam gamma pop. P(g|u) = the user's train
    // genre mix smoothed by `smooth` toward the catalog mix (or uniform),
    // plus `novel` spread over genres outside the history.
    // P(i|g): 0 [g in G(i)], 1 [g in G(i)]/|G(i)|, 2 exp(z) [g in G(i)]/|G(i)| (IA-Select).
    int pig = 0;
    double smooth = 0;    // toward the catalog genre mix
    bool uniform = false; // smooth toward uniform instead of the catalog
    double novel = 0;     // extra aspect mass for genres outside the history
    // family 3: genre-coverage greedy: (1-lam) z + lam (new genres of i -
    // kappa covered genres of i) / |G(i)|^wpow - lam gamma pop.
    double kappa = 0, wpow = 1;
    // family 0 with calibration: - cal * dKL (Steck 2018, as rerank.cc);
    // cal_first > 0: a calibration greedy ((1-cal) rank weight - cal dKL)
    // first keeps cal_first items of the pool, then MMR picks from them.
    double cal = 0;
    size_t cal_first = 0;
    // family 0 hybrids: + lam xq (the xQuAD term, P(i|g) = pig, aspects as
    // family 2) + lam cover (family 3's term).
    double xq = 0, cover = 0;
    // rel_kind 7 (a ceiling, fitted on the test hits): the chosen set is
    // listed by that relevance, not in fused order.
    bool order_by_rel = false;
    double oracle = 0;  // rel_kind 7: + oracle x [the item is a test hit]
  };
  std::vector<double> head_gap(pools.size());  // (s0 - s(k-1)) / pool sd, at P = 100
  for (size_t idx = 0; idx < pools.size(); ++idx) {
    const auto& pool = pools[idx];
    const size_t n = std::min<size_t>(100, pool.size());
    const double sd = PoolSd(pool, n);
    head_gap[idx] = (pool[0].score - pool[std::min(n, K) - 1].score) / sd;
  }
  std::vector<double> sorted_gap = head_gap;
  std::nth_element(sorted_gap.begin(), sorted_gap.begin() + sorted_gap.size() / 2,
                   sorted_gap.end());
  const double median_gap = sorted_gap[sorted_gap.size() / 2];
  // Raw fused score levels (how confident the model is for the user), as
  // (x - median) / sd over users.
  std::vector<std::vector<double>> level(3, std::vector<double>(pools.size(), 0.0));
  for (int sig : {1, 2}) {
    for (size_t idx = 0; idx < pools.size(); ++idx) {
      const auto& pool = pools[idx];
      double x = pool.empty() ? 0 : pool[0].score;
      if (sig == 2) {
        x = 0;
        for (size_t r = 0; r < K && r < pool.size(); ++r) x += pool[r].score / K;
      }
      level[sig][idx] = x;
    }
    std::vector<double> v = level[sig];
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    const double med = v[v.size() / 2];
    double sd = 0;
    for (double x : level[sig]) sd += (x - med) * (x - med);
    sd = std::sqrt(sd / v.size()) + 1e-9;
    for (double& x : level[sig]) x = (x - med) / sd;
  }
  auto hist_len_of = [&](size_t idx) { return double(tr.UserItems(split->test_users[idx]).size()); };
  // Ceiling check (uses the test set, so not a servable variant): hit rate
  // of each fused rank and of each z bucket over all test users.
  std::vector<double> hit_rank(depth, 0), hit_z(64, 0), n_z(64, 0);
  for (size_t idx = 0; idx < pools.size(); ++idx) {
    const auto& pool = pools[idx];
    const auto& truth = split->test_items[split->test_users[idx]];
    const size_t n = std::min<size_t>(100, pool.size());
    const double sd = PoolSd(pool, n);
    for (size_t r = 0; r < pool.size(); ++r) {
      const bool hit = std::find(truth.begin(), truth.end(), pool[r].item) != truth.end();
      hit_rank[r] += hit;
      const size_t b = std::min<size_t>(63, size_t(4 * (pool[0].score - pool[r].score) / sd));
      hit_z[b] += hit, n_z[b] += 1;
    }
  }
  for (auto& h : hit_rank) h /= pools.size();
  for (size_t b = 0; b < 64; ++b) hit_z[b] = n_z[b] > 0 ? hit_z[b] / n_z[b] : 0;
  std::printf("hit rate by fused rank:");
  for (size_t r : {0, 1, 2, 4, 9, 19, 49, 99, 199}) std::printf(" %zu:%.3f", r, hit_rank[r]);
  std::printf("\nhit rate by z below the best (0.25 buckets):");
  for (size_t b = 0; b < 24; ++b) std::printf(" %.3f", hit_z[b]);
  std::printf("\n");
  // Genre mix of each test user's train history (each distinct item spreads
  // 1 over its genres, as eval::CalibrationKl) and of the catalog.
  const size_t n_genres = tr.num_categories();
  std::vector<std::vector<double>> hist_mix(pools.size());
  for (size_t idx = 0; idx < pools.size(); ++idx) {
    std::vector<uint32_t> h(tr.UserItems(split->test_users[idx]).begin(),
                            tr.UserItems(split->test_users[idx]).end());
    std::sort(h.begin(), h.end());
    h.erase(std::unique(h.begin(), h.end()), h.end());
    hist_mix[idx] = eval::CategoryDistribution(h, cats, tr.num_categories());
    hist_mix[idx].resize(n_genres, 0.0);
  }
  std::vector<double> catalog_mix(n_genres, 0.0);
  {
    std::vector<uint32_t> all(N);
    for (uint32_t i = 0; i < N; ++i) all[i] = i;
    catalog_mix = eval::CategoryDistribution(all, cats, tr.num_categories());
    catalog_mix.resize(n_genres, 0.0);
  }
  // Ceiling with per-item information (uses the test set, so not a servable
  // variant): P(hit) of each pool item (top 100) from a logistic regression
  // fitted on the test hits over features the serving path has: fused z and
  // rank, each component's contribution, log popularity, the item's genre
  // affinity to the user's train history, its genre count. If even this
  // model, listing its own top 10 as the base, cannot reach +20% ILD within
  // -5% of its own NDCG@10, a better relevance model is no way to the bar.
  std::vector<std::vector<double>> phat(pools.size());
  {
    const auto& hmix = hist_mix;
    const size_t ncomp = pools[0].empty() ? 0 : pools[0][0].contributions.size();
    const size_t F = 8 + ncomp;
    std::vector<Eigen::VectorXd> xs;
    std::vector<double> ys;
    std::vector<std::pair<size_t, size_t>> at;
    for (size_t idx = 0; idx < pools.size(); ++idx) {
      const auto& pool = pools[idx];
      const auto& truth = split->test_items[split->test_users[idx]];
      const size_t n = std::min<size_t>(100, pool.size());
      const double sd = PoolSd(pool, n);
      for (size_t r = 0; r < n; ++r) {
        const uint32_t it = pool[r].item;
        Eigen::VectorXd x(F);
        double amean = 0, amax = 0;
        for (uint32_t g : cats[it]) amean += hmix[idx][g], amax = std::max(amax, hmix[idx][g]);
        if (!cats[it].empty()) amean /= cats[it].size();
        x << 1.0, (pool[r].score - pool[0].score) / sd, std::log2(r + 2.0), popn[it], amean, amax,
            double(cats[it].size()), std::log1p(hist_len_of(idx));
        for (size_t j = 0; j < ncomp; ++j)
          x(8 + j) = j < pool[r].contributions.size() ? pool[r].contributions[j] : 0.0;
        xs.push_back(x);
        ys.push_back(std::find(truth.begin(), truth.end(), it) != truth.end() ? 1.0 : 0.0);
        at.emplace_back(idx, r);
      }
    }
    Eigen::VectorXd w = Eigen::VectorXd::Zero(F);
    for (int iter = 0; iter < 25; ++iter) {  // Newton (IRLS), ridge 1e-3
      Eigen::MatrixXd Hm = 1e-3 * Eigen::MatrixXd::Identity(F, F);
      Eigen::VectorXd gr = -1e-3 * w;
      for (size_t i = 0; i < xs.size(); ++i) {
        const double p = 1 / (1 + std::exp(-xs[i].dot(w)));
        gr += (ys[i] - p) * xs[i];
        Hm += p * (1 - p) * xs[i] * xs[i].transpose();
      }
      w += Hm.ldlt().solve(gr);
    }
    for (auto& v : phat) v.assign(100, 0.0);
    for (size_t i = 0; i < xs.size(); ++i)
      phat[at[i].first][at[i].second] = 1 / (1 + std::exp(-xs[i].dot(w)));
    std::printf("logistic ceiling weights:");
    for (int f = 0; f < int(F); ++f) std::printf(" %.3f", w(f));
    std::printf("\n");
  }
  double p0 = 0;
  for (const auto& v : phat) p0 += *std::max_element(v.begin(), v.end()) / phat.size();
  std::vector<double> hist_len(pools.size());
  for (size_t idx = 0; idx < pools.size(); ++idx)
    hist_len[idx] = double(tr.UserItems(split->test_users[idx]).size());
  std::vector<double> sorted_len = hist_len;
  std::nth_element(sorted_len.begin(), sorted_len.begin() + sorted_len.size() / 2,
                   sorted_len.end());
  const double median_len = sorted_len[sorted_len.size() / 2];

  auto select = [&](size_t idx, const Cfg& c) {
    const auto& pool = pools[idx];
    const size_t n = std::min(c.P, pool.size());
    std::vector<double> z(n), rel(n);
    const double sd = PoolSd(pool, n);
    double unit = sd;
    if (c.unit == 1) {
      const size_t m = std::min(n, 2 * K);
      double mu = 0, v = 0;
      for (size_t r = 0; r < m; ++r) mu += pool[r].score;
      mu /= m;
      for (size_t r = 0; r < m; ++r) v += (pool[r].score - mu) * (pool[r].score - mu);
      unit = std::sqrt(v / m) + 1e-9;
    }
    if (c.unit == 2) unit = pool[0].score - pool[std::min(n, K) - 1].score + 1e-9;
    for (size_t r = 0; r < n; ++r) {
      z[r] = (pool[r].score - pool[0].score) / sd;
      if (c.rel_kind == 0) rel[r] = 1.0 / std::log2(r + 2.0);
      if (c.rel_kind == 1) rel[r] = 1.0 / (r + 1.0);
      if (c.rel_kind == 2) rel[r] = (pool[r].score - pool[0].score) / unit;
      if (c.rel_kind == 3) rel[r] = std::exp(z[r]);
      if (c.rel_kind == 4) rel[r] = pool[r].score - pool[0].score;
      if (c.rel_kind == 5) rel[r] = hit_rank[r] / hit_rank[0] / std::log2(std::min(r, K - 1) + 2.0);
      if (c.rel_kind == 6) {
        const size_t b = std::min<size_t>(63, size_t(4 * (pool[0].score - pool[r].score) / sd));
        rel[r] = hit_z[b] / hit_z[0] / std::log2(std::min(r, K - 1) + 2.0);
      }
      if (c.rel_kind == 7) {
        rel[r] = r < phat[idx].size() ? phat[idx][r] / p0 : 0.0;
        if (c.oracle > 0) {
          const auto& truth = split->test_items[split->test_users[idx]];
          rel[r] += c.oracle * (std::find(truth.begin(), truth.end(), pool[r].item) != truth.end());
        }
      }
      if (c.hist != 0) rel[r] *= std::pow(hist_len[idx] / median_len, c.hist);
    }
    auto sim = [&](uint32_t a, uint32_t b) {
      const size_t o = size_t(a) * N + b;
      return c.alpha > 0 ? (1 - c.alpha) * jac[o] + c.alpha * std::max(0.0f, ecos[o])
                         : double(jac[o]);
    };
    const size_t G = tr.num_categories();
    std::vector<double> w(G, 0.0);  // aspect weights P(g|u) (xQuAD)
    if (c.family == 2 || c.xq > 0) {
      const auto& h = hist_mix[idx];
      double nov = 0;
      for (size_t g = 0; g < G; ++g) nov += h[g] <= 0 ? 1 : 0;
      double tot = 0;
      for (size_t g = 0; g < G; ++g) {
        w[g] = (1 - c.smooth) * h[g] + c.smooth * (c.uniform ? 1.0 / G : catalog_mix[g]);
        if (c.novel > 0 && h[g] <= 0 && nov > 0) w[g] += c.novel / nov;
        tot += w[g];
      }
      for (double& x : w) x /= tot;
    }
    // xQuAD: prod_{j in S} (1 - P(j|g)); coverage greedy: 1 until covered.
    std::vector<double> notcov(G, 1.0), notcov_bin(G, 1.0);
    auto pig_of = [&](size_t r) {
      const size_t m = std::max<size_t>(1, cats[pool[r].item].size());
      return c.pig == 0 ? 1.0 : c.pig == 1 ? 1.0 / m : std::exp(z[r]) / m;
    };
    auto xquad_term = [&](size_t r) {
      double v = 0;
      for (uint32_t g : cats[pool[r].item]) v += w[g] * pig_of(r) * notcov[g];
      return v;
    };
    auto cover_term = [&](size_t r) {
      const auto& gi = cats[pool[r].item];
      double fresh = 0, old = 0;
      for (uint32_t g : gi) (notcov_bin[g] > 0 ? fresh : old) += 1;
      return (fresh - c.kappa * old) / std::pow(std::max<size_t>(1, gi.size()), c.wpow);
    };
    auto cover_add = [&](size_t r) {
      for (uint32_t g : cats[pool[r].item]) notcov[g] *= 1 - pig_of(r), notcov_bin[g] = 0;
    };
    std::vector<bool> used(n, false);
    for (size_t r = 0; r < n; ++r) used[r] = z[r] < c.floor && r >= K;  // relevance floor
    std::vector<size_t> selr;
    for (size_t r = 0; r < c.keep && r < n; ++r) used[r] = true, selr.push_back(r);
    if (c.family == 0) {
      double lam = c.lam;
      if (c.flat != 0) {
        const double g = c.signal == 0 ? head_gap[idx] - median_gap : level[c.signal][idx];
        const double l = std::log(lam / (1 - lam)) + c.flat * g;
        lam = 1 / (1 + std::exp(-l));
      }
      const size_t G = tr.num_categories();
      std::vector<double> mass(G, 0.0);
      double mass_t = 0;
      auto kl_with = [&](int item) {  // KL(p || (1-a) q + a p) of the list plus `item` (-1: none)
        const auto& p = hist_mix[idx];
        std::vector<double> m = mass;
        double t = mass_t;
        if (item >= 0 && !cats[item].empty()) {
          for (uint32_t g : cats[item]) m[g] += 1.0 / cats[item].size();
          t += 1;
        }
        double kl = 0;
        for (size_t g = 0; g < G; ++g) {
          if (p[g] <= 0) continue;
          const double q = t > 0 ? m[g] / t : 0.0;
          kl += p[g] * std::log(p[g] / (0.99 * q + 0.01 * p[g]));
        }
        return kl;
      };
      auto add_mass = [&](uint32_t item) {
        if (cats[item].empty()) return;
        for (uint32_t g : cats[item]) mass[g] += 1.0 / cats[item].size();
        mass_t += 1;
      };
      if (c.cal_first > 0) {  // calibration greedy keeps cal_first items; the rest are out
        std::vector<bool> keep(n, false);
        for (size_t t = 0; t < c.cal_first && t < n; ++t) {
          const double now = kl_with(-1);
          double best = -1e300;
          size_t br = SIZE_MAX;
          for (size_t r = 0; r < n; ++r) {
            if (keep[r] || used[r]) continue;
            const double g =
                (1 - c.cal) / std::log2(r + 2.0) - c.cal * (kl_with(int(pool[r].item)) - now);
            if (g > best) best = g, br = r;
          }
          if (br == SIZE_MAX) break;
          keep[br] = true;
          add_mass(pool[br].item);
        }
        for (size_t r = 0; r < n; ++r) used[r] = used[r] || !keep[r];
        std::fill(mass.begin(), mass.end(), 0.0);
        mass_t = 0;
      }
      const double cal = c.cal_first > 0 ? 0.0 : c.cal;
      for (size_t t = selr.size(); t < K && t < n; ++t) {
        double best = -1e300;
        size_t br = SIZE_MAX;
        const double kl_now = cal > 0 ? kl_with(-1) : 0.0;
        for (size_t r = 0; r < n; ++r) {
          if (used[r]) continue;
          const double dkl = cal > 0 ? kl_with(int(pool[r].item)) - kl_now : 0.0;
          double s = 0;
          for (size_t j : selr) {
            const double x = sim(pool[r].item, pool[j].item);
            s = c.max_sim ? std::max(s, x) : s + x;
          }
          if (!selr.empty() && !c.max_sim) s /= selr.size();
          double g = (1 - lam) * (1 - cal) * rel[r] - lam * (s + c.gamma * popn[pool[r].item]) -
                     cal * dkl;
          if (c.xq > 0) g += lam * c.xq * xquad_term(r);
          if (c.cover > 0) g += lam * c.cover * cover_term(r);
          if (g > best) best = g, br = r;
        }
        if (br == SIZE_MAX) break;
        used[br] = true;
        selr.push_back(br);
        add_mass(pool[br].item);
        cover_add(br);
      }
      if (c.swaps) {
        const double scale = 2.0 / (K - 1);
        auto term = [&](size_t skip, size_t r) {
          double t = 0;
          for (size_t x = 0; x < selr.size(); ++x)
            if (x != skip) t += sim(pool[r].item, pool[selr[x]].item);
          return (1 - lam) * rel[r] - lam * (scale * t + c.gamma * popn[pool[r].item]);
        };
        for (int it = 0; it < 20; ++it) {
          double best = 1e-9;
          size_t bs = 0, br = 0;
          for (size_t x = c.keep; x < selr.size(); ++x) {
            const double out = term(x, selr[x]);
            for (size_t r = 0; r < n; ++r) {
              if (used[r]) continue;
              const double gain = term(x, r) - out;
              if (gain > best) best = gain, bs = x, br = r;
            }
          }
          if (best <= 1e-9) break;
          used[selr[bs]] = false;
          used[br] = true;
          selr[bs] = br;
        }
      }
    } else if (c.family == 2 || c.family == 3) {
      for (size_t t = selr.size(); t < K && t < n; ++t) {
        double best = -1e300;
        size_t br = SIZE_MAX;
        for (size_t r = 0; r < n; ++r) {
          if (used[r]) continue;
          const double div = c.family == 2 ? xquad_term(r) : cover_term(r);
          const double g = (1 - c.lam) * rel[r] + c.lam * (div - c.gamma * popn[pool[r].item]);
          if (g > best) best = g, br = r;
        }
        if (br == SIZE_MAX) break;
        used[br] = true;
        selr.push_back(br);
        cover_add(br);
      }
    } else {
      // Fast greedy MAP inference (Chen, Zhang, Zhou 2018, Algorithm 1).
      std::vector<double> q(n), d2(n);
      std::vector<std::vector<double>> cv(n);
      for (size_t r = 0; r < n; ++r) {
        q[r] = std::exp(c.lam * z[r] - c.gamma * popn[pool[r].item]);
        d2[r] = q[r] * q[r];
      }
      auto kern = [&](size_t a, size_t b) {
        const size_t o = size_t(pool[a].item) * N + pool[b].item;
        double s = (1 - c.alpha) * (c.jaccard_kernel ? jac[o] : gcos[o]) + c.alpha * ecos[o];
        s = (1 - c.beta) * s + (a == b ? c.beta : 0.0);
        return q[a] * q[b] * s;
      };
      size_t j = SIZE_MAX;
      for (size_t r = 0; r < n; ++r)
        if (!used[r] && (j == SIZE_MAX || d2[r] > d2[j])) j = r;
      while (j != SIZE_MAX && selr.size() < K) {
        used[j] = true;
        selr.push_back(j);
        const double dj = std::sqrt(d2[j]);
        size_t next = SIZE_MAX;
        for (size_t r = 0; r < n; ++r) {
          if (used[r]) continue;
          double dot = 0;
          for (size_t x = 0; x < cv[j].size(); ++x) dot += cv[j][x] * cv[r][x];
          const double e = (kern(j, r) - dot) / dj;
          cv[r].push_back(e);
          d2[r] -= e * e;
          if (next == SIZE_MAX || d2[r] > d2[next]) next = r;
        }
        if (next != SIZE_MAX && d2[next] < 1e-12) next = SIZE_MAX;  // kernel rank exhausted
        j = next;
      }
      for (size_t r = 0; r < n && selr.size() < K; ++r)  // fill by relevance
        if (std::find(selr.begin(), selr.end(), r) == selr.end()) selr.push_back(r);
    }
    std::sort(selr.begin(), selr.end());  // the chosen set in fused order
    if (c.order_by_rel)
      std::stable_sort(selr.begin(), selr.end(), [&](size_t a, size_t b) { return rel[a] > rel[b]; });
    std::vector<uint32_t> sel;
    for (size_t r : selr) sel.push_back(pool[r].item);
    return sel;
  };
  struct Result {
    double ndcg = 0, ild = 0, cov = 0;
  };
  auto measure = [&](const Cfg& c) {
    Result res;
    std::vector<bool> seen(N, false);
    size_t distinct = 0;
    for (size_t idx = 0; idx < pools.size(); ++idx) {
      const auto sel = select(idx, c);
      res.ndcg += eval::NdcgAtK(sel, split->test_items[split->test_users[idx]], K);
      res.ild += eval::IntraListDiversity(sel, cats);
      for (uint32_t i : sel)
        if (!seen[i]) seen[i] = true, ++distinct;
    }
    res.ndcg /= pools.size();
    res.ild /= pools.size();
    res.cov = double(distinct) / N;
    return res;
  };
  Cfg off;
  off.P = K;
  off.lam = 0;
  const Result base = measure(off);
  std::printf("base ndcg %.4f ild %.3f cov %.3f\n", base.ndcg, base.ild, base.cov);
  // Sweeps the trade-off knob (lam for MMR, -theta for the DPP: larger =
  // more diversity) and prints the most diverse point within -5% NDCG@10.
  auto sweep = [&](const char* name, Cfg c, const std::vector<double>& knob,
                   const Result* ref = nullptr) {
    const Result& base0 = ref ? *ref : base;
    if (only) {  // comma-separated substrings
      bool match = false;
      for (const char* p = only; *p;) {
        const char* e = std::strchr(p, ',');
        const std::string part(p, e ? size_t(e - p) : std::strlen(p));
        match = match || (!part.empty() && std::strstr(name, part.c_str()));
        p = e ? e + 1 : p + std::strlen(p);
      }
      if (!match) return;
    }
    Result best;
    double at = -1;
    int misses = 0;
    for (double v : knob) {
      c.lam = v;
      const Result r = measure(c);
      if (r.ndcg < 0.95 * base0.ndcg) {
        if (++misses >= 2) break;
        continue;
      }
      misses = 0;
      if (r.ild > best.ild) best = r, at = v;
    }
    std::printf("%-58s knob %5.2f ndcg %+5.1f%% ild %.3f (%+5.1f%%) cov %.3f%s\n", name, at,
                100 * (best.ndcg / base0.ndcg - 1), best.ild, 100 * (best.ild / base0.ild - 1),
                best.cov, (best.ild >= 1.2 * base0.ild && best.cov >= 0.4) ? "  <== BAR" : "");
    std::fflush(stdout);
  };
  std::vector<double> lams;
  for (double v = 0.05; v < 0.795; v += 0.05) lams.push_back(v);
  for (double v = 0.8; v < 0.985; v += 0.01) lams.push_back(v);
  std::vector<double> thetas;  // descending: more diversity
  for (double v = 4; v > 0.05; v *= 0.9) thetas.push_back(v);
  // The shipped stage (rerank::Rerank through RerankedEvaluation, as `recdb
  // eval --sweep diversity=...` runs it) on the same fitted model.
  {
    rerank::RerankedEvaluation shipped(fused, *split);
    for (double d : {0.0, 0.5, 0.8, 0.85, 0.9, 0.95}) {
      CareOptions care;
      care.diversity = d;
      const eval::EvalReport r = shipped.Evaluate(care);
      std::printf("shipped diversity %.2f ndcg %.4f (%+5.1f%%) ild %.3f (%+5.1f%%) cov %.3f\n", d,
                  r.ndcg, 100 * (r.ndcg / base.ndcg - 1), r.ild, 100 * (r.ild / base.ild - 1),
                  r.coverage);
    }
    std::fflush(stdout);
  }
  char name[128];
  {  // the logistic ceiling (above) against its own top 10
    Cfg c;
    c.rel_kind = 7, c.order_by_rel = true, c.P = 100, c.lam = 0;
    const Result b7 = measure(c);
    std::printf("logistic ceiling top10 ndcg %.4f (%+5.1f%% vs fused) ild %.3f cov %.3f\n", b7.ndcg,
                100 * (b7.ndcg / base.ndcg - 1), b7.ild, b7.cov);
    std::vector<double> fine;
    for (double v = 0.3; v < 0.985; v += 0.01) fine.push_back(v);
    for (double gamma : {0.0, 0.3}) {
      c.gamma = gamma;
      std::snprintf(name, sizeof name, "ceiling logistic P100 gamma%.1f (vs its own top 10)", gamma);
      sweep(name, c, fine, &b7);
      std::snprintf(name, sizeof name, "ceiling logistic P100 gamma%.1f (vs the fused top 10)",
                    gamma);
      sweep(name, c, fine);
    }
    // How much of the truth a model would need: relevance = the logistic
    // P(hit) + oracle x [test hit], against the same mixture's own top 10.
    for (double oracle : {0.02, 0.04, 0.06, 0.08, 0.1, 0.2, 0.3, 0.5}) {
      Cfg o = c;
      o.gamma = 0.3, o.oracle = oracle, o.lam = 0;
      const Result bo = measure(o);
      std::snprintf(name, sizeof name, "ceiling logistic + %.2f x hit (top10 ndcg %.3f)", oracle,
                    bo.ndcg);
      sweep(name, o, fine, &bo);
    }
  }
  // Earlier variants (the table in engine/rerank/README.md).
  for (int rk : {0, 1, 2, 3, 4}) {
    for (size_t P : {50, 100, 200}) {
      for (double gamma : {0.0, 0.3}) {
        Cfg c;
        c.rel_kind = rk, c.P = P, c.gamma = gamma;
        std::snprintf(name, sizeof name, "mmr rel%d P%zu gamma%.1f", rk, P, gamma);
        sweep(name, c, lams);
      }
    }
  }
  for (size_t P : {50, 100, 200}) {
    for (double gamma : {0.0, 0.1, 0.2, 0.3}) {
      Cfg c;
      c.swaps = true, c.P = P, c.gamma = gamma;
      std::snprintf(name, sizeof name, "mmr z swaps P%zu gamma%.1f", P, gamma);
      sweep(name, c, lams);
    }
  }
  for (size_t P : {150, 200, 300}) {
    for (double gamma : {0.2, 0.3, 0.4}) {
      Cfg c;
      c.P = P, c.gamma = gamma;
      std::snprintf(name, sizeof name, "mmr z pool P%zu gamma%.1f", P, gamma);
      sweep(name, c, lams);
    }
  }
  // (1) DPP over genre cosine (optionally blended with iALS cosine, softened).
  for (size_t P : {50, 100, 200}) {
    for (double gamma : {0.0, 0.5, 1.0}) {
      for (double alpha : {0.0, 0.3}) {
        for (double beta : {0.0, 0.1}) {
          Cfg c;
          c.family = 1, c.P = P, c.gamma = gamma, c.alpha = alpha, c.beta = beta;
          std::snprintf(name, sizeof name, "dpp P%zu gamma%.1f alpha%.1f beta%.1f", P, gamma, alpha,
                        beta);
          sweep(name, c, thetas);
        }
      }
    }
  }
  for (size_t P : {50, 100, 200}) {
    for (double gamma : {0.0, 0.5, 1.0}) {
      Cfg c;
      c.family = 1, c.P = P, c.gamma = gamma, c.jaccard_kernel = true;
      std::snprintf(name, sizeof name, "dpp jaccard kernel P%zu gamma%.1f", P, gamma);
      sweep(name, c, thetas);
    }
  }
  for (double gamma : {0.0, 0.3}) {
    Cfg c;
    c.max_sim = true, c.P = 100, c.gamma = gamma;
    std::snprintf(name, sizeof name, "mmr z max-sim P100 gamma%.1f", gamma);
    sweep(name, c, lams);
  }
  // (2) lambda per user from the flatness of the fused head; z units.
  for (int unit : {0, 1, 2}) {
    for (double flat : {0.0, -1.0, -0.5, 0.5, 1.0}) {
      if (unit != 0 && flat != 0) continue;
      Cfg c;
      c.unit = unit, c.flat = flat, c.P = 100, c.gamma = 0.3;
      std::snprintf(name, sizeof name, "mmr z unit%d flat%+.1f P100 gamma0.3", unit, flat);
      sweep(name, c, lams);
    }
  }
  for (int sig : {1, 2}) {
    for (double flat : {-1.0, -0.5, -0.25, 0.25, 0.5}) {
      Cfg c;
      c.signal = sig, c.flat = flat, c.P = 100, c.gamma = 0.3;
      std::snprintf(name, sizeof name, "mmr z level%d flat%+.2f P100 gamma0.3", sig, flat);
      sweep(name, c, lams);
    }
  }
  // (3) MMR over genres blended with the iALS factor space.
  for (double alpha : {0.2, 0.4}) {
    Cfg c;
    c.alpha = alpha, c.P = 100, c.gamma = 0.3;
    std::snprintf(name, sizeof name, "mmr z jaccard+%.1f ials P100 gamma0.3", alpha);
    sweep(name, c, lams);
  }
  // Ceiling: relevance = the test hit rate of the rank / z bucket.
  for (int rk : {5, 6}) {
    for (double gamma : {0.0, 0.3}) {
      Cfg c;
      c.rel_kind = rk, c.P = 100, c.gamma = gamma;
      std::snprintf(name, sizeof name, "ceiling rel%d (test hit rates) P100 gamma%.1f", rk, gamma);
      sweep(name, c, lams);
    }
  }
  // (5) relevance weighted by history length (more test items: a swap costs
  // more NDCG), and the fused top `keep` kept.
  for (double hist : {0.25, 0.5, 1.0}) {
    for (bool swaps : {false, true}) {
      Cfg c;
      c.hist = hist, c.swaps = swaps, c.P = 100, c.gamma = 0.3;
      std::snprintf(name, sizeof name, "mmr z hist^%.2f swaps%d P100 gamma0.3", hist, swaps);
      sweep(name, c, lams);
    }
  }
  for (size_t keep : {1, 2, 3}) {
    Cfg c;
    c.keep = keep, c.P = 100, c.gamma = 0.3;
    std::snprintf(name, sizeof name, "mmr z keep%zu P100 gamma0.3", keep);
    sweep(name, c, lams);
  }
  // (6) intent-aware diversification over genres: xQuAD / IA-Select with
  // the user's genre mix as aspect weights.
  for (int pig : {0, 1, 2}) {
    for (double smooth : {0.0, 0.5}) {
      for (double gamma : {0.0, 0.3}) {
        Cfg c;
        c.family = 2, c.pig = pig, c.smooth = smooth, c.gamma = gamma;
        std::snprintf(name, sizeof name, "xquad P(i|g)%d smooth%.1f->catalog gamma%.1f", pig,
                      smooth, gamma);
        sweep(name, c, lams);
      }
    }
  }
  for (double smooth : {0.5, 1.0}) {
    Cfg c;
    c.family = 2, c.pig = 1, c.smooth = smooth, c.uniform = true, c.gamma = 0.3;
    std::snprintf(name, sizeof name, "xquad P(i|g)1 smooth%.1f->uniform gamma0.3", smooth);
    sweep(name, c, lams);
  }
  for (int pig : {0, 1}) {
    for (double novel : {0.2, 0.5, 1.0}) {
      Cfg c;
      c.family = 2, c.pig = pig, c.smooth = 0.2, c.novel = novel, c.gamma = 0.3;
      std::snprintf(name, sizeof name, "xquad P(i|g)%d smooth0.2 novel-aspects%.1f gamma0.3", pig,
                    novel);
      sweep(name, c, lams);
    }
  }
  std::vector<double> lams_hi = lams;  // xQuAD's gain stops once the aspects are covered
  for (double v = 0.981; v < 1.0005; v += 0.001) lams_hi.push_back(v);
  for (int pig : {0, 1}) {
    for (double smooth : {0.0, 1.0}) {
      Cfg c;
      c.family = 2, c.pig = pig, c.smooth = smooth, c.uniform = smooth > 0, c.gamma = 0;
      std::snprintf(name, sizeof name, "xquad-hi P(i|g)%d smooth%.1f->uniform gamma0.0", pig,
                    smooth);
      sweep(name, c, lams_hi);
    }
  }
  // MMR (as shipped) plus the xQuAD term, personalised or uniform aspects.
  for (double xq : {0.25, 0.5, 1.0}) {
    for (double smooth : {0.0, 1.0}) {
      Cfg c;
      c.xq = xq, c.pig = 1, c.smooth = smooth, c.uniform = true, c.gamma = 0.3;
      std::snprintf(name, sizeof name, "mmr+xquad %.2f P(i|g)1 smooth%.1f->uniform z gamma0.3", xq,
                    smooth);
      sweep(name, c, lams);
    }
  }
  for (double xq : {2.0, 4.0}) {
    for (int pig : {1, 2}) {
      Cfg c;
      c.xq = xq, c.pig = pig, c.gamma = 0.3;
      std::snprintf(name, sizeof name, "mmr+xquad %.2f P(i|g)%d smooth0.0 z gamma0.3", xq, pig);
      sweep(name, c, lams);
    }
  }
  // The best hybrid and plain MMR on a finer grid (0.0025), so both are
  // compared right at the -5% line.
  std::vector<double> lams_fine;
  for (double v = 0.85; v < 0.96; v += 0.0025) lams_fine.push_back(v);
  for (double xq : {0.0, 1.0, 2.0}) {
    Cfg c;
    c.xq = xq, c.pig = 1, c.gamma = 0.3;
    std::snprintf(name, sizeof name, "fine mmr+xquad %.2f P(i|g)1 smooth0.0 z gamma0.3", xq);
    sweep(name, c, lams_fine);
  }
  // Stacked with the other small gains: pool 200, swap local search (on the
  // MMR objective) after the greedy.
  for (size_t P : {100, 200}) {
    for (bool swaps : {false, true}) {
      if (P == 100 && !swaps) continue;
      Cfg c;
      c.xq = 2, c.pig = 1, c.gamma = swaps ? 0.2 : 0.3, c.P = P, c.swaps = swaps;
      std::snprintf(name, sizeof name, "fine stacked mmr+xquad 2.00 P%zu swaps%d gamma%.1f", P,
                    swaps, c.gamma);
      sweep(name, c, swaps ? lams : lams_fine);
    }
  }
  for (double nov : {0.5}) {
    Cfg c;
    c.xq = 0.5, c.pig = 1, c.smooth = 0.2, c.novel = nov, c.gamma = 0.3;
    std::snprintf(name, sizeof name, "mmr+xquad 0.50 P(i|g)1 smooth0.2 novel-aspects%.1f gamma0.3",
                  nov);
    sweep(name, c, lams);
  }
  // MMR plus the coverage term.
  for (double cover : {0.25, 0.5, 1.0}) {
    Cfg c;
    c.cover = cover, c.kappa = 0.5, c.wpow = 1, c.gamma = 0.3;
    std::snprintf(name, sizeof name, "mmr+cover %.2f new-0.5*old /|G| z gamma0.3", cover);
    sweep(name, c, lams);
  }
  // (7) genre-coverage greedy: new genres per genre of the item.
  for (double kappa : {0.0, 0.5, 1.0}) {
    for (double wpow : {0.0, 1.0}) {
      for (double gamma : {0.0, 0.3}) {
        Cfg c;
        c.family = 3, c.kappa = kappa, c.wpow = wpow, c.gamma = gamma;
        std::snprintf(name, sizeof name, "cover new-%.1f*old /|G|^%.0f gamma%.1f", kappa, wpow,
                      gamma);
        sweep(name, c, lams);
      }
    }
  }
  // (8) calibration composed with MMR: one objective, or calibration first.
  for (double cal : {0.05, 0.1, 0.2, 0.3, 0.5}) {
    Cfg c;
    c.cal = cal, c.gamma = 0.3;
    std::snprintf(name, sizeof name, "mmr+cal %.2f z P100 gamma0.3", cal);
    sweep(name, c, lams);
  }
  for (double cal : {0.2, 0.5, 0.8}) {
    for (size_t m : {20, 30, 50}) {
      Cfg c;
      c.cal = cal, c.cal_first = m, c.gamma = 0.3;
      std::snprintf(name, sizeof name, "calfirst %.1f keeps %zu, then mmr z gamma0.3", cal, m);
      sweep(name, c, lams);
    }
  }
  // Which items raise the pairwise Jaccard distance: genre counts of the
  // catalog, of the fused top 10 and of the shipped-like MMR at 0.9, and the
  // mean distance of an item with |G| genres to the rest of its pool.
  if (!only || std::strstr(only, "genres")) {
    Cfg mmr;
    mmr.lam = 0.9;
    double dist_by[4] = {0, 0, 0, 0}, n_by[4] = {0, 0, 0, 0}, g_top = 0, g_mmr = 0, g_cat = 0;
    for (uint32_t i = 0; i < N; ++i) g_cat += cats[i].size();
    for (size_t idx = 0; idx < pools.size(); ++idx) {
      const auto& pool = pools[idx];
      for (size_t r = 0; r < K; ++r) g_top += cats[pool[r].item].size();
      for (uint32_t i : select(idx, mmr)) g_mmr += cats[i].size();
      for (size_t a = 0; a < 100; ++a) {
        const size_t b = std::min<size_t>(3, cats[pool[a].item].size());
        for (size_t x = 0; x < 100; ++x)
          if (x != a) dist_by[b] += 1 - jac[size_t(pool[a].item) * N + pool[x].item], n_by[b] += 1;
      }
    }
    std::printf(
        "mean |G|: catalog %.2f fused top10 %.2f mmr0.9 %.2f; "
        "mean distance to the pool by |G| 1/2/3+: %.3f %.3f %.3f\n",
        g_cat / N, g_top / (K * pools.size()), g_mmr / (K * pools.size()), dist_by[1] / n_by[1],
        dist_by[2] / n_by[2], dist_by[3] / n_by[3]);
  }
  // (4) larger pools with a relevance floor (z over the pool).
  for (size_t P : {200}) {
    for (double fl : {-1.0, -1.5, -2.0, -3.0}) {
      Cfg c;
      c.P = P, c.floor = fl, c.gamma = 0.3;
      std::snprintf(name, sizeof name, "mmr z P%zu floor z>=%.1f gamma0.3", P, fl);
      sweep(name, c, lams);
    }
  }
  return 0;
}

int BenchCareVariantsMain(int argc, char** argv) {
  Flags f("care-variants");
  f.args().AddFlag("data", "DIR", "the ml-100k directory", "../shared/data/ml-100k");
  f.args().AddFlag("only", "NAME,NAME", "run only the variants whose names contain these");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const std::string only = f.Str("only");
  return DiversityVariants(f.Str("data"), only.empty() ? nullptr : only.c_str());
}

int BenchContextVariantsMain(int argc, char** argv) {
  Flags f("context-variants");
  f.args().AddFlag("data", "DIR", "the ml-100k directory", "../shared/data/ml-100k");
  if (!f.Parse(argc, argv)) return f.exit_code();
  return ContextVariants(f.Str("data"));
}

}  // namespace

RECDB_REGISTER_BENCH("care-variants", BenchCareVariantsMain,
                     "variants of the diversity re-ranker on ml-100k (engine/rerank/README.md)");
RECDB_REGISTER_BENCH("context-variants", BenchContextVariantsMain,
                     "fused blend with/without context features on ml-100k (engine/models/README.md)");

}  // namespace recdb::bench
