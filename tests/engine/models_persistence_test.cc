// Model persistence (engine/models/model_io.h): every component, and the
// fused blend, scores exactly as it did after Fit once saved and loaded into
// a fresh object; damaged bytes are Corruption, never a crash.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/models/content_profile.h"
#include "engine/models/fused.h"
#include "engine/models/model_io.h"
#include "models_test_data.h"

namespace recdb::models {
namespace {

using testdata::Clustered;

std::shared_ptr<const ItemVectors> Vectors(uint32_t items) {
  auto v = std::make_shared<ItemVectors>(items, 3);
  for (uint32_t i = 0; i + 1 < items; ++i) {  // the last item has no vector
    const float x[3] = {static_cast<float>(i % 2), static_cast<float>(1 - i % 2), 0.01f * i};
    EXPECT_TRUE(v->Set(i, x));
  }
  return v;
}

// Scores of several kinds of query (known user, unknown user with history,
// empty history, with timestamps and a context bucket).
std::vector<std::vector<float>> ScoreAll(const Recommender& m, const Dataset& data) {
  std::vector<std::vector<float>> out;
  const std::vector<uint32_t> h1 = {0, 2, 4}, h2 = {1, 3, 5, 7, 9}, none;
  const std::vector<int64_t> t2 = {10, 20, 30, 40, 50};
  std::vector<UserQuery> queries = {testdata::Query(data.UserItems(3), 3), testdata::Query(h1),
                                    testdata::Query(none), testdata::Query(h2)};
  queries.back().timestamps = t2;
  queries.back().context = 0;
  for (const UserQuery& q : queries) {
    std::vector<float> s(m.num_items());
    m.Score(q, s);
    out.push_back(std::move(s));
  }
  return out;
}

TEST(ModelsPersistenceTest, EveryDefaultComponentScoresTheSameAfterSaveAndLoad) {
  const Dataset data = Clustered();
  ComponentConfig fit_config;
  fit_config.threads = 1;
  fit_config.content = Vectors(data.num_items());
  ComponentConfig load_config = fit_config;
  load_config.content = nullptr;  // "content" must carry its own vectors
  const std::vector<std::string> names = {
      "ials",       "ease",          "itemknn",        "recentknn1", "recentknn5", "recentknn20",
      "cooc_directed", "cooc_symmetric", "trending", "context_pop", "content"};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto fitted = DefaultComponentFactory(name, fit_config)();
    ASSERT_TRUE(fitted->Fit(data).ok());
    ModelWriter out;
    ASSERT_TRUE(fitted->Save(out).ok());
    auto loaded = DefaultComponentFactory(name, load_config)();
    ModelReader in(out.bytes());
    ASSERT_TRUE(loaded->Load(in).ok()) << in.status().ToString();
    EXPECT_TRUE(in.Finish().ok()) << in.Finish().ToString();
    EXPECT_EQ(loaded->num_items(), fitted->num_items());
    EXPECT_EQ(ScoreAll(*loaded, data), ScoreAll(*fitted, data));
  }
  EXPECT_EQ(DefaultComponentFactory("no-such-model", fit_config), nullptr);
}

TEST(ModelsPersistenceTest, FusedBlendRecommendsTheSameAfterSaveAndLoad) {
  const Dataset data = Clustered();
  FusedOptions fo;
  fo.threads = 1;
  Fused fitted(DefaultFusedComponents(1, data.num_items()), fo);
  ASSERT_TRUE(fitted.Fit(data).ok());
  ModelWriter out;
  ASSERT_TRUE(fitted.Save(out).ok());

  fo.learn_weights = false;
  Fused loaded(DefaultFusedComponents(1, data.num_items()), fo);
  ModelReader in(out.bytes());
  ASSERT_TRUE(loaded.Load(in).ok()) << in.status().ToString();
  EXPECT_TRUE(in.Finish().ok());
  EXPECT_EQ(loaded.Weights(), fitted.Weights());
  EXPECT_EQ(loaded.validation_ndcg(), fitted.validation_ndcg());
  for (uint32_t u = 0; u < 10; ++u) {
    const UserQuery q = testdata::Query(data.UserItems(u), u);
    auto a = fitted.RecommendExplained(q, 10, data.UserItems(u), nullptr);
    auto b = loaded.RecommendExplained(q, 10, data.UserItems(u), nullptr);
    ASSERT_EQ(a.size(), b.size());
    for (size_t r = 0; r < a.size(); ++r) {
      EXPECT_EQ(a[r].item, b[r].item);
      EXPECT_EQ(a[r].score, b[r].score);
      EXPECT_EQ(a[r].contributions, b[r].contributions);
    }
  }
}

TEST(ModelsPersistenceTest, ABlendOfOtherComponentsIsRefused) {
  const Dataset data = Clustered();
  FusedOptions fo;
  fo.learn_weights = false;
  fo.threads = 1;
  Fused fitted(DefaultFusedComponents(1, data.num_items()), fo);
  ASSERT_TRUE(fitted.Fit(data).ok());
  ModelWriter out;
  ASSERT_TRUE(fitted.Save(out).ok());
  auto fewer = DefaultFusedComponents(1, data.num_items(), nullptr, /*context_popularity=*/false);
  Fused other(std::move(fewer), fo);
  ModelReader in(out.bytes());
  EXPECT_EQ(other.Load(in).code(), StatusCode::kInvalidArgument);
}

// Every truncation and a bit flip in every byte of a small model: Load
// returns a Status (Corruption for a short input) and never crashes; what
// loads without error has consumed exactly its input.
TEST(ModelsPersistenceTest, DamagedBytesAreAnErrorNeverACrash) {
  const Dataset data = Clustered(20, 10, 6);
  ComponentConfig config;
  config.threads = 1;
  for (const std::string name : {"itemknn", "trending", "context_pop", "ials"}) {
    SCOPED_TRACE(name);
    auto fitted = DefaultComponentFactory(name, config)();
    ASSERT_TRUE(fitted->Fit(data).ok());
    ModelWriter out;
    ASSERT_TRUE(fitted->Save(out).ok());
    const std::string bytes = out.bytes();
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto m = DefaultComponentFactory(name, config)();
      ModelReader in(std::string_view(bytes).substr(0, n));
      Status s = m->Load(in);
      if (s.ok()) s = in.Finish();
      ASSERT_FALSE(s.ok()) << "a truncation to " << n << " bytes loaded";
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    }
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x80);
      auto m = DefaultComponentFactory(name, config)();
      ModelReader in(flipped);
      (void)m->Load(in);  // may load (a changed float is still a float); must not crash
    }
  }
}

TEST(ModelIoTest, ReaderStopsAtTheFirstFailureAndNamesTheInput) {
  ModelWriter w;
  w.Put<uint32_t>(7);
  w.PutVector(std::vector<float>{1, 2, 3});
  w.PutStrings({"a", "bc"});
  w.PutNested(std::vector<std::vector<uint32_t>>{{1}, {}, {2, 3}});
  ModelReader r(w.bytes(), "test model");
  uint32_t x = 0;
  std::vector<float> v;
  std::vector<std::string> s;
  std::vector<std::vector<uint32_t>> nested;
  ASSERT_TRUE(r.Get(&x) && r.GetVector(&v) && r.GetStrings(&s) && r.GetNested(&nested));
  EXPECT_EQ(x, 7u);
  EXPECT_EQ(v, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(s, (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(nested.size(), 3u);
  EXPECT_TRUE(r.Finish().ok());

  // A count far larger than the input: refused before any allocation.
  ModelWriter huge;
  huge.Put<uint64_t>(uint64_t{1} << 60);
  ModelReader h(huge.bytes(), "test model");
  EXPECT_FALSE(h.GetVector(&v));
  EXPECT_FALSE(h.Get(&x)) << "failures are sticky";
  EXPECT_TRUE(h.status().IsCorruption());
  EXPECT_NE(h.status().message().find("test model"), std::string::npos);

  ModelReader left(w.bytes());
  ASSERT_TRUE(left.Get(&x));
  EXPECT_TRUE(left.Finish().IsCorruption()) << "bytes left over";
}

}  // namespace
}  // namespace recdb::models
