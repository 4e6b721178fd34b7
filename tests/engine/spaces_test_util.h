// Fixture for the embedding-space tests (tests/engine/spaces_*_test.cc): a
// DBImpl in a temp dir with items "i0".."i<n-1>" (category "c<i%100>" for 1%
// selectivity, "d<i%10>" for 10%), users "u0".., and deterministic vectors.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/db_impl/db_impl.h"
#include "engine/spaces/space_manager.h"
#include "test_util.h"

namespace recdb::test {

inline Options SpaceTestOptions() {
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;  // manual scheduler: background work runs only when stepped
  o.write_buffer_bytes = 4u << 20;
  o.block_cache_bytes = 8u << 20;
  return o;
}

inline std::vector<float> RandomVector(std::mt19937* rng, int dim) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> v(dim);
  for (float& f : v) f = n(*rng);
  return v;
}

class SpacesTest : public ::testing::Test {
 protected:
  void OpenDb(const Options& o = SpaceTestOptions()) {
    auto db = DBImpl::OpenImpl(o, dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    spaces_ = db_->spaces();
    ASSERT_NE(spaces_, nullptr);
  }
  // Clean close: checkpoints every index.
  void CloseDb() {
    if (!db_) return;
    ASSERT_TRUE(db_->Close().ok());
    spaces_ = nullptr;
    db_.reset();
  }
  // The state a crash leaves: no checkpoint at close.
  void CrashDb() {
    if (!db_) return;
    spaces_->CloseWithoutCheckpoint();
    ASSERT_TRUE(db_->Close().ok());
    spaces_ = nullptr;
    db_.reset();
  }
  void Reopen() {
    CloseDb();
    OpenDb();
  }
  // The public interface (its default arguments apply).
  DB* Api() { return db_.get(); }

  void TearDown() override {
    if (db_) db_->Close().IgnoreError();
  }

  void AddItems(int n, int first = 0) {
    std::vector<Item> items;
    for (int i = first; i < first + n; ++i) {
      Item it;
      it.id = "i" + std::to_string(i);
      it.title = "item " + std::to_string(i);
      it.categories = {"c" + std::to_string(i % 100), "d" + std::to_string(i % 10)};
      items.push_back(std::move(it));
    }
    ASSERT_TRUE(db_->UpsertItems(WriteOptions{}, items).ok());
  }
  void AddUsers(int n) {
    std::vector<User> users;
    for (int i = 0; i < n; ++i) users.push_back(User{"u" + std::to_string(i), {}, {}});
    ASSERT_TRUE(db_->UpsertUsers(WriteOptions{}, users).ok());
  }
  SpaceOptions Space(const std::string& name, int dim, Metric metric = Metric::kCosine) {
    SpaceOptions o;
    o.name = name;
    o.dimension = dim;
    o.metric = metric;
    o.model_name = "test";
    o.model_version = "1";
    return o;
  }
  // Vectors for items [first, first+n), drawn from a seed per item.
  std::vector<VectorRecord> ItemVectors(int n, int dim, int first = 0, int seed = 7) {
    std::vector<VectorRecord> out;
    for (int i = first; i < first + n; ++i) {
      std::mt19937 rng(static_cast<uint32_t>(seed * 1000003 + i));
      out.push_back(VectorRecord{"i" + std::to_string(i), RandomVector(&rng, dim)});
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<DBImpl> db_;
  SpaceManager* spaces_ = nullptr;
};

}  // namespace recdb::test
