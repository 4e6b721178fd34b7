// docs/DESIGN.md decision 9 for vectors: a deleted vector's bytes are in no file
// of the database directory after the next index checkpoint.
#include <cstring>
#include <filesystem>

#include "index/vector_math.h"
#include "spaces_test_util.h"

namespace recdb::test {
namespace {

namespace fs = std::filesystem;

// Files under `dir` (recursively) that contain `needle` byte-for-byte.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string bytes = ReadFileOrEmpty(e.path().string());
    if (bytes.find(needle) != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

std::string Bytes(const std::vector<float>& v, size_t from, size_t n) {
  return std::string(reinterpret_cast<const char*>(v.data() + from), n * sizeof(float));
}

class SpacesPrivacyTest : public SpacesTest, public ::testing::WithParamInterface<Metric> {};

TEST_P(SpacesPrivacyTest, DeletedVectorBytesLeaveEveryFile) {
  OpenDb();
  AddItems(200);
  ASSERT_TRUE(db_->CreateSpace(Space("s", 16, GetParam())).ok());
  auto vectors = ItemVectors(200, 16, 0, 11);
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, vectors).ok());
  // The index stores the normalised vector under cosine: look for that too.
  auto stored = [&](int i) {
    std::vector<float> v = vectors[i].values;
    if (GetParam() == Metric::kCosine) {
      EXPECT_TRUE(index::NormalizeInPlace(v.data(), v.size()).ok());
    }
    return v;
  };
  const int victim = 42, control = 43;
  ASSERT_TRUE(db_->CheckpointIndexes().ok());
  ASSERT_TRUE(db_->store()->Flush().ok());
  // Positive control: before the delete, both the raw bytes (RocksDB) and
  // the index's bytes are found, so the scan below can see them.
  EXPECT_FALSE(FilesContaining(dir_.path(), Bytes(vectors[victim].values, 0, 4)).empty());
  EXPECT_FALSE(FilesContaining(dir_.path(), Bytes(stored(victim), 0, 4)).empty());

  ASSERT_TRUE(db_->DeleteVectors(WriteOptions{}, "s", EntityKind::kItem, {"i42"}).ok());
  ASSERT_TRUE(db_->CheckpointIndexes().ok());

  for (const std::vector<float>& v : {vectors[victim].values, stored(victim)}) {
    for (size_t from : {size_t{0}, size_t{6}, size_t{12}}) {
      auto found = FilesContaining(dir_.path(), Bytes(v, from, 4));
      EXPECT_TRUE(found.empty()) << "deleted vector bytes [" << from << ", " << from + 4
                                 << ") still in " << ::testing::PrintToString(found);
    }
  }
  // The neighbour is untouched.
  EXPECT_FALSE(FilesContaining(dir_.path(), Bytes(vectors[control].values, 0, 4)).empty());
  EXPECT_FALSE(FilesContaining(dir_.path(), Bytes(stored(control), 0, 4)).empty());
  // And stays gone after a reopen.
  Reopen();
  EXPECT_TRUE(db_->GetVector("s", EntityKind::kItem, "i42").status().IsNotFound());
  EXPECT_TRUE(FilesContaining(dir_.path(), Bytes(vectors[victim].values, 0, 4)).empty());
}

INSTANTIATE_TEST_SUITE_P(Metrics, SpacesPrivacyTest,
                         ::testing::Values(Metric::kCosine, Metric::kL2));

TEST_F(SpacesTest, DroppedSpaceBytesLeaveEveryFile) {
  OpenDb();
  AddItems(100);
  ASSERT_TRUE(db_->CreateSpace(Space("s", 8, Metric::kL2)).ok());
  auto vectors = ItemVectors(100, 8, 0, 19);
  ASSERT_TRUE(db_->PutVectors(WriteOptions{}, "s", EntityKind::kItem, vectors).ok());
  ASSERT_TRUE(db_->CheckpointIndexes().ok());
  ASSERT_TRUE(db_->store()->Flush().ok());
  const std::string needle = Bytes(vectors[7].values, 0, 4);
  EXPECT_FALSE(FilesContaining(dir_.path(), needle).empty());
  ASSERT_TRUE(db_->DropSpace("s").ok());
  EXPECT_TRUE(FilesContaining(dir_.path(), needle).empty());
}

}  // namespace
}  // namespace recdb::test
