// Model persistence (engine/models/model_io.h): every component, and the
// fused blend, scores exactly as it did after Fit once saved and loaded into
// a fresh object; damaged bytes are Corruption, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/models/content_profile.h"
#include "engine/models/fused.h"
#include "engine/models/ials.h"
#include "engine/models/item_knn.h"
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

namespace recdb::models {
namespace {

// Stored arrays: 8-aligned in the bytes (blocks included), viewed in place
// when the reader has an owner to keep alive, copied when it has not.
// GetVectorView / GetNestedView read the PutVector / PutNested layout (no
// padding: files written before them read the same) as views of an owned
// input where the elements are aligned, and as copies where they are not.
TEST(ModelIoTest, PlainVectorsAreViewedInPlaceWhenAligned) {
  ModelWriter out;
  const std::vector<float> floats = {1.5f, -2.0f, 3.25f};
  const std::vector<std::vector<float>> rows = {{4.0f, 5.0f}, {}, {6.5f}};
  const std::vector<uint64_t> wide = {7, 8};
  out.PutVector(floats);
  out.PutNested(rows);
  out.Put<uint32_t>(9);  // misaligns the next count and its 8-byte elements
  out.PutVector(wide);
  auto owner = std::make_shared<std::vector<uint64_t>>((out.bytes().size() + 7) / 8);
  std::memcpy(owner->data(), out.bytes().data(), out.bytes().size());
  const std::string_view bytes(reinterpret_cast<const char*>(owner->data()), out.bytes().size());
  for (bool owned : {true, false}) {
    SCOPED_TRACE(owned);
    ModelReader in = owned ? ModelReader(bytes, "test", owner) : ModelReader(out.bytes(), "test");
    StoredArray<float> f;
    std::vector<StoredArray<float>> nested;
    StoredArray<uint64_t> w;
    uint32_t tag = 0;
    ASSERT_TRUE(in.GetVectorView(&f) && in.GetNestedView(&nested) && in.Get(&tag) &&
                in.GetVectorView(&w));
    EXPECT_TRUE(in.Finish().ok());
    EXPECT_EQ(std::vector<float>(f.begin(), f.end()), floats);
    ASSERT_EQ(nested.size(), rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      EXPECT_EQ(std::vector<float>(nested[r].begin(), nested[r].end()), rows[r]);
    }
    EXPECT_EQ(std::vector<uint64_t>(w.begin(), w.end()), wide);
    EXPECT_EQ(f.is_view(), owned);
    EXPECT_EQ(nested[0].is_view(), owned);
    EXPECT_FALSE(w.is_view()) << "misaligned: copied";
  }
  // Truncated: Corruption, never a read past the input.
  ModelReader cut(out.bytes().substr(0, 10), "test");
  StoredArray<float> f;
  EXPECT_FALSE(cut.GetVectorView(&f));
  EXPECT_FALSE(cut.Finish().ok());
}

TEST(ModelIoTest, StoredArraysAreAlignedAndViewedInPlace) {
  ModelWriter out, inner;
  inner.Put<uint8_t>(7);  // misaligns what follows
  const std::vector<float> floats = {1.5f, -2.0f, 3.25f};
  inner.PutStored(std::span<const float>(floats));
  out.Put<uint8_t>(1);
  out.PutBlock(inner);
  const std::vector<uint64_t> wide = {1, 2, 3};
  out.PutStored(std::span<const uint64_t>(wide));

  // An 8-aligned owner of the bytes, as a mapped file is.
  auto owner = std::make_shared<std::vector<uint64_t>>((out.bytes().size() + 7) / 8);
  std::memcpy(owner->data(), out.bytes().data(), out.bytes().size());
  const std::string_view bytes(reinterpret_cast<const char*>(owner->data()), out.bytes().size());
  ModelReader in(bytes, "test", owner);
  uint8_t tag = 0, inner_tag = 0;
  ModelReader block("");
  StoredArray<float> f;
  StoredArray<uint64_t> w;
  ASSERT_TRUE(in.Get(&tag) && in.GetBlock(&block, "block") && in.GetStored(&w));
  ASSERT_TRUE(block.Get(&inner_tag) && block.GetStored(&f));
  EXPECT_TRUE(in.Finish().ok() && block.Finish().ok());
  EXPECT_EQ(std::vector<float>(f.begin(), f.end()), floats);
  EXPECT_EQ(std::vector<uint64_t>(w.begin(), w.end()), wide);
  EXPECT_TRUE(f.is_view());
  EXPECT_TRUE(w.is_view());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.data()) % 8, 0u);
  EXPECT_GE(reinterpret_cast<const char*>(f.data()), bytes.data());
  EXPECT_LT(reinterpret_cast<const char*>(f.data()), bytes.data() + bytes.size());
  // The view keeps the bytes alive after the reader and its owner are gone.
  const long uses = owner.use_count();
  EXPECT_GT(uses, 1);

  ModelReader copy_in(out.bytes(), "test");  // no owner: copies
  StoredArray<uint64_t> w2;
  ASSERT_TRUE(copy_in.Get(&tag) && copy_in.GetBlock(&block, "block") && copy_in.GetStored(&w2));
  EXPECT_FALSE(w2.is_view());
  EXPECT_EQ(std::vector<uint64_t>(w2.begin(), w2.end()), wide);
  StoredArray<uint64_t> moved = std::move(w2);
  EXPECT_EQ(std::vector<uint64_t>(moved.begin(), moved.end()), wide);
  StoredArray<uint64_t> copied = moved;
  EXPECT_EQ(std::vector<uint64_t>(copied.begin(), copied.end()), wide);
}

// Blocks written in place (BeginBlock / EndBlock: no buffer per block, no
// copy into the parent; how a model file is written) are the bytes that
// Child() + PutBlock write: lengths, alignment of stored arrays, nesting and
// shared objects alike.
TEST(ModelIoTest, InPlaceBlocksWriteTheSameBytesAsPutBlock) {
  auto table = std::make_shared<const ItemNeighbours>(BuildCosineNeighbours(Clustered(), 0, 1));
  const std::vector<float> floats = {1.5f, -2.0f, 3.25f};
  const std::vector<uint64_t> wide = {1, 2, 3};
  ModelWriter copied;  // the reference: a buffer per block, copied into its parent
  {
    copied.Put<uint8_t>(1);
    ModelWriter a = copied.Child();
    a.Put<uint8_t>(7);  // misaligns what follows
    a.PutStored(std::span<const float>(floats));
    a.PutShared<ItemNeighbours>(table, SaveNeighbours);
    ModelWriter nested = a.Child();
    nested.Put<uint16_t>(3);
    nested.PutStored(std::span<const uint64_t>(wide));
    a.PutBlock(nested);
    copied.PutBlock(a);
    ModelWriter b = copied.Child();
    b.PutShared<ItemNeighbours>(table, SaveNeighbours);  // a reference
    copied.PutBlock(b);
    ModelWriter empty = copied.Child();
    copied.PutBlock(empty);
    copied.PutStored(std::span<const uint64_t>(wide));
  }
  ModelWriter in_place;
  {
    in_place.Reserve(1024);
    in_place.Put<uint8_t>(1);
    ModelWriter a = in_place.BeginBlock();
    a.Put<uint8_t>(7);
    a.PutStored(std::span<const float>(floats));
    a.PutShared<ItemNeighbours>(table, SaveNeighbours);
    ModelWriter nested = a.BeginBlock();
    nested.Put<uint16_t>(3);
    nested.PutStored(std::span<const uint64_t>(wide));
    a.EndBlock(nested);
    in_place.EndBlock(a);
    ModelWriter b = in_place.BeginBlock();
    b.PutShared<ItemNeighbours>(table, SaveNeighbours);
    in_place.EndBlock(b);
    ModelWriter empty = in_place.BeginBlock();
    in_place.EndBlock(empty);
    in_place.PutStored(std::span<const uint64_t>(wide));
  }
  ASSERT_EQ(in_place.bytes().size(), copied.bytes().size());
  EXPECT_TRUE(in_place.bytes() == copied.bytes());

  ModelReader in(in_place.bytes(), "test");
  uint8_t tag = 0, inner_tag = 0;
  uint16_t nested_tag = 0;
  ModelReader ra(""), rn(""), rb(""), re("");
  StoredArray<float> f;
  StoredArray<uint64_t> w, w2;
  std::shared_ptr<const ItemNeighbours> x, y;
  ASSERT_TRUE(in.Get(&tag) && in.GetBlock(&ra, "a") && in.GetBlock(&rb, "b") && in.GetBlock(&re, "e") &&
              in.GetStored(&w2));
  ASSERT_TRUE(ra.Get(&inner_tag) && ra.GetStored(&f) && ra.GetShared<ItemNeighbours>(&x, LoadNeighbours) &&
              ra.GetBlock(&rn, "nested"));
  ASSERT_TRUE(rn.Get(&nested_tag) && rn.GetStored(&w));
  ASSERT_TRUE(rb.GetShared<ItemNeighbours>(&y, LoadNeighbours)) << rb.status().ToString();
  EXPECT_TRUE(in.Finish().ok() && ra.Finish().ok() && rn.Finish().ok() && rb.Finish().ok() &&
              re.Finish().ok());
  EXPECT_EQ(tag, 1);
  EXPECT_EQ(inner_tag, 7);
  EXPECT_EQ(nested_tag, 3);
  EXPECT_EQ(std::vector<float>(f.begin(), f.end()), floats);
  EXPECT_EQ(std::vector<uint64_t>(w.begin(), w.end()), wide);
  EXPECT_EQ(std::vector<uint64_t>(w2.begin(), w2.end()), wide);
  EXPECT_EQ(x.get(), y.get());
}

TEST(ModelIoTest, SharedObjectsAreWrittenOnceAndReadBackAsOne) {
  auto table = std::make_shared<const ItemNeighbours>(BuildCosineNeighbours(Clustered(), 0, 1));
  ModelWriter out;
  ModelWriter a = out.Child(), b = out.Child();
  a.PutShared<ItemNeighbours>(table, SaveNeighbours);
  b.PutShared<ItemNeighbours>(table, SaveNeighbours);
  EXPECT_LT(b.bytes().size(), 16u);  // a reference, not the table
  out.PutBlock(a);
  out.PutBlock(b);

  ModelReader in(out.bytes(), "test");
  ModelReader ra(""), rb("");
  ASSERT_TRUE(in.GetBlock(&ra, "a") && in.GetBlock(&rb, "b"));
  std::shared_ptr<const ItemNeighbours> x, y;
  ASSERT_TRUE(ra.GetShared<ItemNeighbours>(&x, LoadNeighbours)) << ra.status().ToString();
  ASSERT_TRUE(rb.GetShared<ItemNeighbours>(&y, LoadNeighbours)) << rb.status().ToString();
  EXPECT_EQ(x.get(), y.get());
  EXPECT_EQ(std::vector<float>(x->sim.begin(), x->sim.end()),
            std::vector<float>(table->sim.begin(), table->sim.end()));

  // A reference read before (or without) the object is Corruption.
  ModelReader alone(b.bytes(), "test");
  std::shared_ptr<const ItemNeighbours> z;
  EXPECT_FALSE(alone.GetShared<ItemNeighbours>(&z, LoadNeighbours));
  EXPECT_TRUE(alone.status().IsCorruption());
}

// recentknn1/5/20 of one blend fit one cosine table, store it once and load
// it as one object.
TEST(ModelsPersistenceTest, RecentKnnComponentsShareOneNeighbourTable) {
  const Dataset data = Clustered();
  FusedOptions fo;
  fo.threads = 1;
  fo.learn_weights = false;
  ComponentConfig config;
  config.threads = 1;
  Fused shared(DefaultFusedComponents(data.num_items(), config), fo);
  ASSERT_TRUE(shared.Fit(data).ok());
  ModelWriter shared_out;
  ASSERT_TRUE(shared.Save(shared_out).ok());
  // The same blend, each component with a cache of its own.
  std::vector<Fused::Component> own;
  for (const Fused::Component& c : DefaultFusedComponents(data.num_items(), config)) {
    ComponentConfig alone = config;
    alone.neighbour_cache = std::make_shared<NeighbourCache>();
    own.push_back({c.name, DefaultComponentFactory(c.name, alone), c.weight});
  }
  Fused separate(std::move(own), fo);
  ASSERT_TRUE(separate.Fit(data).ok());
  ModelWriter separate_out;
  ASSERT_TRUE(separate.Save(separate_out).ok());
  ModelWriter one;
  SaveNeighbours(BuildCosineNeighbours(data, 0, 1), one);
  // Two of the three tables become references (a few bytes each).
  const double saved = static_cast<double>(separate_out.bytes().size()) -
                       static_cast<double>(shared_out.bytes().size());
  EXPECT_NEAR(saved, 2.0 * static_cast<double>(one.bytes().size()), 64.0);

  auto component = [](const Fused& f, const std::string& name) {
    for (size_t j = 0; j < f.num_components(); ++j) {
      if (f.component_name(j) == name) return dynamic_cast<const RecentKnn*>(&f.component(j));
    }
    return static_cast<const RecentKnn*>(nullptr);
  };
  const RecentKnn* r1 = component(shared, "recentknn1");
  const RecentKnn* r20 = component(shared, "recentknn20");
  ASSERT_TRUE(r1 && r20);
  EXPECT_EQ(r1->neighbours().get(), r20->neighbours().get());

  auto owner = std::make_shared<std::vector<uint64_t>>((shared_out.bytes().size() + 7) / 8);
  std::memcpy(owner->data(), shared_out.bytes().data(), shared_out.bytes().size());
  ModelReader in(std::string_view(reinterpret_cast<const char*>(owner->data()),
                                  shared_out.bytes().size()),
                 "test", owner);
  Fused loaded(DefaultFusedComponents(data.num_items(), config), fo);
  ASSERT_TRUE(loaded.Load(in).ok()) << in.status().ToString();
  const RecentKnn* l1 = component(loaded, "recentknn1");
  const RecentKnn* l5 = component(loaded, "recentknn5");
  ASSERT_TRUE(l1 && l5);
  EXPECT_EQ(l1->neighbours().get(), l5->neighbours().get());
  EXPECT_TRUE(l1->neighbours()->sim.is_view());
}

}  // namespace
}  // namespace recdb::models

namespace recdb::models {
namespace {

// iALS user factors (4 x factors bytes per user, most of a large model) are
// a view of a mapped file after Load, and score and warm-start as fitted.
TEST(ModelsPersistenceTest, IalsUserFactorsAreViewedInPlace) {
  const Dataset data = Clustered();
  IalsOptions o;
  o.factors = 8;
  o.threads = 1;
  auto fitted_ptr = std::make_shared<Ials>(o);
  Ials& fitted = *fitted_ptr;
  ASSERT_TRUE(fitted.Fit(data).ok());
  ModelWriter out;
  ASSERT_TRUE(fitted.Save(out).ok());
  auto owner = std::make_shared<std::vector<uint64_t>>((out.bytes().size() + 7) / 8);
  std::memcpy(owner->data(), out.bytes().data(), out.bytes().size());
  const char* begin = reinterpret_cast<const char*>(owner->data());
  ModelReader in(std::string_view(begin, out.bytes().size()), "test", owner);
  auto loaded = std::make_shared<Ials>(o);
  ASSERT_TRUE(loaded->Load(in).ok()) << in.status().ToString();
  const char* users = reinterpret_cast<const char*>(loaded->user_factors().data());
  EXPECT_TRUE(users >= begin && users < begin + out.bytes().size()) << "a view, not a copy";
  EXPECT_EQ(loaded->user_factors(), fitted.user_factors());
  EXPECT_EQ(ScoreAll(*loaded, data), ScoreAll(fitted, data));
  // A warm start from the loaded model starts from the same factors.
  Ials warm_from_loaded(o), warm_from_fitted(o);
  ASSERT_TRUE(warm_from_loaded.WarmStart(loaded));
  ASSERT_TRUE(warm_from_fitted.WarmStart(fitted_ptr));
  ASSERT_TRUE(warm_from_loaded.Fit(data).ok());
  ASSERT_TRUE(warm_from_fitted.Fit(data).ok());
  EXPECT_EQ(warm_from_loaded.user_factors(), warm_from_fitted.user_factors());
}

}  // namespace
}  // namespace recdb::models
