// Embedding spaces: definitions, vector writes and reads, validation.
#include <cmath>
#include <limits>

#include "spaces_test_util.h"

namespace recdb::test {
namespace {

TEST_F(SpacesTest, CreateListDescribeDrop) {
  OpenDb();
  SpaceOptions a = Space("text", 8);
  a.hnsw_m = 8;
  SpaceOptions b = Space("image.v2", 4, Metric::kL2);
  ASSERT_TRUE(db_->CreateSpace(a).ok());
  ASSERT_TRUE(db_->CreateSpace(b).ok());
  EXPECT_EQ(db_->CreateSpace(a).code(), StatusCode::kAlreadyExists);

  auto list = db_->ListSpaces();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].options, b);  // by name: "image.v2" < "text"
  EXPECT_EQ((*list)[1].options, a);

  auto info = db_->DescribeSpace("text");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->options, a);
  EXPECT_EQ(info->item_vectors, 0);

  // Definitions survive a reopen.
  Reopen();
  info = db_->DescribeSpace("text");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->options, a);

  ASSERT_TRUE(db_->DropSpace("text").ok());
  EXPECT_TRUE(db_->DescribeSpace("text").status().IsNotFound());
  EXPECT_TRUE(db_->DropSpace("text").IsNotFound());
  Reopen();
  list = db_->ListSpaces();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].options.name, "image.v2");
}

TEST_F(SpacesTest, CreateRejectsBadOptions) {
  OpenDb();
  SpaceOptions o = Space("bad name", 8);
  EXPECT_TRUE(db_->CreateSpace(o).IsInvalidArgument());
  o = Space("", 8);
  EXPECT_TRUE(db_->CreateSpace(o).IsInvalidArgument());
  o = Space(std::string(kMaxSpaceNameBytes + 1, 'n'), 8);
  EXPECT_TRUE(db_->CreateSpace(o).IsInvalidArgument());
  o = Space("ok", 0);
  EXPECT_TRUE(db_->CreateSpace(o).IsInvalidArgument());
  o = Space("ok", kMaxVectorDimension + 1);
  EXPECT_TRUE(db_->CreateSpace(o).IsInvalidArgument());
  o = Space("ok", 8);
  o.hnsw_m = 1;
  EXPECT_TRUE(db_->CreateSpace(o).IsInvalidArgument());
  o = Space("ok", 8);
  o.hnsw_ef_search = 0;
  EXPECT_TRUE(db_->CreateSpace(o).IsInvalidArgument());
  EXPECT_TRUE(db_->ListSpaces()->empty());
  // The limits themselves are allowed.
  EXPECT_TRUE(db_->CreateSpace(Space(std::string(kMaxSpaceNameBytes, 'n'), 8)).ok());
  EXPECT_TRUE(db_->CreateSpace(Space("widest", kMaxVectorDimension)).ok());
}

TEST_F(SpacesTest, PutGetDelete) {
  OpenDb();
  AddItems(10);
  AddUsers(3);
  ASSERT_TRUE(db_->CreateSpace(Space("s", 4)).ok());
  std::vector<VectorRecord> items = {{"i1", {1, 2, 3, 4}}, {"i2", {0, 0, 1, 0}}};
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, items).ok());
  ASSERT_TRUE(
      db_->PutVectors(WriteOptions{}, "s", EntityKind::kUser, {{"u0", {4, 3, 2, 1}}}).ok());

  auto v = db_->GetVector("s", EntityKind::kItem, "i1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (std::vector<float>{1, 2, 3, 4}));  // as given, not normalised
  v = db_->GetVector("s", EntityKind::kUser, "u0");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (std::vector<float>{4, 3, 2, 1}));
  EXPECT_TRUE(db_->GetVector("s", EntityKind::kItem, "i3").status().IsNotFound());
  EXPECT_TRUE(db_->GetVector("s", EntityKind::kItem, "nope").status().IsNotFound());
  EXPECT_TRUE(db_->GetVector("t", EntityKind::kItem, "i1").status().IsNotFound());

  auto info = db_->DescribeSpace("s");
  EXPECT_EQ(info->item_vectors, 2);
  EXPECT_EQ(info->user_vectors, 1);

  // Replace: a later record in one batch wins.
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem,
                              {{"i1", {9, 9, 9, 9}}, {"i1", {1, 0, 0, 0}}})
                  .ok());
  EXPECT_EQ(*db_->GetVector("s", EntityKind::kItem, "i1"), (std::vector<float>{1, 0, 0, 0}));
  auto hits = Api()->SearchSimilar("s", {1, 0, 0, 0}, 1);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, "i1");
  EXPECT_NEAR((*hits)[0].score, 1.0f, 1e-5);

  // Delete: unknown ids and ids without a vector are skipped.
  ASSERT_TRUE(
      db_->DeleteVectors(WriteOptions{}, "s", EntityKind::kItem, {"i1", "i5", "ghost"}).ok());
  EXPECT_TRUE(db_->GetVector("s", EntityKind::kItem, "i1").status().IsNotFound());
  hits = Api()->SearchSimilar("s", {1, 0, 0, 0}, 5);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, "i2");
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 1);

  // Everything survives a reopen (checkpoint + log).
  Reopen();
  EXPECT_TRUE(db_->GetVector("s", EntityKind::kItem, "i1").status().IsNotFound());
  EXPECT_EQ(*db_->GetVector("s", EntityKind::kItem, "i2"), (std::vector<float>{0, 0, 1, 0}));
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 1);
  EXPECT_EQ(db_->DescribeSpace("s")->user_vectors, 1);
}

TEST_F(SpacesTest, InvalidBatchesWriteNothing) {
  OpenDb();
  AddItems(5);
  ASSERT_TRUE(db_->CreateSpace(Space("s", 3)).ok());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    std::vector<VectorRecord> batch;
    std::string needle;  // expected in the message
  };
  const std::vector<Case> cases = {
      {{{"i0", {1, 2, 3}}, {"i1", {1, 2}}}, "batch[1]"},
      {{{"i0", {1, 2, 3}}, {"i1", {1, nan, 3}}}, "batch[1]"},
      {{{"i0", {1, 2, inf}}}, "batch[0]"},
      {{{"i0", {1, 2, 3}}, {"i1", {0, 0, 0}}}, "all-zero"},
      {{{"i0", {1, 2, 3}}, {"nobody", {1, 2, 3}}}, "nobody"},
  };
  for (const Case& c : cases) {
    Status s = db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, c.batch);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s.ToString();
  }
  EXPECT_TRUE(db_->GetVector("s", EntityKind::kItem, "i0").status().IsNotFound());
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 0);
  // Unknown users too.
  EXPECT_TRUE(
      db_->PutVectors(WriteOptions{}, "s", EntityKind::kUser, {{"u0", {1, 2, 3}}}).IsInvalidArgument());
  EXPECT_TRUE(db_->PutVectors(WriteOptions{}, "nope", EntityKind::kItem, {{"i0", {1, 2, 3}}})
                  .IsNotFound());
  // Nothing reached RocksDB: a reopen that rebuilds finds no vector.
  Reopen();
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 0);
  EXPECT_TRUE(db_->GetVector("s", EntityKind::kItem, "i0").status().IsNotFound());
}

TEST_F(SpacesTest, SearchValidatesAndExcludesTheItemItself) {
  OpenDb();
  AddItems(50);
  ASSERT_TRUE(db_->CreateSpace(Space("s", 8)).ok());
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(50, 8)).ok());
  EXPECT_TRUE(Api()->SearchSimilar("s", std::vector<float>(8, 1.0f), 0).status().IsInvalidArgument());
  EXPECT_TRUE(Api()->SearchSimilar("s", std::vector<float>(7, 1.0f), 3).status().IsInvalidArgument());
  EXPECT_TRUE(Api()->SearchSimilar("s", std::vector<float>(8, 0.0f), 3).status().IsInvalidArgument());
  EXPECT_TRUE(Api()->SearchSimilar("x", std::vector<float>(8, 1.0f), 3).status().IsNotFound());

  auto hits = Api()->SearchSimilarToItem("s", "i7", 10);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_EQ(hits->size(), 10u);
  for (const ScoredItem& h : *hits) EXPECT_NE(h.id, "i7");
  for (size_t i = 1; i < hits->size(); ++i) EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
  // Same neighbours as searching with its vector, minus itself.
  auto direct = Api()->SearchSimilar("s", *db_->GetVector("s", EntityKind::kItem, "i7"), 11);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ((*direct)[0].id, "i7");
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ((*hits)[i].id, (*direct)[i + 1].id);

  AddItems(1, 50);  // i50: no vector
  EXPECT_TRUE(Api()->SearchSimilarToItem("s", "i50", 3).status().IsNotFound());
  EXPECT_TRUE(Api()->SearchSimilarToItem("s", "zzz", 3).status().IsNotFound());
}

TEST_F(SpacesTest, ReadOnlyOpenServesButDoesNotWrite) {
  OpenDb();
  AddItems(20);
  ASSERT_TRUE(db_->CreateSpace(Space("s", 8)).ok());
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(20, 8)).ok());
  CloseDb();
  Options ro = SpaceTestOptions();
  ro.read_only = true;
  OpenDb(ro);
  auto hits = Api()->SearchSimilarToItem("s", "i3", 5);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_EQ(hits->size(), 5u);
  EXPECT_EQ(db_->CreateSpace(Space("t", 4)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(1, 8)).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_->CheckpointIndexes().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace recdb::test
