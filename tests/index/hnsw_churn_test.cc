// Issue #4 regression: vectors updated and removed many times must stay
// findable. Root cause of the kill -9 test's "acknowledged but not
// searchable": removed nodes stayed linked with zeroed bytes, and churn then
// cut every link into some live nodes (index/hnsw_index.cc UnlinkRemoved).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "index/hnsw_index.h"
#include "test_util.h"

namespace recdb::index {
namespace {

constexpr uint32_t kDim = 8;

std::vector<float> RandomVector(std::mt19937* rng) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> v(kDim);
  for (float& f : v) f = n(*rng);
  return v;
}

class AllowAll final : public SearchFilter {
 public:
  bool Allows(uint32_t) const override { return true; }
};

template <typename T>
T At(const std::string& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

// Every link target in a checkpoint file (index/FORMAT.md), and the removed
// slots and entry point, parsed from the bytes.
struct Links {
  std::set<uint32_t> removed;
  std::multiset<uint32_t> targets;  // of lists of nodes other than the entry point
  uint32_t entry = 0;
};
Links ParseLinks(const std::string& file, size_t m) {
  Links out;
  const size_t h = 96;
  const uint64_t count = At<uint64_t>(file, h + 16);
  const uint64_t per = At<uint64_t>(file, h + 24);
  out.entry = At<uint32_t>(file, h + 52);
  size_t off = h + 96;
  for (uint64_t i = 0; i < count; ++i, off += per) {
    const uint16_t n = At<uint16_t>(file, off);
    if ((static_cast<uint8_t>(file[off + 2]) & 1) != 0) out.removed.insert(static_cast<uint32_t>(i));
    if (i == out.entry) continue;
    for (uint16_t j = 0; j < n; ++j) out.targets.insert(At<uint32_t>(file, off + 4 + 4 * j));
  }
  for (uint64_t i = 0; i < count; ++i) {
    const uint32_t bytes = At<uint32_t>(file, off);
    off += 4;
    for (size_t level = 0; level * (4 + 4 * m) < bytes; ++level) {
      const size_t l = off + level * (4 + 4 * m);
      const uint32_t n = At<uint32_t>(file, l) & 0xffff;
      if (i == out.entry) continue;
      for (uint32_t j = 0; j < n; ++j) out.targets.insert(At<uint32_t>(file, l + 4 + 4 * j));
    }
    off += bytes;
  }
  return out;
}

// Random upserts (many of known ids, some of removed ones) and removes, as the
// kill -9 test does, with a checkpoint round trip after each round; then every
// live vector is searched for with its own bytes. `batch` > 1: the removals
// are gathered and applied by RemoveMany, `batch` at a time (with repeats and
// ids already gone mixed in).
void Churn(size_t batch) {
  test::TempDir dir;
  const std::string path = dir.path() + "/churn.hnsw";
  HnswOptions options;
  auto created = HnswIndex::Create(kDim, Metric::kL2, options);
  ASSERT_TRUE(created.ok());
  std::unique_ptr<HnswIndex> idx = std::move(created).value();
  std::mt19937 rng(99);
  std::map<uint32_t, std::vector<float>> live;
  size_t worst_misses = 0;
  std::vector<uint32_t> pending;  // removals not applied yet (batch > 1)
  for (int round = 0; round < 4; ++round) {
    for (int n = 0; n < 2000; ++n) {
      const uint32_t id = rng() % 3000;
      if (std::find(pending.begin(), pending.end(), id) != pending.end()) {
        ASSERT_TRUE(idx->RemoveMany(pending).ok());  // the removals before this upsert
        pending.clear();
      }
      live[id] = RandomVector(&rng);
      ASSERT_TRUE(idx->Upsert(id, live[id]).ok());
      if (n % 7 == 3) {
        const uint32_t d = rng() % 3000;
        if (live.erase(d) != 0) {
          if (batch <= 1) {
            ASSERT_TRUE(idx->Remove(d).ok());
          } else {
            pending.push_back(d);
            pending.push_back(d);         // a repeat: skipped
            pending.push_back(d + 5000);  // never added: skipped
          }
        }
      }
      if (pending.size() >= 3 * batch) {
        auto removed = idx->RemoveMany(pending);
        ASSERT_TRUE(removed.ok());
        EXPECT_EQ(*removed, pending.size() / 3);
        pending.clear();
      }
    }
    ASSERT_TRUE(idx->RemoveMany(pending).ok());
    pending.clear();
    ASSERT_TRUE(idx->Save(path).ok());
    // The invariant UnlinkRemoved keeps: no list (but the entry point's own)
    // leads to a removed node.
    const Links links = ParseLinks(test::ReadFileOrEmpty(path), options.m);
    ASSERT_FALSE(links.removed.empty());
    for (uint32_t r : links.removed) {
      EXPECT_EQ(links.targets.count(r), 0u) << "removed slot " << r << " is still linked";
    }
    auto loaded = HnswIndex::Load(path, kDim, Metric::kL2, options);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    idx = std::move(loaded).value();
    ASSERT_EQ(idx->Size(), live.size());
    size_t misses = 0;
    AllowAll all;
    for (const auto& [id, v] : live) {
      for (const SearchFilter* f : {static_cast<const SearchFilter*>(nullptr),
                                    static_cast<const SearchFilter*>(&all)}) {
        auto hits = idx->Search(v, 10, f);
        ASSERT_TRUE(hits.ok());
        bool found = false;
        for (const Neighbor& h : *hits) found = found || h.id == id;
        misses += !found;
      }
    }
    worst_misses = std::max(worst_misses, misses);
  }
  // Measured on this sequence: 0 misses in every round; before the fix, up
  // to 84 of ~5000 searches (42 vectors) in one round.
  EXPECT_EQ(worst_misses, 0u);
}

TEST(HnswChurnTest, ChurnKeepsEveryVectorFindable) { Churn(1); }
TEST(HnswChurnTest, ChurnWithBatchedRemovalsKeepsEveryVectorFindable) {
  Churn(40);  // RemoveMany, 40 ids at a time
}

// A checkpoint in which no link leads to one live node (as churn could leave
// before UpdateKeepingInLinks): Load re-links it, and a search finds it.
TEST(HnswChurnTest, LoadRelinksANodeNoLinkLeadsTo) {
  test::TempDir dir;
  const std::string path = dir.path() + "/cut.hnsw";
  HnswOptions options;
  auto created = HnswIndex::Create(kDim, Metric::kL2, options);
  ASSERT_TRUE(created.ok());
  std::unique_ptr<HnswIndex> idx = std::move(created).value();
  std::mt19937 rng(5);
  std::vector<std::vector<float>> vectors;
  for (uint32_t id = 0; id < 500; ++id) {
    vectors.push_back(RandomVector(&rng));
    ASSERT_TRUE(idx->Add(id, vectors.back()).ok());
  }
  ASSERT_TRUE(idx->Save(path).ok());
  std::string file = test::ReadFileOrEmpty(path);
  const size_t h = 96;
  const uint64_t count = At<uint64_t>(file, h + 16);
  const uint64_t per = At<uint64_t>(file, h + 24);
  const uint64_t label_offset = At<uint64_t>(file, h + 32);
  const uint32_t entry = At<uint32_t>(file, h + 52);
  // Cut every layer-0 link into slot `victim` (a level-0-only node: its
  // upper-layer lists are empty, so layer 0 is its only way in).
  uint32_t victim = 0;
  size_t off = h + 96 + count * per;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t bytes = At<uint32_t>(file, off);
    off += 4 + bytes;
    if (bytes == 0 && i != entry) victim = i;
  }
  ASSERT_NE(victim, 0u);
  size_t cut = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const size_t rec = h + 96 + i * per;
    uint16_t n = At<uint16_t>(file, rec);
    for (uint16_t j = 0; j < n; ++j) {
      if (At<uint32_t>(file, rec + 4 + 4 * j) != victim) continue;
      std::memcpy(&file[rec + 4 + 4 * j], &file[rec + 4 + 4 * (n - 1)], 4);
      --n;
      std::memcpy(&file[rec], &n, 2);
      ++cut;
      break;
    }
  }
  ASSERT_GT(cut, 0u);
  const uint32_t payload_crc = Crc32c(file.data() + h, file.size() - h);
  std::memcpy(&file[80], &payload_crc, 4);
  const uint32_t header_crc = Crc32c(file.data(), 92);
  std::memcpy(&file[92], &header_crc, 4);
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(file.data(), 1, file.size(), f), file.size());
    std::fclose(f);
  }
  const auto id = static_cast<uint32_t>(At<uint64_t>(file, h + 96 + victim * per + label_offset));
  auto loaded = HnswIndex::Load(path, kDim, Metric::kL2, options);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto hits = (*loaded)->Search(vectors[id], 10, nullptr);
  ASSERT_TRUE(hits.ok());
  bool found = false;
  for (const Neighbor& n : *hits) found = found || n.id == id;
  EXPECT_TRUE(found) << "id " << id << " (slot " << victim << ", " << cut << " links cut)";
  // Nothing left to repair after the load did it.
  EXPECT_EQ((*loaded)->RepairReachability(), 0u);
}

}  // namespace
}  // namespace recdb::index
