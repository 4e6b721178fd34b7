// Two-stage serving of the fused blend (engine/models/fused.h, issue #17
// item 5): on a small synthetic catalog the two-stage path must give the
// exhaustive path's candidates, normalisation and top-10.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "engine/eval/evaluator.h"
#include "engine/eval/split.h"
#include "engine/models/candidates.h"
#include "engine/models/fused.h"
#include "engine/models/ials.h"
#include "engine/models/item_knn.h"
#include "models_test_data.h"

namespace recdb::models {
namespace {

// `users` users with 3..30 events each over `items` items with a skewed
// (Zipf-like) popularity and two taste clusters, so that every component
// has signal and short histories leave the neighbour lists short.
Dataset SkewedWorld(uint32_t users, uint32_t items, uint64_t seed = 11) {
  std::mt19937_64 rng(seed);
  DatasetSpec spec;
  spec.num_users = users;
  spec.num_items = items;
  std::vector<double> w(items);
  for (uint32_t i = 0; i < items; ++i) w[i] = 1.0 / (1.0 + i);
  std::discrete_distribution<uint32_t> pop(w.begin(), w.end());
  for (uint32_t u = 0; u < users; ++u) {
    const uint32_t n = 3 + static_cast<uint32_t>(rng() % 28);
    for (uint32_t e = 0; e < n; ++e) {
      uint32_t item = pop(rng);
      if (rng() % 2) item = (item / 2) * 2 + u % 2;  // cluster taste
      if (item >= items) item = items - 1;
      spec.interactions.push_back({u, item, static_cast<int64_t>(100000 + 1000 * u + 10 * e), 1.0f});
    }
  }
  auto d = Dataset::Build(std::move(spec));
  return std::move(d).value();
}

class TwoStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = std::make_unique<Dataset>(SkewedWorld(400, 700));
    auto comps = Components();
    // Unequal weights, so that a wrong z of any component shows.
    for (size_t j = 0; j < comps.size(); ++j) comps[j].weight = 0.25 + 0.3 * static_cast<double>(j % 4);
    fused_ = std::make_unique<Fused>(std::move(comps), Options(Retrieval::kExhaustive));
    ASSERT_TRUE(fused_->Fit(*data_).ok());
    ASSERT_FALSE(fused_->two_stage());
  }

  // The blend of every test: every default component, small and single-threaded.
  std::vector<Fused::Component> Components() const {
    ComponentConfig config;
    config.threads = 1;
    config.min_pair_users = 1;
    config.ials_iterations = 6;
    // A beam of 256 on 700 items: the HNSW search all but exact, so that the
    // candidate sets compare with the exhaustive ones item for item; the
    // default beam (128) is IalsNominatesAtMostItsRetrievalCandidates'.
    config.ials_retrieval_ef_search = 256;
    return DefaultFusedComponents(data_->num_items(), config, /*context_popularity=*/true);
  }
  static FusedOptions Options(Retrieval retrieval) {
    FusedOptions o;
    o.learn_weights = false;
    o.threads = 1;
    o.candidates_per_model = 40;  // well below the catalog: nomination matters
    o.retrieval = retrieval;
    return o;
  }

  // The queries served: every known user with their training history, and
  // unknown users with one- and two-item histories (fold-in, short lists).
  std::vector<std::vector<uint32_t>> Histories(std::vector<uint32_t>* users) const {
    std::vector<std::vector<uint32_t>> h;
    for (uint32_t u = 0; u < data_->num_users(); ++u) {
      auto items = data_->UserItems(u);
      h.emplace_back(items.begin(), items.end());
      users->push_back(u);
    }
    for (uint32_t i = 0; i < 60; ++i) {
      h.push_back({i * 7 % data_->num_items()});
      users->push_back(kUnknownUser);
      h.push_back({i * 11 % data_->num_items(), i * 13 % data_->num_items()});
      users->push_back(kUnknownUser);
    }
    return h;
  }

  // The fitted blend's component called `name`; null if it has none.
  const Recommender* Component(std::string_view name) const {
    for (size_t j = 0; j < fused_->num_components(); ++j) {
      if (fused_->component_name(j) == name) return &fused_->component(j);
    }
    return nullptr;
  }

  std::unique_ptr<Dataset> data_;
  std::unique_ptr<Fused> fused_;
};

// The top-10 (item, score) lists `f` serves to `histories` (each served to
// users[q], excluding its own items).
std::vector<std::vector<std::pair<uint32_t, float>>> TopTenLists(
    const Fused& f, const std::vector<std::vector<uint32_t>>& histories,
    const std::vector<uint32_t>& users) {
  std::vector<std::vector<std::pair<uint32_t, float>>> all;
  for (size_t q = 0; q < histories.size(); ++q) {
    std::vector<uint32_t> exclude = histories[q];
    std::sort(exclude.begin(), exclude.end());
    exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());
    all.emplace_back();
    for (const auto& e :
         f.RecommendExplained(testdata::Query(histories[q], users[q]), 10, exclude, nullptr)) {
      all.back().emplace_back(e.item, e.score);
    }
  }
  return all;
}

// How many of `histories` (served to `users`) get the same top-10 items
// from `f` two-stage as from `f` exhaustive; leaves `f` two-stage.
size_t SameTopTenAsExhaustive(Fused& f, const std::vector<std::vector<uint32_t>>& histories,
                              const std::vector<uint32_t>& users) {
  f.SetRetrieval(Retrieval::kExhaustive);
  const auto want = TopTenLists(f, histories, users);
  f.SetRetrieval(Retrieval::kTwoStage);
  const auto got = TopTenLists(f, histories, users);
  size_t same = 0;
  for (size_t q = 0; q < want.size(); ++q) {
    bool equal = !want[q].empty() && got[q].size() == want[q].size();
    for (size_t r = 0; equal && r < want[q].size(); ++r) equal = got[q][r].first == want[q][r].first;
    same += equal;
  }
  return same;
}

TEST_F(TwoStageTest, SameTopTenCandidatesAndNormalisationAsExhaustive) {
  std::vector<uint32_t> users;
  const auto histories = Histories(&users);
  std::vector<std::vector<Fused::Explained>> oracle(histories.size());
  std::vector<Fused::Normalisation> oracle_norm(histories.size());
  std::vector<std::vector<ScoredItem>> oracle_score(histories.size());
  // Fused::Score: the blended score of every candidate, -inf elsewhere, so
  // it shows the whole candidate set, not only the top-10.
  std::vector<std::vector<float>> oracle_full(histories.size());
  for (size_t q = 0; q < histories.size(); ++q) {
    std::vector<uint32_t> exclude = histories[q];
    std::sort(exclude.begin(), exclude.end());
    exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());
    UserQuery query = testdata::Query(histories[q], users[q]);
    oracle[q] = fused_->RecommendExplained(query, 10, exclude, nullptr, {}, &oracle_norm[q]);
    oracle_score[q] = Recommend(*fused_, query, 10, {}, data_->item_rank());
    oracle_full[q].resize(data_->num_items());
    fused_->Score(query, oracle_full[q]);
  }
  fused_->SetRetrieval(Retrieval::kTwoStage);
  ASSERT_TRUE(fused_->two_stage());
  size_t identical = 0, identical_score = 0, same_candidates = 0;
  std::vector<float> full(data_->num_items());
  for (size_t q = 0; q < histories.size(); ++q) {
    std::vector<uint32_t> exclude = histories[q];
    std::sort(exclude.begin(), exclude.end());
    exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());
    UserQuery query = testdata::Query(histories[q], users[q]);
    Fused::Normalisation norm;
    auto got = fused_->RecommendExplained(query, 10, exclude, nullptr, {}, &norm);
    ASSERT_EQ(norm.mean.size(), oracle_norm[q].mean.size());
    for (size_t j = 0; j < norm.mean.size(); ++j) {
      // Exact whole-catalog statistics (iALS's come from its Gramian: equal
      // up to rounding).
      EXPECT_NEAR(norm.mean[j], oracle_norm[q].mean[j], 1e-5 + 1e-4 * std::fabs(oracle_norm[q].mean[j]))
          << fused_->component_name(j) << " query " << q;
      EXPECT_NEAR(norm.inv_std[j], oracle_norm[q].inv_std[j], 1e-4 * std::fabs(oracle_norm[q].inv_std[j]))
          << fused_->component_name(j) << " query " << q;
    }
    bool same = got.size() == oracle[q].size();
    for (size_t r = 0; same && r < got.size(); ++r) {
      same = got[r].item == oracle[q][r].item &&
             std::fabs(got[r].score - oracle[q][r].score) < 1e-3f;
    }
    identical += same;
    auto scored = Recommend(*fused_, query, 10, {}, data_->item_rank());
    bool same_score = scored.size() == oracle_score[q].size();
    for (size_t r = 0; same_score && r < scored.size(); ++r) {
      same_score = scored[r].item == oracle_score[q][r].item;
    }
    identical_score += same_score;
    fused_->Score(query, full);
    bool same_set = true;
    for (uint32_t i = 0; i < full.size(); ++i) {
      const bool a = std::isfinite(full[i]), b = std::isfinite(oracle_full[q][i]);
      same_set = same_set && a == b && (!a || std::fabs(full[i] - oracle_full[q][i]) < 1e-3f);
    }
    same_candidates += same_set;
  }
  EXPECT_GE(same_candidates, histories.size() * 99 / 100)
      << same_candidates << " of " << histories.size() << " candidate sets identical";
  // On 700 items the HNSW search is all but exact; a rare flip of two
  // near-tied items (rounding of the iALS moments) is allowed.
  EXPECT_GE(identical, histories.size() * 99 / 100) << identical << " of " << histories.size();
  EXPECT_GE(identical_score, histories.size() * 99 / 100);
}

// What the two-stage path computes for a sparse component, from its listed
// entries (SparseScore) in the plainest way: each item's entries summed in
// list order, the moments over the listed live items in first-entry order,
// the pool of listed live items plus the best-ranked live unlisted ones
// sorted in full. The path sums into dense rows (SparseAccumulate) and
// selects with a bounded heap; it must give these numbers bit for bit.
struct SparseOracle {
  std::vector<uint32_t> nominees;  // sorted
  double mean = 0, inv_std = 0;
  std::unordered_map<uint32_t, float> sum;  // listed items
  float z(uint32_t item) const {
    auto it = sum.find(item);
    const float s = it == sum.end() ? 0.0f : it->second;
    return std::isfinite(s) ? static_cast<float>((s - mean) * inv_std) : -10.0f;
  }
};

SparseOracle OracleOfEntries(const Recommender& model, const UserQuery& query,
                             const std::vector<uint32_t>& exclude, size_t per_model,
                             std::span<const uint32_t> item_rank) {
  const uint32_t n = static_cast<uint32_t>(item_rank.size());
  std::vector<ScoredItem> entries;
  EXPECT_TRUE(model.SparseScore(query, &entries));
  SparseOracle o;
  std::vector<uint32_t> order;  // first-entry order
  for (const ScoredItem& e : entries) {
    if (e.item >= n) continue;
    auto [it, fresh] = o.sum.emplace(e.item, 0.0f);
    if (fresh) order.push_back(e.item);
    it->second += e.score;
  }
  auto excluded = [&](uint32_t i) { return std::binary_search(exclude.begin(), exclude.end(), i); };
  double sum = 0, sq = 0, cnt = n - static_cast<double>(exclude.size());
  for (uint32_t i : order) {
    if (excluded(i)) continue;
    const float v = o.sum[i];
    if (!std::isfinite(v)) {
      cnt -= 1;
      continue;
    }
    sum += v, sq += static_cast<double>(v) * v;
  }
  o.mean = cnt > 0 ? sum / cnt : 0.0;
  const double var = cnt > 0 ? std::max(0.0, sq / cnt - o.mean * o.mean) : 0.0;
  o.inv_std = var > 0 ? 1.0 / std::sqrt(var) : 0.0;
  std::vector<ScoredItem> pool;
  for (uint32_t i = 0; i < n; ++i) {
    if (!excluded(i)) pool.push_back({i, o.z(i)});
  }
  std::sort(pool.begin(), pool.end(), [&](const ScoredItem& a, const ScoredItem& b) {
    return a.score != b.score ? a.score > b.score : item_rank[a.item] < item_rank[b.item];
  });
  for (size_t r = 0; r < std::min(per_model, pool.size()); ++r) o.nominees.push_back(pool[r].item);
  std::sort(o.nominees.begin(), o.nominees.end());
  return o;
}

// The sparse components (itemknn, recentknn1/5/20, cooc_directed and
// cooc_symmetric) through TwoStageScoreCandidates against OracleOfEntries:
// the same nominees, moments and z, exactly; on a fresh thread (its scratch
// sized by the first request) and again on this one, twice (reused scratch).
TEST_F(TwoStageTest, SparseComponentsServeExactlyTheSumsOfTheirListedEntries) {
  std::vector<const Recommender*> sparse;
  for (size_t j = 0; j < fused_->num_components(); ++j) {
    std::vector<ScoredItem> probe;
    if (fused_->component(j).SparseScore(testdata::Query(std::vector<uint32_t>{0}), &probe)) {
      sparse.push_back(&fused_->component(j));
    }
  }
  ASSERT_EQ(sparse.size(), 6u);
  const auto& rank = data_->item_rank();
  std::vector<uint32_t> by_rank(rank.size());
  for (uint32_t i = 0; i < by_rank.size(); ++i) by_rank[i] = i;
  std::sort(by_rank.begin(), by_rank.end(), [&](uint32_t a, uint32_t b) { return rank[a] < rank[b]; });
  std::vector<uint32_t> users;
  const auto histories = Histories(&users);
  size_t nominees_checked = 0;
  auto check_all = [&] {
    for (size_t q = 0; q < histories.size(); ++q) {
      std::vector<uint32_t> exclude = histories[q];
      std::sort(exclude.begin(), exclude.end());
      exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());
      if (q % 3 == 0) exclude.clear();  // the listed items themselves nominated too
      const UserQuery query = testdata::Query(histories[q], users[q]);
      const size_t per_model = q % 5 == 0 ? 3 : 40;
      const CandidateScores got = TwoStageScoreCandidates(sparse, query, exclude, per_model, rank, by_rank);
      const size_t m = sparse.size();
      std::vector<uint32_t> want_items;
      for (size_t j = 0; j < m; ++j) {
        const SparseOracle o = OracleOfEntries(*sparse[j], query, exclude, per_model, rank);
        ASSERT_EQ(got.mean[j], o.mean) << "query " << q << " component " << j;
        ASSERT_EQ(got.inv_std[j], o.inv_std) << "query " << q << " component " << j;
        for (size_t r = 0; r < got.items.size(); ++r) {
          ASSERT_EQ(got.z[r * m + j], o.z(got.items[r])) << "query " << q << " component " << j;
        }
        want_items.insert(want_items.end(), o.nominees.begin(), o.nominees.end());
        nominees_checked += o.nominees.size();
      }
      std::sort(want_items.begin(), want_items.end());
      want_items.erase(std::unique(want_items.begin(), want_items.end()), want_items.end());
      std::vector<uint32_t> got_items = got.items;
      std::sort(got_items.begin(), got_items.end());
      ASSERT_EQ(got_items, want_items) << "query " << q;
      ASSERT_EQ(got.items.size(), want_items.size()) << "query " << q << ": a candidate twice";
    }
  };
  std::thread fresh(check_all);
  fresh.join();
  check_all();
  check_all();
  EXPECT_GT(nominees_checked, 1000u);
}

TEST_F(TwoStageTest, ScoreItemsEqualsScoreForEveryComponent) {
  fused_->SetRetrieval(Retrieval::kTwoStage);  // prepares iALS's index and moments
  std::vector<uint32_t> users;
  const auto histories = Histories(&users);
  std::vector<uint32_t> items = {0, 3, 5, 17, 42, 99, 100, 250, 699, 3};  // a repeat too
  for (size_t q = 0; q < histories.size(); q += 37) {
    UserQuery query = testdata::Query(histories[q], users[q]);
    for (size_t j = 0; j < fused_->num_components(); ++j) {
      const Recommender& c = fused_->component(j);
      std::vector<float> all(c.num_items()), some(items.size());
      c.Score(query, all);
      c.ScoreItems(query, items, some);
      for (size_t r = 0; r < items.size(); ++r) {
        EXPECT_NEAR(some[r], all[items[r]], 1e-5f + 1e-5f * std::fabs(all[items[r]]))
            << fused_->component_name(j) << " item " << items[r];
      }
      double sum = 0, sq = 0;
      std::vector<uint32_t> exclude = histories[q];
      std::sort(exclude.begin(), exclude.end());
      exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());
      if (c.ScoreMoments(query, exclude, &sum, &sq)) {
        double want = 0, want_sq = 0;
        for (uint32_t i = 0; i < all.size(); ++i) {
          if (std::binary_search(exclude.begin(), exclude.end(), i)) continue;
          want += all[i], want_sq += static_cast<double>(all[i]) * all[i];
        }
        EXPECT_NEAR(sum, want, 1e-4 * (1 + std::fabs(want))) << fused_->component_name(j);
        EXPECT_NEAR(sq, want_sq, 1e-4 * (1 + want_sq)) << fused_->component_name(j);
      }
    }
  }
}

TEST_F(TwoStageTest, IalsRetrievesItsTopItemsAndSkipsExcluded) {
  fused_->SetRetrieval(Retrieval::kTwoStage);
  const Recommender* ials = Component("ials");
  ASSERT_NE(ials, nullptr);
  size_t hits = 0, total = 0;
  for (uint32_t u = 0; u < data_->num_users(); u += 5) {
    auto hist = data_->UserItems(u);
    std::vector<uint32_t> exclude(hist.begin(), hist.end());
    UserQuery query = testdata::Query(hist, u);
    std::vector<uint32_t> got;
    ASSERT_TRUE(ials->Retrieve(query, 50, exclude, &got));
    ASSERT_EQ(got.size(), 50u);
    for (uint32_t i : got) EXPECT_FALSE(std::binary_search(exclude.begin(), exclude.end(), i));
    auto want = Recommend(*ials, query, 50, exclude, data_->item_rank());
    std::sort(got.begin(), got.end());
    for (const ScoredItem& s : want) hits += std::binary_search(got.begin(), got.end(), s.item);
    total += want.size();
  }
  EXPECT_GE(static_cast<double>(hits), 0.98 * static_cast<double>(total));
}

// The blend asks iALS for candidates_per_model nominees (200); Retrieve
// answers at most IalsOptions::retrieval_candidates of them (default 100,
// the cheaper search of docs/BENCHMARKS.md), still its best ones, none
// excluded.
TEST_F(TwoStageTest, IalsNominatesAtMostItsRetrievalCandidates) {
  fused_->SetRetrieval(Retrieval::kTwoStage);
  const Recommender* ials = Component("ials");
  ASSERT_NE(ials, nullptr);
  const size_t cap = IalsOptions{}.retrieval_candidates;
  ASSERT_EQ(cap, 100u);
  size_t hits = 0, total = 0;
  for (uint32_t u = 0; u < data_->num_users(); u += 7) {
    auto hist = data_->UserItems(u);
    std::vector<uint32_t> exclude(hist.begin(), hist.end());
    UserQuery query = testdata::Query(hist, u);
    std::vector<uint32_t> got;
    ASSERT_TRUE(ials->Retrieve(query, 200, exclude, &got));
    ASSERT_EQ(got.size(), cap);
    for (uint32_t i : got) EXPECT_FALSE(std::binary_search(exclude.begin(), exclude.end(), i));
    auto want = Recommend(*ials, query, cap, exclude, data_->item_rank());
    std::sort(got.begin(), got.end());
    for (const ScoredItem& s : want) hits += std::binary_search(got.begin(), got.end(), s.item);
    total += want.size();
  }
  EXPECT_GE(static_cast<double>(hits), 0.98 * static_cast<double>(total));
  // The default search (beam 128, 100 nominees) in the same blend: iALS's
  // nominees still hold >= 95% of its exact top-100 and the blend's top-10
  // is the exhaustive one for >= 99% of the queries.
  ComponentConfig config;
  config.threads = 1;
  config.min_pair_users = 1;
  config.ials_iterations = 6;
  auto comps = DefaultFusedComponents(data_->num_items(), config, /*context_popularity=*/true);
  for (size_t j = 0; j < comps.size(); ++j) comps[j].weight = 0.25 + 0.3 * static_cast<double>(j % 4);
  Fused defaults(std::move(comps), Options(Retrieval::kExhaustive));
  ASSERT_TRUE(defaults.Fit(*data_).ok());
  std::vector<uint32_t> users;
  const auto histories = Histories(&users);
  const size_t same = SameTopTenAsExhaustive(defaults, histories, users);
  EXPECT_GE(same, histories.size() * 99 / 100) << same << " of " << histories.size();
  hits = 0, total = 0;
  for (size_t j = 0; j < defaults.num_components(); ++j) {
    if (defaults.component_name(j) != "ials") continue;
    const Recommender& c = defaults.component(j);
    for (uint32_t u = 0; u < data_->num_users(); u += 7) {
      auto hist = data_->UserItems(u);
      std::vector<uint32_t> exclude(hist.begin(), hist.end());
      UserQuery query = testdata::Query(hist, u);
      std::vector<uint32_t> got;
      ASSERT_TRUE(c.Retrieve(query, 200, exclude, &got));
      auto want = Recommend(c, query, cap, exclude, data_->item_rank());
      std::sort(got.begin(), got.end());
      for (const ScoredItem& s : want) hits += std::binary_search(got.begin(), got.end(), s.item);
      total += want.size();
    }
  }
  ASSERT_GT(total, 0u);
  EXPECT_GE(static_cast<double>(hits), 0.95 * static_cast<double>(total));
}

// At Load the index and the moments are left as work for the caller's
// Scheduler (Open must not wait for them): until that work runs, Retrieve
// and ScoreMoments answer false (the blend then scores iALS in full); after,
// they answer exactly as a synchronous build does. Work that runs after a
// stop request, a refit or the model's destruction does nothing.
TEST_F(TwoStageTest, DeferredRetrievalIsBuiltOnlyWhenItsWorkRuns) {
  IalsOptions o;
  o.threads = 1;
  o.iterations = 6;
  auto ials = std::make_shared<Ials>(o);
  ASSERT_TRUE(ials->Fit(*data_).ok());
  const auto hist = data_->UserItems(3);
  const std::vector<uint32_t> exclude(hist.begin(), hist.end());
  const UserQuery query = testdata::Query(hist, 3);
  EXPECT_FALSE(ials->PrepareRetrieval(data_->item_rank(), /*may_defer=*/false));
  ASSERT_TRUE(ials->retrieval_ready());
  std::vector<uint32_t> want;
  ASSERT_TRUE(ials->Retrieve(query, 30, exclude, &want));
  double sum = 0, sq = 0;
  ASSERT_TRUE(ials->ScoreMoments(query, exclude, &sum, &sq));

  auto work = ials->PrepareRetrieval(data_->item_rank(), /*may_defer=*/true);
  ASSERT_TRUE(work);
  EXPECT_FALSE(ials->retrieval_ready());
  std::vector<uint32_t> none;
  double unused = 0;
  EXPECT_FALSE(ials->Retrieve(query, 30, exclude, &none));
  EXPECT_FALSE(ials->ScoreMoments(query, exclude, &unused, &unused));
  const std::atomic<bool> go{false};
  work(go);
  ASSERT_TRUE(ials->retrieval_ready());
  EXPECT_GT(ials->retrieval_build_seconds(), 0.0);
  std::vector<uint32_t> got;
  ASSERT_TRUE(ials->Retrieve(query, 30, exclude, &got));
  EXPECT_EQ(got, want);  // same insertion order and seed: the same graph
  double sum2 = 0, sq2 = 0;
  ASSERT_TRUE(ials->ScoreMoments(query, exclude, &sum2, &sq2));
  EXPECT_EQ(sum2, sum);
  EXPECT_EQ(sq2, sq);
  work(go);  // runs once
  EXPECT_TRUE(ials->retrieval_ready());

  // The caller's stop request: the work gives up and publishes nothing.
  work = ials->PrepareRetrieval(data_->item_rank(), /*may_defer=*/true);
  const std::atomic<bool> stop{true};
  work(stop);
  EXPECT_FALSE(ials->retrieval_ready());

  // Refitted before its work ran: the work does nothing (it would publish
  // an index over the replaced factors).
  work = ials->PrepareRetrieval(data_->item_rank(), /*may_defer=*/true);
  ASSERT_TRUE(ials->Fit(*data_).ok());
  work(go);
  EXPECT_FALSE(ials->retrieval_ready());

  // Destroyed before its work ran: the work does nothing (under
  // scripts/test.sh --asan a touch of the freed model fails the test).
  work = ials->PrepareRetrieval(data_->item_rank(), /*may_defer=*/true);
  ials.reset();
  work(go);
}

// A blend loaded for two-stage serving leaves the iALS build to its caller
// (TakeDeferredWork, once) and serves the same lists before and after it runs.
TEST_F(TwoStageTest, ALoadedBlendServesTheSameBeforeAndAfterItsDeferredWork) {
  ModelWriter out;
  ASSERT_TRUE(fused_->Save(out).ok());
  Fused loaded(Components(), Options(Retrieval::kTwoStage));
  ModelReader in(out.bytes(), "test");
  ASSERT_TRUE(loaded.Load(in).ok());
  ASSERT_TRUE(loaded.two_stage());
  std::vector<Recommender::DeferredWork> work = loaded.TakeDeferredWork();
  ASSERT_EQ(work.size(), 1u);  // iALS's
  EXPECT_TRUE(loaded.TakeDeferredWork().empty());
  std::vector<uint32_t> users;
  const auto histories = Histories(&users);
  auto lists = [&] {
    std::vector<std::vector<Fused::Explained>> all;
    for (size_t q = 0; q < histories.size(); ++q) {
      std::vector<uint32_t> exclude = histories[q];
      std::sort(exclude.begin(), exclude.end());
      exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());
      all.push_back(
          loaded.RecommendExplained(testdata::Query(histories[q], users[q]), 10, exclude, nullptr));
    }
    return all;
  };
  const auto before = lists();  // iALS scored in full
  const std::atomic<bool> go{false};
  for (auto& w : work) w(go);
  const auto after = lists();  // iALS through its index
  size_t identical = 0;
  for (size_t q = 0; q < before.size(); ++q) {
    bool same = before[q].size() == after[q].size();
    for (size_t r = 0; same && r < before[q].size(); ++r) same = before[q][r].item == after[q][r].item;
    identical += same;
  }
  // As exhaustive against two-stage above: a rare near-tie may flip.
  EXPECT_GE(identical, before.size() * 99 / 100) << identical << " of " << before.size();
}

// The two-stage state stored beside a model (Fused::SaveRetrieval; at a DB
// the file DIR/derived/fused.retrieval) is adopted by a load of the same
// fit: nothing is left to build, and the loaded blend serves exactly what
// the trained one served. Damaged or another fit's state is not adopted:
// the build is left as deferred work, as without any.
TEST_F(TwoStageTest, ALoadedBlendAdoptsItsStoredRetrievalState) {
  fused_->SetRetrieval(Retrieval::kTwoStage);  // builds the iALS index now
  ModelWriter out, stored;
  ASSERT_TRUE(fused_->Save(out).ok());
  ASSERT_TRUE(fused_->SaveRetrieval(stored));
  std::vector<uint32_t> users;
  const auto histories = Histories(&users);
  auto lists = [&](const Fused& f) { return TopTenLists(f, histories, users); };
  const auto trained = lists(*fused_);

  Fused loaded(Components(), Options(Retrieval::kTwoStage));
  ModelReader in(out.bytes(), "test"), retrieval(stored.bytes(), "retrieval");
  size_t adopted = 0;
  ASSERT_TRUE(loaded.LoadWithRetrieval(in, retrieval, &adopted).ok());
  EXPECT_EQ(adopted, 2u);  // iALS's index and trending's table summaries
  EXPECT_TRUE(retrieval.Finish().ok()) << retrieval.Finish().ToString();
  EXPECT_TRUE(loaded.TakeDeferredWork().empty()) << "complete at once";
  ASSERT_TRUE(loaded.two_stage());
  EXPECT_EQ(lists(loaded), trained) << "the same index: the same lists and scores";

  // Truncated (damaged) state, cut inside iALS's record (its index is most
  // of the bytes): not adopted, built later as without it.
  {
    const std::string cut = stored.bytes().substr(0, stored.bytes().size() / 2);
    Fused other(Components(), Options(Retrieval::kTwoStage));
    ModelReader in2(out.bytes(), "test"), damaged(cut, "retrieval");
    ASSERT_TRUE(other.LoadWithRetrieval(in2, damaged, &adopted).ok());
    EXPECT_EQ(adopted, 0u);
    EXPECT_FALSE(damaged.ok());
    EXPECT_EQ(other.TakeDeferredWork().size(), 1u);
  }
  // Another fit's state (other events: other item factors): read, checked
  // against this fit's item factors, not adopted.
  {
    const Dataset other_data = SkewedWorld(400, 700, /*seed=*/12);
    Fused other_fit(Components(), Options(Retrieval::kTwoStage));
    ASSERT_TRUE(other_fit.Fit(other_data).ok());
    ModelWriter foreign;
    ASSERT_TRUE(other_fit.SaveRetrieval(foreign));
    Fused other(Components(), Options(Retrieval::kTwoStage));
    ModelReader in3(out.bytes(), "test"), mismatched(foreign.bytes(), "retrieval");
    ASSERT_TRUE(other.LoadWithRetrieval(in3, mismatched, &adopted).ok());
    EXPECT_EQ(adopted, 0u);
    EXPECT_TRUE(mismatched.ok()) << "well-formed, only not this fit's";
    EXPECT_EQ(other.TakeDeferredWork().size(), 1u);
  }
}

// Forwards to a real component and counts its full scorings (Score: every
// item), so a test sees which path the blend took.
class CountingFullScores final : public Recommender {
 public:
  CountingFullScores(std::unique_ptr<Recommender> inner, std::atomic<int>* full)
      : inner_(std::move(inner)), full_(full) {}
  std::string_view Name() const override { return inner_->Name(); }
  Status Fit(const Dataset& data) override { return inner_->Fit(data); }
  uint32_t num_items() const override { return inner_->num_items(); }
  void Score(const UserQuery& query, std::span<float> scores) const override {
    full_->fetch_add(1);
    inner_->Score(query, scores);
  }
  void ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                  std::span<float> out) const override {
    inner_->ScoreItems(query, items, out);
  }
  bool SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const override {
    return inner_->SparseScore(query, entries);
  }
  bool Retrieve(const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
                std::vector<uint32_t>* out) const override {
    return inner_->Retrieve(query, k, exclude, out);
  }
  bool ScoreMoments(const UserQuery& query, std::span<const uint32_t> exclude, double* sum,
                    double* sum_sq) const override {
    return inner_->ScoreMoments(query, exclude, sum, sum_sq);
  }
  DeferredWork PrepareRetrieval(std::span<const uint32_t> item_rank, bool may_defer) override {
    return inner_->PrepareRetrieval(item_rank, may_defer);
  }

 private:
  std::unique_ptr<Recommender> inner_;
  std::atomic<int>* full_;
};

// The blend learns its weights on the candidates the fitted blend will
// serve: on a two-stage catalog the validation components are not scored
// over every item for every validation user (the cost that grew with
// users x items x components: 10M-event bench, docs/BENCHMARKS.md), and the
// weights learned are those of the exhaustive candidates (the sparse
// components' scores are the exhaustive ones; iALS's HNSW search on 700
// items is all but exact).
TEST_F(TwoStageTest, TheBlendLearnsOnTheCandidatesItWillServe) {
  struct Learned {
    std::vector<int> full;  // full scorings per component, validation fit and blend
    std::vector<std::pair<std::string, double>> weights;
    double ndcg = 0;
  };
  auto learn = [&](Retrieval retrieval) {
    std::vector<Fused::Component> comps = Components();
    auto counters = std::make_shared<std::vector<std::atomic<int>>>(comps.size());
    for (size_t j = 0; j < comps.size(); ++j) {
      comps[j].factory = [inner = comps[j].factory, c = &(*counters)[j]]() -> std::unique_ptr<Recommender> {
        return std::make_unique<CountingFullScores>(inner(), c);
      };
    }
    FusedOptions o = Options(retrieval);
    o.learn_weights = true;
    o.search_rounds = 1;
    Fused f(std::move(comps), o);
    EXPECT_TRUE(f.Fit(*data_).ok());
    Learned out;
    for (auto& c : *counters) out.full.push_back(c.load());
    out.weights = f.Weights();
    out.ndcg = f.validation_ndcg();
    return out;
  };
  const Learned exhaustive = learn(Retrieval::kExhaustive);
  const Learned two_stage = learn(Retrieval::kTwoStage);
  ASSERT_EQ(exhaustive.weights.size(), two_stage.weights.size());
  size_t fast = 0;
  for (size_t j = 0; j < exhaustive.weights.size(); ++j) {
    const std::string& name = exhaustive.weights[j].first;
    EXPECT_GT(exhaustive.full[j], 100) << name << ": every validation user in full";
    // EASE has no fast path; trending scores in full when its retrieval
    // depth is short of the request.
    if (name == "ease" || name == "trending") continue;
    EXPECT_EQ(two_stage.full[j], 0) << name;
    ++fast;
  }
  EXPECT_GE(fast, 7u);
  size_t same = 0;
  for (size_t j = 0; j < exhaustive.weights.size(); ++j) {
    same += exhaustive.weights[j].second == two_stage.weights[j].second;
  }
  EXPECT_GE(same, exhaustive.weights.size() - 1) << "learned weights";
  EXPECT_NEAR(two_stage.ndcg, exhaustive.ndcg, 0.005);
}

TEST_F(TwoStageTest, AutoServesTwoStageOnlyOnLargeCatalogs) {
  fused_->SetRetrieval(Retrieval::kAuto);
  EXPECT_FALSE(fused_->two_stage());  // 700 items < two_stage_min_items
  Ials plain;
  std::vector<uint32_t> got;
  ASSERT_TRUE(plain.Fit(*data_).ok());
  // Unprepared: no index, so the blend would score every item.
  EXPECT_FALSE(plain.Retrieve(testdata::Query({}, 0), 5, {}, &got));
  EXPECT_TRUE(got.empty());
}

// Two-stage serving keeps per-thread scratch sized to the largest catalog
// served on the thread and clean after each request (no O(items) reset per
// request). Two blends over catalogs of different sizes served alternately
// on one thread each still give their exhaustive top-10: nothing of one
// request (its excluded items, its sparse rows, its candidates) leaks into
// the next, whichever catalog it was for.
TEST_F(TwoStageTest, BlendsOfDifferentCatalogsShareAThreadsScratch) {
  const Dataset small_data = SkewedWorld(150, 90, /*seed=*/5);
  Fused small(Components(), Options(Retrieval::kExhaustive));
  ASSERT_TRUE(small.Fit(small_data).ok());
  std::vector<uint32_t> users, small_users;
  const auto histories = Histories(&users);
  std::vector<std::vector<uint32_t>> small_histories;
  for (uint32_t u = 0; u < small_data.num_users(); ++u) {
    auto items = small_data.UserItems(u);
    small_histories.emplace_back(items.begin(), items.end());
    small_users.push_back(u);
  }
  // Interleaved: the large blend first (the scratch grows to 700 items),
  // then the small one (it reuses it), then the large one again.
  size_t same = 0, total = 0;
  for (int round = 0; round < 2; ++round) {
    same += SameTopTenAsExhaustive(*fused_, histories, users), total += histories.size();
    same += SameTopTenAsExhaustive(small, small_histories, small_users);
    total += small_histories.size();
  }
  EXPECT_GE(same, total * 99 / 100) << same << " of " << total;
}

// A component that lists neighbours like RecentKnn and throws on demand:
// the request that throws leaves the scratch dirty (its excluded items are
// still marked); the next request on the thread must not see them.
class ThrowingNeighbours final : public Recommender {
 public:
  explicit ThrowingNeighbours(std::shared_ptr<std::atomic<bool>> fail) : fail_(std::move(fail)) {}
  std::string_view Name() const override { return "throwing"; }
  Status Fit(const Dataset& data) override { return knn_.Fit(data); }
  uint32_t num_items() const override { return knn_.num_items(); }
  void Score(const UserQuery& query, std::span<float> scores) const override { knn_.Score(query, scores); }
  bool SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const override {
    knn_.SparseScore(query, entries);
    if (fail_->load()) throw std::runtime_error("injected");
    return true;
  }

 private:
  std::shared_ptr<std::atomic<bool>> fail_;
  RecentKnn knn_;
};

TEST_F(TwoStageTest, ARequestThatThrewLeavesNothingForTheNext) {
  auto fail = std::make_shared<std::atomic<bool>>(false);
  auto comps = Components();
  comps.push_back({"throwing", [fail] { return std::make_unique<ThrowingNeighbours>(fail); }, 1.0});
  Fused f(std::move(comps), Options(Retrieval::kTwoStage));
  ASSERT_TRUE(f.Fit(*data_).ok());
  // What the exhaustive path recommends to a user with one popular item;
  // the failed request excluded every item that list holds.
  const std::vector<uint32_t> hist = {0};
  const UserQuery query = testdata::Query(hist);
  f.SetRetrieval(Retrieval::kExhaustive);
  Fused::Normalisation want_norm, got_norm;
  const auto want = f.RecommendExplained(query, 10, hist, nullptr, {}, &want_norm);
  ASSERT_EQ(want.size(), 10u);
  f.SetRetrieval(Retrieval::kTwoStage);
  std::vector<uint32_t> other_hist = {1};
  for (const auto& e : want) other_hist.push_back(e.item);
  std::sort(other_hist.begin(), other_hist.end());
  fail->store(true);
  EXPECT_THROW(f.RecommendExplained(testdata::Query(other_hist), 10, other_hist, nullptr),
               std::runtime_error);
  fail->store(false);
  const auto got = f.RecommendExplained(query, 10, hist, nullptr, {}, &got_norm);
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < got.size(); ++r) {
    EXPECT_EQ(got[r].item, want[r].item) << "rank " << r;
    EXPECT_NEAR(got[r].score, want[r].score, 1e-4) << "rank " << r;
  }
  // Items still marked excluded would leave the sparse components'
  // whole-catalog moments (they are not live for this request).
  for (size_t j = 0; j < f.num_components(); ++j) {
    EXPECT_NEAR(got_norm.mean[j], want_norm.mean[j], 1e-6 + 1e-5 * std::fabs(want_norm.mean[j]))
        << f.component_name(j);
  }
}

// The cap measured at 1M items (docs/BENCHMARKS.md "Two-stage at 1M items").
constexpr size_t kCap = 200;

// The blend caps RecentKnn's lists at ComponentConfig::recent_knn_neighbours
// (a bound on a request's work on any catalog): every recentknn component's
// table keeps at most that many neighbours per item, each item's most
// similar ones (ModelsKnnTest.RecentKnnCapKeepsEachItemsMostSimilar), while
// 0 keeps every co-visited item; on this world the cap bites.
TEST_F(TwoStageTest, TheBlendCapsRecentKnnListsAtItsOption) {
  auto longest = [&](size_t cap) {
    ComponentConfig config;
    config.threads = 1;
    config.min_pair_users = 1;
    config.ials_iterations = 1;
    config.recent_knn_neighbours = cap;
    Fused f(DefaultFusedComponents(data_->num_items(), config), Options(Retrieval::kExhaustive));
    EXPECT_TRUE(f.Fit(*data_).ok());
    uint64_t most = 0;
    size_t tables = 0;
    for (size_t j = 0; j < f.num_components(); ++j) {
      const auto* r = dynamic_cast<const RecentKnn*>(&f.component(j));
      if (r == nullptr) continue;
      ++tables;
      const ItemNeighbours& nn = *r->neighbours();
      for (uint32_t i = 0; i < nn.num_items(); ++i) most = std::max(most, nn.ptr[i + 1] - nn.ptr[i]);
    }
    EXPECT_EQ(tables, 3u);  // recentknn1, 5, 20
    return most;
  };
  const uint64_t uncapped = longest(0);
  EXPECT_GT(uncapped, 30u) << "the world must have lists longer than the cap";
  EXPECT_EQ(longest(30), 30u);
  EXPECT_EQ(longest(kCap), kCap);
}

// The cap does not cost quality: on this world (lists of up to ~600 items)
// each of the blend's recentknn components, made as the blend makes it
// (DefaultComponentFactory), scores the held-out events as well with its
// lists capped at kCap as with every neighbour kept (NDCG@10 within
// 2%; a cap of 20 loses 10% here), and so does the blend with its learned
// weights; two-stage serving of the capped blend still gives the
// exhaustive top-10. The ml-100k figures: docs/BENCHMARKS.md ("Two-stage
// retrieval").
TEST_F(TwoStageTest, CappedRecentKnnListsKeepTheirQuality) {
  eval::SplitOptions so;
  auto split = eval::SplitByTime(*data_, so);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  const size_t cap = kCap;
  auto config_of = [](size_t neighbours) {
    ComponentConfig config;
    config.threads = 1;
    config.min_pair_users = 1;
    config.ials_iterations = 6;
    config.recent_knn_neighbours = neighbours;
    return config;
  };
  for (const char* name : {"recentknn1", "recentknn5", "recentknn20"}) {
    auto ndcg = [&](size_t neighbours) {
      auto model = DefaultComponentFactory(name, config_of(neighbours))();
      EXPECT_TRUE(model->Fit(split->train).ok());
      return eval::Evaluate(*model, *split).ndcg;
    };
    const double all = ndcg(0), capped = ndcg(cap);
    std::printf("%s NDCG@10: every neighbour %.4f, capped at %zu %.4f\n", name, all, cap, capped);
    EXPECT_GE(capped, 0.98 * all) << name;
  }
  // The blend fitted on the split's train part with lists capped at `neighbours`.
  auto fit = [&](size_t neighbours) {
    FusedOptions o = Options(Retrieval::kExhaustive);
    o.learn_weights = true;  // as Train
    auto f = std::make_unique<Fused>(DefaultFusedComponents(data_->num_items(), config_of(neighbours)), o);
    EXPECT_TRUE(f->Fit(split->train).ok());
    return f;
  };
  const double all = eval::Evaluate(*fit(0), *split).ndcg;
  const std::unique_ptr<Fused> capped_blend = fit(cap);
  const double capped = eval::Evaluate(*capped_blend, *split).ndcg;
  std::printf("fused NDCG@10: every neighbour %.4f, capped at %zu %.4f\n", all, cap, capped);
  EXPECT_GE(capped, 0.98 * all);
  std::vector<uint32_t> users;
  std::vector<std::vector<uint32_t>> histories;
  for (uint32_t u = 0; u < split->train.num_users(); ++u) {
    auto items = split->train.UserItems(u);
    histories.emplace_back(items.begin(), items.end());
    users.push_back(u);
  }
  EXPECT_GE(SameTopTenAsExhaustive(*capped_blend, histories, users), histories.size() * 95 / 100);
}

}  // namespace
}  // namespace recdb::models
