// Checkpoint files: round trip, and every kind of damage is a Status, never a
// crash (run under ASan to prove "never trusts the file").
#include "index/index_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>

#include "clustered_data.h"
#include "common/crc32c.h"
#include "index/hnsw_index.h"
#include "test_util.h"

namespace recdb::index {
namespace {

constexpr uint32_t kDim = 16;

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class IndexFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = test::MakeClustered(400, kDim, 8, 21);
    HnswOptions options;
    options.m = 8;
    options.ef_construction = 50;
    index_ = HnswIndex::Create(kDim, Metric::kCosine, options).value();
    for (size_t i = 0; i < data_.size(); ++i) ASSERT_TRUE(index_->Add(i * 2, data_.Row(i)).ok());
    ASSERT_TRUE(index_->Remove(10).ok());
    index_->set_covered_sequence(123456789012345ull);
    path_ = dir_.Sub("space.hnsw");
    ASSERT_TRUE(index_->Save(path_).ok());
    bytes_ = ::recdb::test::ReadFileOrEmpty(path_);
    ASSERT_GT(bytes_.size(), kIndexFileHeaderSize);
  }

  StatusOr<std::unique_ptr<HnswIndex>> LoadBytes(const std::string& bytes) {
    const std::string p = dir_.Sub("damaged.hnsw");
    WriteBytes(p, bytes);
    return HnswIndex::Load(p, kDim, Metric::kCosine);
  }

  ::recdb::test::TempDir dir_;
  test::Dataset data_;
  std::unique_ptr<HnswIndex> index_;
  std::string path_;
  std::string bytes_;
};

TEST_F(IndexFileTest, RoundTripPreservesContentsAndSequence) {
  EXPECT_NE(access((path_ + ".tmp").c_str(), F_OK), 0);  // temp file renamed away
  auto loaded = HnswIndex::Load(path_, kDim, Metric::kCosine);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  HnswIndex& l = **loaded;
  EXPECT_EQ(l.covered_sequence(), 123456789012345ull);
  EXPECT_EQ(l.Size(), index_->Size());
  EXPECT_EQ(l.DeletedFraction(), index_->DeletedFraction());
  EXPECT_FALSE(l.Contains(10));
  EXPECT_TRUE(l.Contains(12));
  EXPECT_EQ(*l.Get(12), *index_->Get(12));
  EXPECT_EQ(l.options().m, 8u);
  EXPECT_EQ(l.options().ef_construction, 50u);
  for (size_t q = 0; q < 20; ++q) {
    EXPECT_EQ(*l.Search(data_.Row(q * 7), 10), *index_->Search(data_.Row(q * 7), 10));
  }
  // The loaded index keeps working: insert (growing capacity), save again.
  for (uint32_t i = 0; i < 50; ++i) ASSERT_TRUE(l.Add(10000 + i, data_.Row(i)).ok());
  ASSERT_TRUE(l.Save(path_).ok());
  auto again = HnswIndex::Load(path_, kDim, Metric::kCosine);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Size(), index_->Size() + 50);
}

TEST_F(IndexFileTest, EmptyIndexRoundTrips) {
  auto empty = HnswIndex::Create(kDim, Metric::kL2).value();
  const std::string p = dir_.Sub("empty.hnsw");
  ASSERT_TRUE(empty->Save(p).ok());
  auto loaded = HnswIndex::Load(p, kDim, Metric::kL2);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->Size(), 0u);
  std::vector<float> v(kDim, 1.0f);
  ASSERT_TRUE((*loaded)->Add(1, v).ok());
  EXPECT_EQ((*(*loaded)->Search(v, 1))[0].id, 1u);
}

TEST_F(IndexFileTest, TruncationIsCorruption) {
  const size_t n = bytes_.size();
  for (size_t len : {size_t{0}, size_t{1}, size_t{8}, kIndexFileHeaderSize - 1,
                     kIndexFileHeaderSize, kIndexFileHeaderSize + 1, kIndexFileHeaderSize + 100,
                     n / 2, n - 5, n - 1}) {
    auto r = LoadBytes(bytes_.substr(0, len));
    EXPECT_TRUE(r.status().IsCorruption()) << "length " << len << ": " << r.status().ToString();
  }
  auto r = LoadBytes(bytes_ + "x");
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
}

TEST_F(IndexFileTest, EverySampledByteFlipIsCorruption) {
  std::mt19937 rng(5);
  std::vector<size_t> offsets;
  for (size_t i = 0; i < kIndexFileHeaderSize; ++i) offsets.push_back(i);  // all header bytes
  std::uniform_int_distribution<size_t> pick(kIndexFileHeaderSize, bytes_.size() - 1);
  for (int i = 0; i < 150; ++i) offsets.push_back(pick(rng));
  offsets.push_back(bytes_.size() - 1);
  for (size_t off : offsets) {
    std::string damaged = bytes_;
    damaged[off] = static_cast<char>(damaged[off] ^ (1 << (off % 8)));
    auto r = LoadBytes(damaged);
    EXPECT_TRUE(r.status().IsCorruption()) << "offset " << off << ": " << r.status().ToString();
  }
}

TEST_F(IndexFileTest, WrongDimensionMetricOrMissingFile) {
  auto r = HnswIndex::Load(path_, kDim + 1, Metric::kCosine);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  r = HnswIndex::Load(path_, kDim, Metric::kL2);
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  r = HnswIndex::Load(dir_.Sub("missing.hnsw"), kDim, Metric::kCosine);
  EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
  r = LoadBytes(std::string(4096, 'z'));
  EXPECT_TRUE(r.status().IsCorruption());
}

TEST_F(IndexFileTest, NewerVersionIsNotSupported) {
  std::string future = bytes_;
  const uint32_t v = kIndexFileVersion + 1;
  std::memcpy(&future[8], &v, 4);
  const uint32_t crc = Crc32c(future.data(), 92);
  std::memcpy(&future[92], &crc, 4);
  EXPECT_EQ(LoadBytes(future).status().code(), StatusCode::kNotSupported);
}

// A checksum-valid file whose element count (header and payload agree) the
// payload cannot hold is Corruption before Load sizes a graph for it (here
// ~40 GB of hnswlib locks and arrays).
TEST_F(IndexFileTest, ElementCountBeyondThePayloadIsCorruption) {
  IndexFileHeader h;
  h.kind = IndexKind::kHnsw;
  h.dimension = kDim;
  h.metric = Metric::kCosine;
  h.m = 8;
  h.ef_construction = 50;
  h.element_count = uint64_t{1} << 30;
  h.live_count = 1;
  std::string payload = bytes_.substr(kIndexFileHeaderSize, 4096);
  std::memcpy(&payload[16], &h.element_count, 8);  // the preamble's cur_element_count
  const std::string p = dir_.Sub("huge_count.hnsw");
  auto writer = IndexFileWriter::Create(Env::Default(), p);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(payload.data(), payload.size()).ok());
  ASSERT_TRUE((*writer)->Finish(h).ok());
  auto r = HnswIndex::Load(p, kDim, Metric::kCosine);
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("hnsw payload: short"), std::string::npos)
      << r.status().ToString();
}

// A removed vector's bytes are gone from the next checkpoint (docs/DESIGN.md 9).
TEST_F(IndexFileTest, RemovedVectorIsNotInTheSavedFile) {
  auto index = HnswIndex::Create(kDim, Metric::kL2).value();
  std::vector<float> secret(kDim);
  for (uint32_t i = 0; i < kDim; ++i) secret[i] = 1234.5678f + static_cast<float>(i) * 0.001f;
  for (size_t i = 0; i < 100; ++i) ASSERT_TRUE(index->Add(i, data_.Row(i)).ok());
  ASSERT_TRUE(index->Add(777, secret).ok());
  const std::string needle(reinterpret_cast<const char*>(secret.data()), 8);  // 2 floats

  const std::string before = dir_.Sub("before.hnsw");
  ASSERT_TRUE(index->Save(before).ok());
  ASSERT_NE(::recdb::test::ReadFileOrEmpty(before).find(needle), std::string::npos);

  ASSERT_TRUE(index->Remove(777).ok());
  const std::string after = dir_.Sub("after.hnsw");
  ASSERT_TRUE(index->Save(after).ok());
  const std::string bytes = ::recdb::test::ReadFileOrEmpty(after);
  for (uint32_t i = 0; i + 1 < kDim; ++i) {
    const std::string pair(reinterpret_cast<const char*>(secret.data() + i), 8);
    EXPECT_EQ(bytes.find(pair), std::string::npos) << "floats " << i << ".." << i + 1;
  }
  auto loaded = HnswIndex::Load(after, kDim, Metric::kL2);
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE((*loaded)->Contains(777));
}

TEST_F(IndexFileTest, SaveToUnwritableDirectoryIsIOError) {
  EXPECT_TRUE(index_->Save(dir_.Sub("no/such/dir/x.hnsw")).IsIOError());
}

}  // namespace
}  // namespace recdb::index
