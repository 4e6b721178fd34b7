// Derived indexes: checkpoint load, log catch-up, damaged/stale checkpoints
// rebuilt from RocksDB, log truncation, background compaction.
#include <filesystem>
#include <fstream>

#include "engine/spaces/space_codec.h"
#include "spaces_test_util.h"

namespace recdb::test {
namespace {

namespace fs = std::filesystem;

constexpr int kDim = 16;

class SpacesRecoveryTest : public SpacesTest {
 protected:
  void Populate(int items) {
    OpenDb();
    AddItems(items);
    AddUsers(20);
    ASSERT_TRUE(db_->CreateSpace(Space("s", kDim)).ok());
    ASSERT_TRUE(
        db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(items, kDim)).ok());
    std::vector<VectorRecord> users;
    std::mt19937 rng(5);
    for (int i = 0; i < 20; ++i) users.push_back({"u" + std::to_string(i), RandomVector(&rng, kDim)});
    ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kUser, users).ok());
  }

  // Top-10 ids of a few fixed queries.
  std::vector<std::vector<std::string>> Results() {
    std::vector<std::vector<std::string>> out;
    std::mt19937 rng(77);
    for (int q = 0; q < 8; ++q) {
      auto hits = Api()->SearchSimilar("s", RandomVector(&rng, kDim), 10);
      EXPECT_TRUE(hits.ok()) << hits.status().ToString();
      std::vector<std::string> ids;
      if (hits.ok()) {
        for (const ScoredItem& h : *hits) ids.push_back(h.id);
      }
      out.push_back(ids);
    }
    return out;
  }

  std::string ItemIndexPath() { return *spaces_->IndexPath("s", EntityKind::kItem); }

  size_t LogEntries() {
    rocksdb::ReadOptions ro;
    auto it = db_->store()->NewIterator(storage::ColumnFamily::kVectorLog, ro);
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }
};

TEST_F(SpacesRecoveryTest, CleanCloseLoadsTheCheckpoint) {
  Populate(500);
  const auto before = Results();
  Reopen();
  const SpaceManager::Stats st = spaces_->stats();
  EXPECT_EQ(st.index_loads, 2u);
  EXPECT_EQ(st.index_rebuilds, 0u) << ::testing::PrintToString(spaces_->rebuild_reasons());
  EXPECT_EQ(st.log_replayed, 0u);
  EXPECT_EQ(Results(), before);
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 500);
  EXPECT_EQ(db_->DescribeSpace("s")->user_vectors, 20);
  EXPECT_GT(db_->DescribeSpace("s")->checkpoint_sequence, 0u);
}

TEST_F(SpacesRecoveryTest, CheckpointTruncatesTheLog) {
  Populate(100);
  EXPECT_EQ(LogEntries(), 120u);
  ASSERT_TRUE(db_->CheckpointIndexes().ok());
  EXPECT_EQ(LogEntries(), 0u);
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(5, kDim, 0, 3)).ok());
  EXPECT_EQ(LogEntries(), 5u);
}

TEST_F(SpacesRecoveryTest, CatchesUpFromTheLogAfterACrash) {
  Populate(300);
  ASSERT_TRUE(db_->CheckpointIndexes().ok());
  AddItems(200, 300);
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(200, kDim, 300)).ok());
  std::vector<std::string> gone;
  for (int i = 0; i < 10; ++i) gone.push_back("i" + std::to_string(i * 7));
  ASSERT_TRUE(db_->DeleteVectors(WriteOptions{}, "s", EntityKind::kItem, gone).ok());
  // Overwrite one vector: replay must end with the newest value.
  std::vector<float> moved(kDim, 0.0f);
  moved[0] = 1.0f;
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, {{"i1", moved}}).ok());
  const auto before = Results();
  CrashDb();

  OpenDb();
  const SpaceManager::Stats st = spaces_->stats();
  EXPECT_EQ(st.index_loads, 2u);
  EXPECT_EQ(st.index_rebuilds, 0u) << ::testing::PrintToString(spaces_->rebuild_reasons());
  EXPECT_EQ(st.log_replayed, 211u);
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 490);
  EXPECT_EQ(Results(), before);
  for (const std::string& id : gone) {
    EXPECT_TRUE(db_->GetVector("s", EntityKind::kItem, id).status().IsNotFound());
  }
  auto top = Api()->SearchSimilar("s", moved, 1);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ((*top)[0].id, "i1");
  auto hits = Api()->SearchSimilarToItem("s", "i450", 5);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
}

TEST_F(SpacesRecoveryTest, CrashBeforeAnyCheckpointRebuilds) {
  Populate(200);
  const auto before = Results();
  CrashDb();
  OpenDb();
  EXPECT_EQ(spaces_->stats().index_rebuilds, 2u);
  EXPECT_EQ(Results(), before);
}

enum class Damage { kFlipByte, kTruncate, kDelete, kGarbage, kOtherDimension };

class SpacesDamageTest : public SpacesRecoveryTest,
                         public ::testing::WithParamInterface<Damage> {};

TEST_P(SpacesDamageTest, DamagedCheckpointIsDetectedAndRebuilt) {
  Populate(400);
  if (GetParam() == Damage::kOtherDimension) {
    ASSERT_TRUE(db_->CreateSpace(Space("other", 8)).ok());
    ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "other", EntityKind::kItem, ItemVectors(50, 8)).ok());
  }
  const std::string other_path =
      GetParam() == Damage::kOtherDimension ? *spaces_->IndexPath("other", EntityKind::kItem) : "";
  const auto before = Results();
  const std::string path = ItemIndexPath();
  CloseDb();
  ASSERT_TRUE(fs::exists(path));
  const auto size = fs::file_size(path);
  switch (GetParam()) {
    case Damage::kFlipByte: {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(size / 2));
      char c;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x5a);
      f.seekp(static_cast<std::streamoff>(size / 2));
      f.write(&c, 1);
      break;
    }
    case Damage::kTruncate:
      fs::resize_file(path, size / 2);
      break;
    case Damage::kDelete:
      fs::remove(path);
      break;
    case Damage::kGarbage: {
      std::ofstream f(path, std::ios::binary | std::ios::trunc);
      f << std::string(4096, 'x');
      break;
    }
    case Damage::kOtherDimension:
      fs::copy_file(other_path, path, fs::copy_options::overwrite_existing);
      break;
  }
  OpenDb();
  const SpaceManager::Stats st = spaces_->stats();
  EXPECT_EQ(st.index_rebuilds, 1u);  // the item index of "s" only
  ASSERT_EQ(spaces_->rebuild_reasons().size(), 1u);
  EXPECT_NE(spaces_->rebuild_reasons()[0].find("item"), std::string::npos);
  EXPECT_EQ(Results(), before);
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 400);
  // The next checkpoint replaces the damaged file; the open after it loads.
  Reopen();
  EXPECT_EQ(spaces_->stats().index_rebuilds, 0u);
  EXPECT_EQ(Results(), before);
}

INSTANTIATE_TEST_SUITE_P(All, SpacesDamageTest,
                         ::testing::Values(Damage::kFlipByte, Damage::kTruncate, Damage::kDelete,
                                           Damage::kGarbage, Damage::kOtherDimension));

TEST_F(SpacesRecoveryTest, CheckpointOlderThanTheLogIsRebuilt) {
  Populate(200);
  ASSERT_TRUE(db_->CheckpointIndexes().ok());
  const std::string path = ItemIndexPath();
  const std::string old_copy = dir_.Sub("old.hnsw");
  fs::copy_file(path, old_copy);
  AddItems(50, 200);
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(50, kDim, 200)).ok());
  ASSERT_TRUE(db_->CheckpointIndexes().ok());  // truncates the log past the old copy
  const auto before = Results();
  CloseDb();
  fs::copy_file(old_copy, path, fs::copy_options::overwrite_existing);
  OpenDb();
  EXPECT_EQ(spaces_->stats().index_rebuilds, 1u);
  ASSERT_EQ(spaces_->rebuild_reasons().size(), 1u);
  EXPECT_NE(spaces_->rebuild_reasons()[0].find("truncated"), std::string::npos)
      << spaces_->rebuild_reasons()[0];
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 250);
  EXPECT_EQ(Results(), before);
}

TEST_F(SpacesRecoveryTest, HeavyDeletionCompactsInTheBackground) {
  Populate(300);
  std::vector<std::string> gone;
  for (int i = 0; i < 100; ++i) gone.push_back("i" + std::to_string(i * 3));
  ASSERT_TRUE(db_->DeleteVectors(WriteOptions{}, "s", EntityKind::kItem, gone).ok());
  EXPECT_EQ(spaces_->stats().compactions, 0u);
  // Writes after the rebuild was queued must reach the new index too.
  AddItems(10, 300);
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(10, kDim, 300)).ok());
  EXPECT_GE(db_->scheduler()->RunPending(), 1u);
  EXPECT_EQ(spaces_->stats().compactions, 1u);
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 210);
  for (const std::string& id : gone) {
    auto v = db_->GetVector("s", EntityKind::kItem, "i1");
    ASSERT_TRUE(v.ok());
    auto hits = Api()->SearchSimilar("s", *v, 50);
    ASSERT_TRUE(hits.ok());
    for (const ScoredItem& h : *hits) EXPECT_NE(h.id, id);
  }
  auto self = Api()->SearchSimilar("s", *db_->GetVector("s", EntityKind::kItem, "i305"), 1);
  ASSERT_TRUE(self.ok());
  EXPECT_EQ((*self)[0].id, "i305");
}

TEST_F(SpacesRecoveryTest, PeriodicCheckpointRunsOnTheScheduler) {
  Populate(50);
  EXPECT_EQ(spaces_->stats().checkpoints, 0u);
  db_->scheduler()->AdvanceBy(std::chrono::seconds(301));
  EXPECT_EQ(spaces_->stats().checkpoints, 2u);
  EXPECT_EQ(LogEntries(), 0u);
  // Nothing changed: the next period writes nothing.
  db_->scheduler()->AdvanceBy(std::chrono::seconds(301));
  EXPECT_EQ(spaces_->stats().checkpoints, 2u);
}

TEST_F(SpacesRecoveryTest, DropRemovesVectorsLogAndFiles) {
  Populate(50);
  ASSERT_TRUE(db_->CheckpointIndexes().ok());
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, ItemVectors(5, kDim, 0, 2)).ok());
  const std::string path = ItemIndexPath();
  ASSERT_TRUE(fs::exists(path));
  ASSERT_TRUE(db_->DropSpace("s").ok());
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(LogEntries(), 0u);
  {
    rocksdb::ReadOptions ro;
    auto it = db_->store()->NewIterator(storage::ColumnFamily::kVectors, ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint32_t sid = 0, iid = 0;
      storage::EntityKind k;
      EXPECT_FALSE(spaces::ParseVectorKey(it->key().ToStringView(), &sid, &k, &iid))
          << "vector left behind";
    }
  }
  // A new space of the same name starts empty (new id, no stale file).
  ASSERT_TRUE(db_->CreateSpace(Space("s", kDim)).ok());
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 0);
  Reopen();
  EXPECT_EQ(db_->DescribeSpace("s")->item_vectors, 0);
}

}  // namespace
}  // namespace recdb::test
