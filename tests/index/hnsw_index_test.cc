#include "index/hnsw_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "clustered_data.h"
#include "index/brute_force_index.h"
#include "index/id_filter.h"

namespace recdb::index {
namespace {

constexpr uint32_t kDim = 32;
constexpr size_t kN = test::kRecallSetSize;
constexpr size_t kQueries = 200;

// Maximum inner product search over unnormalised vectors is not a metric
// space: HNSW needs a wider beam for the same recall (measured on this data:
// recall@10 0.91 at ef 64, >= 0.95 at ef 200). index/README.md says so.
HnswOptions OptionsFor(Metric metric) {
  HnswOptions options;
  if (metric == Metric::kInnerProduct) options.ef_search = 200;
  return options;
}

std::unique_ptr<HnswIndex> MakeHnsw(Metric metric, HnswOptions options = {}) {
  auto r = HnswIndex::Create(kDim, metric, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

// A 5K x 32 clustered index per metric (1K under TSan) and its exact twin,
// built once and shared by the read-only tests; tests that mutate build their
// own with Build().
class HnswRecallTest : public ::testing::TestWithParam<Metric> {
 protected:
  struct Built {
    std::unique_ptr<HnswIndex> hnsw;
    std::unique_ptr<BruteForceIndex> exact;
  };

  static const test::Dataset& Data() {
    static const test::Dataset data = test::MakeClustered(kN, kDim, 50, 42);
    return data;
  }
  static const test::Dataset& Queries() {
    static const test::Dataset queries = test::MakeClustered(kQueries, kDim, 50, 43);
    return queries;
  }

  static Built Build(Metric metric) {
    Built b{MakeHnsw(metric, OptionsFor(metric)), std::make_unique<BruteForceIndex>(kDim, metric)};
    for (size_t i = 0; i < kN; ++i) {
      EXPECT_TRUE(b.hnsw->Add(i, Data().Row(i)).ok());
      EXPECT_TRUE(b.exact->Add(i, Data().Row(i)).ok());
    }
    return b;
  }

  static Built& Shared(Metric metric) {
    static std::map<Metric, Built> cache;
    auto it = cache.find(metric);
    if (it == cache.end()) it = cache.emplace(metric, Build(metric)).first;
    return it->second;
  }

  static double MeasureRecall(const VectorIndex& index, const VectorIndex& exact, size_t k) {
    std::vector<std::vector<Neighbor>> approx, truth;
    for (size_t q = 0; q < kQueries; ++q) {
      approx.push_back(*index.Search(Queries().Row(q), k));
      truth.push_back(*exact.Search(Queries().Row(q), k));
      EXPECT_EQ(approx.back().size(), k);
    }
    return test::Recall(approx, truth);
  }
};

TEST_P(HnswRecallTest, RecallAt10AgainstBruteForce) {
  Built& b = Shared(GetParam());
  const double recall = MeasureRecall(*b.hnsw, *b.exact, 10);
  EXPECT_GE(recall, 0.95) << MetricToString(GetParam());
}

TEST_P(HnswRecallTest, ScoresAgreeWithBruteForce) {
  HnswIndex& hnsw = *Shared(GetParam()).hnsw;
  auto approx = hnsw.Search(Queries().Row(0), 5);
  ASSERT_TRUE(approx.ok());
  for (const Neighbor& n : *approx) {
    BruteForceIndex one(kDim, GetParam());
    ASSERT_TRUE(one.Add(n.id, Data().Row(n.id)).ok());
    EXPECT_NEAR(n.score, (*one.Search(Queries().Row(0), 1))[0].score, 1e-4);
  }
  for (size_t i = 1; i < approx->size(); ++i) {
    EXPECT_GE((*approx)[i - 1].score, (*approx)[i].score);
  }
}

TEST_P(HnswRecallTest, CompactCopyAfterRemovalsKeepsRecall) {
  Built b = Build(GetParam());
  size_t removed = 0;
  for (uint32_t id = 0; id < kN; id += 3, ++removed) {
    ASSERT_TRUE(b.hnsw->Remove(id).ok());
    ASSERT_TRUE(b.exact->Remove(id).ok());
  }
  EXPECT_NEAR(b.hnsw->DeletedFraction(), static_cast<double>(removed) / kN, 1e-9);
  b.hnsw->set_covered_sequence(77);
  auto copy = b.hnsw->CompactCopy();
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ((*copy)->Size(), b.hnsw->Size());
  EXPECT_EQ((*copy)->DeletedFraction(), 0.0);
  EXPECT_EQ((*copy)->covered_sequence(), 77u);
  EXPECT_FALSE((*copy)->Contains(0));
  EXPECT_TRUE((*copy)->Contains(1));
  // Removed nodes keep routing with zeroed vectors. Under L2 and cosine the
  // graph barely notices a third of them gone; under inner product a zero
  // vector looks like a dead end and recall drops (0.91 here) until the
  // compaction, which restores it.
  EXPECT_GE(MeasureRecall(*b.hnsw, *b.exact, 10),
            GetParam() == Metric::kInnerProduct ? 0.85 : 0.95);
  EXPECT_GE(MeasureRecall(**copy, *b.exact, 10), 0.95);
}

// AddMany on several threads (a bulk build: the iALS retrieval index)
// builds another graph than the serial inserts, but one that answers as
// well: recall@10 against brute force within noise of the serial build's
// (seeded data; the serial build is Shared's). Four threads even on fewer
// cores: the interleavings are the point.
TEST_P(HnswRecallTest, ParallelBuildHasTheRecallOfTheSerialBuild) {
  Built& serial = Shared(GetParam());
  auto parallel = MakeHnsw(GetParam(), OptionsFor(GetParam()));
  std::vector<uint32_t> ids(kN);
  for (size_t i = 0; i < kN; ++i) ids[i] = static_cast<uint32_t>(i);
  ASSERT_TRUE(parallel->AddMany(ids, Data().data, 4).ok());
  ASSERT_EQ(parallel->Size(), kN);
  for (uint32_t id = 0; id < kN; ++id) ASSERT_TRUE(parallel->Contains(id)) << id;
  const double serial_recall = MeasureRecall(*serial.hnsw, *serial.exact, 10);
  const double parallel_recall = MeasureRecall(*parallel, *serial.exact, 10);
  EXPECT_GE(parallel_recall, 0.95) << MetricToString(GetParam());
  EXPECT_NEAR(parallel_recall, serial_recall, 0.02) << MetricToString(GetParam());
  // Every vector is stored exactly (normalised under cosine, as Add does).
  for (uint32_t id = 0; id < kN; id += 97) {
    EXPECT_EQ(*parallel->Get(id), *serial.hnsw->Get(id)) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, HnswRecallTest,
                         ::testing::Values(Metric::kL2, Metric::kCosine, Metric::kInnerProduct),
                         [](const auto& info) { return std::string(MetricToString(info.param)); });

// One thread: AddMany builds exactly the graph Add builds in the same
// order (same levels, same links), byte for byte.
TEST(HnswIndexTest, AddManyOnOneThreadBuildsTheSerialGraph) {
  const test::Dataset data = test::MakeClustered(1500, kDim, 20, 7);
  auto serial = MakeHnsw(Metric::kCosine);
  auto bulk = MakeHnsw(Metric::kCosine);
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < data.size(); ++i) {
    ids.push_back(static_cast<uint32_t>(3 * i + 1));  // sparse ids
    ASSERT_TRUE(serial->Add(ids.back(), data.Row(i)).ok());
  }
  ASSERT_TRUE(bulk->AddMany(ids, data.data, 1).ok());
  std::string a, b;
  ASSERT_TRUE(serial->AppendSerialized(&a).ok());
  ASSERT_TRUE(bulk->AppendSerialized(&b).ok());
  // Bytes [64, 72): the capacity when saved (Add doubles it, AddMany sizes
  // it for the batch); not part of the graph, ignored by Deserialize.
  ASSERT_EQ(a.size(), b.size());
  a.replace(64, 8, 8, '\0');
  b.replace(64, 8, 8, '\0');
  EXPECT_TRUE(a == b) << "the same graph, byte for byte";
}

TEST(HnswIndexTest, AddManyChecksItsInputAndStops) {
  auto index = MakeHnsw(Metric::kL2);
  const std::vector<float> v(3 * kDim, 0.5f);
  std::vector<uint32_t> twice = {1, 2, 1};
  EXPECT_TRUE(index->AddMany(twice, v, 2).IsInvalidArgument());
  std::vector<uint32_t> two = {1, 2};
  EXPECT_TRUE(index->AddMany(two, v, 2).IsInvalidArgument()) << "3 vectors for 2 ids";
  ASSERT_TRUE(index->Add(2, std::span<const float>(v.data(), kDim)).ok());
  std::vector<uint32_t> three = {4, 2, 5};
  EXPECT_TRUE(index->AddMany(three, v, 2).IsAlreadyExists());
  EXPECT_EQ(index->Size(), 1u) << "nothing added by a rejected batch";
  std::vector<float> nan = v;
  nan[kDim + 3] = std::nanf("");
  std::vector<uint32_t> fresh = {7, 8, 9};
  EXPECT_FALSE(index->AddMany(fresh, nan, 2).ok());
  EXPECT_EQ(index->Size(), 1u);
  // Stopped: Aborted, and the index stays usable.
  const test::Dataset data = test::MakeClustered(1000, kDim, 10, 9);
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < data.size(); ++i) ids.push_back(static_cast<uint32_t>(100 + i));
  std::atomic<int> polls{0};
  Status stopped = index->AddMany(ids, data.data, 2, [&] { return ++polls > 200; });
  EXPECT_EQ(stopped.code(), StatusCode::kAborted) << stopped.ToString();
  EXPECT_LT(index->Size(), 1001u);
  EXPECT_GE(index->Size(), 2u);
  EXPECT_TRUE(index->Search(data.Row(0), 5).ok());
}

// AppendSerialized / Deserialize: the same answers after the round trip;
// damaged or foreign bytes are errors, never trusted.
TEST(HnswIndexTest, SerializedIndexRoundTripsAndRejectsDamage) {
  const test::Dataset data = test::MakeClustered(2000, kDim, 20, 11);
  auto index = MakeHnsw(Metric::kInnerProduct);
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < data.size(); ++i) ids.push_back(static_cast<uint32_t>(i));
  ASSERT_TRUE(index->AddMany(ids, data.data, 1).ok());  // id i at slot i
  ASSERT_TRUE(index->Remove(5).ok());
  index->set_covered_sequence(42);
  std::string bytes;
  ASSERT_TRUE(index->AppendSerialized(&bytes).ok());
  auto back = HnswIndex::Deserialize(bytes, kDim, Metric::kInnerProduct);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)->Size(), index->Size());
  EXPECT_EQ((*back)->covered_sequence(), 42u);
  EXPECT_FALSE((*back)->Contains(5));
  for (size_t q = 0; q < 50; ++q) {
    EXPECT_EQ(*(*back)->Search(data.Row(q * 7), 10), *index->Search(data.Row(q * 7), 10)) << q;
  }
  EXPECT_TRUE(HnswIndex::Deserialize(bytes, kDim + 1, Metric::kInnerProduct).status().IsInvalidArgument());
  EXPECT_TRUE(HnswIndex::Deserialize(bytes, kDim, Metric::kL2).status().IsInvalidArgument());
  EXPECT_TRUE(HnswIndex::Deserialize(bytes.substr(0, bytes.size() - 9), kDim,
                                     Metric::kInnerProduct).status().IsCorruption());
  EXPECT_TRUE(HnswIndex::Deserialize(bytes.substr(0, 20), kDim, Metric::kInnerProduct)
                  .status().IsCorruption());
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_TRUE(HnswIndex::Deserialize(bad_magic, kDim, Metric::kInnerProduct).status().IsCorruption());
  // A link to a node that does not exist (the first level-0 link of node 0,
  // just after the header and the payload preamble).
  std::string bad_link = bytes;
  const size_t header = 8 + 4 + 4 + 5 * 8;
  const size_t preamble = 8 * 6 + 4 + 4 + 8 * 3 + 8 + 8;
  const uint32_t huge = 1u << 30;
  std::memcpy(bad_link.data() + header + preamble + 4, &huge, sizeof(huge));
  EXPECT_TRUE(HnswIndex::Deserialize(bad_link, kDim, Metric::kInnerProduct).status().IsCorruption());
}

TEST(HnswIndexTest, CreateRejectsBadOptions) {
  EXPECT_TRUE(HnswIndex::Create(0, Metric::kL2).status().IsInvalidArgument());
  HnswOptions bad;
  bad.m = 1;
  EXPECT_TRUE(HnswIndex::Create(4, Metric::kL2, bad).status().IsInvalidArgument());
}

TEST(HnswIndexTest, RejectsMalformedVectors) {
  auto index = MakeHnsw(Metric::kCosine);
  std::vector<float> v(kDim, 1.0f);
  EXPECT_TRUE(index->Add(1, std::span<const float>(v).first(kDim - 1)).IsInvalidArgument());
  v[3] = std::nanf("");
  EXPECT_TRUE(index->Add(1, v).IsInvalidArgument());
  v[3] = -INFINITY;
  EXPECT_TRUE(index->Upsert(1, v).IsInvalidArgument());
  std::fill(v.begin(), v.end(), 0.0f);
  EXPECT_TRUE(index->Add(1, v).IsInvalidArgument());  // zero vector under cosine
  EXPECT_EQ(index->Size(), 0u);
  EXPECT_TRUE(index->Search(v, 10).status().IsInvalidArgument());  // zero query
  v[0] = 1;
  EXPECT_TRUE(index->Search(v, 0).status().IsInvalidArgument());
  auto empty = index->Search(v, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(HnswIndexTest, UpsertReplacesTheVector) {
  const auto data = test::MakeClustered(300, kDim, 5, 3);
  auto index = MakeHnsw(Metric::kL2);
  for (size_t i = 0; i < data.size(); ++i) ASSERT_TRUE(index->Add(i, data.Row(i)).ok());
  EXPECT_EQ(index->Add(7, data.Row(8)).code(), StatusCode::kAlreadyExists);
  // Move id 7 onto id 200's position: a query there now finds both at 0.
  ASSERT_TRUE(index->Upsert(7, data.Row(200)).ok());
  EXPECT_EQ(index->Size(), 300u);
  auto got = index->Get(7);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::vector<float>(data.Row(200).begin(), data.Row(200).end()));
  auto r = index->Search(data.Row(200), 2);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], (Neighbor{7, 0.0f}));
  EXPECT_EQ((*r)[1], (Neighbor{200, 0.0f}));
  // And nothing is found any more at its old position with score 0.
  r = index->Search(data.Row(7), 1);
  ASSERT_TRUE(r.ok());
  EXPECT_NE((*r)[0].id, 7u);
}

TEST(HnswIndexTest, RemoveHidesErasesAndAllowsReAdd) {
  const auto data = test::MakeClustered(300, kDim, 5, 4);
  auto index = MakeHnsw(Metric::kL2);
  for (size_t i = 0; i < data.size(); ++i) ASSERT_TRUE(index->Add(i, data.Row(i)).ok());
  ASSERT_TRUE(index->Remove(10).ok());
  EXPECT_TRUE(index->Remove(10).IsNotFound());
  EXPECT_TRUE(index->Remove(12345).IsNotFound());
  EXPECT_FALSE(index->Contains(10));
  EXPECT_TRUE(index->Get(10).status().IsNotFound());
  EXPECT_EQ(index->Size(), 299u);
  EXPECT_NEAR(index->DeletedFraction(), 1.0 / 300, 1e-12);
  auto r = index->Search(data.Row(10), 300);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 299u);  // k > live: every live id, never the removed one
  for (const Neighbor& n : *r) EXPECT_NE(n.id, 10u);

  // Re-adding a removed id (Add, not only Upsert) revives it with the new vector.
  ASSERT_TRUE(index->Add(10, data.Row(20)).ok());
  EXPECT_TRUE(index->Contains(10));
  EXPECT_EQ(index->Size(), 300u);
  EXPECT_EQ(index->DeletedFraction(), 0.0);
  r = index->Search(data.Row(20), 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0], (Neighbor{10, 0.0f}));
  EXPECT_EQ((*r)[1], (Neighbor{20, 0.0f}));
}

TEST(HnswIndexTest, ReturnsKResultsEvenWhenMostNodesAreRemoved) {
  const auto data = test::MakeClustered(1000, kDim, 10, 5);
  auto index = MakeHnsw(Metric::kL2);
  for (size_t i = 0; i < data.size(); ++i) ASSERT_TRUE(index->Add(i, data.Row(i)).ok());
  for (uint32_t i = 0; i < 1000; ++i) {
    if (i % 50 != 0) {
      ASSERT_TRUE(index->Remove(i).ok());
    }
  }
  ASSERT_EQ(index->Size(), 20u);
  for (size_t q = 0; q < 20; ++q) {
    auto r = index->Search(data.Row(q * 37), 15);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 15u);
    for (const Neighbor& n : *r) EXPECT_EQ(n.id % 50, 0u);
  }
}

TEST(HnswIndexTest, GrowsCapacityAndAcceptsSparseIds) {
  HnswOptions options;
  options.initial_capacity = 4;
  auto index = MakeHnsw(Metric::kInnerProduct, options);
  const auto data = test::MakeClustered(2000, kDim, 10, 6);
  for (size_t i = 0; i < data.size(); ++i) {
    ASSERT_TRUE(index->Add(static_cast<uint32_t>(i * 1000003u), data.Row(i)).ok());
  }
  EXPECT_EQ(index->Size(), 2000u);
  auto r = index->Search(data.Row(1234), 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].id, 1234u * 1000003u);
}

// The unfiltered graph search works in hnswlib's internal ids and maps them
// to labels once (HnswIndex::Search): two indexes built in the same order,
// one labelled 0..n-1 and one with sparse labels, have the same graph, so
// every search must answer the same neighbours under the mapped labels, with
// the same scores and order.
TEST(HnswIndexTest, SparseLabelsSearchAsTheDenseOnes) {
  const auto data = test::MakeClustered(1500, kDim, 20, 8);
  const auto queries = test::MakeClustered(40, kDim, 20, 9);
  auto dense = MakeHnsw(Metric::kInnerProduct, OptionsFor(Metric::kInnerProduct));
  auto sparse = MakeHnsw(Metric::kInnerProduct, OptionsFor(Metric::kInnerProduct));
  auto label = [](size_t i) { return static_cast<uint32_t>(i * 7919u + 3u); };
  for (size_t i = 0; i < data.size(); ++i) {
    ASSERT_TRUE(dense->Add(static_cast<uint32_t>(i), data.Row(i)).ok());
    ASSERT_TRUE(sparse->Add(label(i), data.Row(i)).ok());
  }
  for (size_t q = 0; q < queries.size(); ++q) {
    auto a = dense->Search(queries.Row(q), 25);
    auto b = sparse->Search(queries.Row(q), 25);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), 25u);
    ASSERT_EQ(b->size(), a->size());
    for (size_t r = 0; r < a->size(); ++r) {
      EXPECT_EQ((*b)[r].id, label((*a)[r].id)) << "query " << q << " rank " << r;
      EXPECT_EQ((*b)[r].score, (*a)[r].score);
    }
  }
}

TEST(HnswIndexTest, EfSearchIsAdjustable) {
  auto index = MakeHnsw(Metric::kL2);
  EXPECT_EQ(index->ef_search(), 64u);
  index->set_ef_search(10);
  EXPECT_EQ(index->ef_search(), 10u);
}

// Readers and writers at once; run under TSan (build-index-tsan) to check the
// locking. Searches must always see a consistent index.
TEST(HnswIndexTest, ConcurrentSearchesAndWrites) {
  const auto data = test::MakeClustered(3000, kDim, 20, 8);
  auto index = MakeHnsw(Metric::kCosine);
  for (size_t i = 0; i < 1000; ++i) ASSERT_TRUE(index->Add(i, data.Row(i)).ok());
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {  // writers: insert, update, remove
    threads.emplace_back([&, w] {
      for (size_t i = 1000 + w; i < 3000; i += 2) {
        if (!index->Add(i, data.Row(i)).ok()) failed = true;
        if (i % 7 == 0 && !index->Upsert((i * 31) % 1000, data.Row(i)).ok()) failed = true;
        if (i % 11 == 0 && !index->Remove(i).ok()) failed = true;
      }
    });
  }
  for (int r = 0; r < 3; ++r) {  // readers: unfiltered and filtered searches
    threads.emplace_back([&, r] {
      IdFilter odd;
      for (uint32_t i = 1; i < 3000; i += 2) odd.Allow(i);
      for (size_t q = 0; q < 300; ++q) {
        auto res = index->Search(data.Row((q * 13 + r) % 3000), 10, q % 2 ? &odd : nullptr);
        if (!res.ok() || res->size() != 10) failed = true;
        (void)index->Size();
        (void)index->Contains(static_cast<uint32_t>(q));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(failed.load());
  size_t removed = 0;
  for (size_t i = 1000; i < 3000; ++i) removed += (i % 11 == 0);
  EXPECT_EQ(index->Size(), 3000u - removed);
}

}  // namespace
}  // namespace recdb::index

#if defined(__SANITIZE_THREAD__)
// hnswlib's per-node std::mutexes are never pthread_mutex_destroy'ed, so when
// one index is freed and the next reuses the memory, TSan's deadlock detector
// carries stale lock-order edges over (reports with <null> stacks). HnswIndex
// serialises writers, so hnswlib's own locks never contend; the index has one
// mutex of its own, so there is no lock order to check here. Data race
// detection stays on. (index/hnsw_index.cc suppresses the reports that do
// carry hnswalg.h stacks for other binaries.)
extern "C" const char* __tsan_default_options() { return "detect_deadlocks=0"; }
#endif
