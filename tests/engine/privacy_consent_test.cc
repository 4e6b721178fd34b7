// Consent at write, serve and train time, beyond db_basic_test's and
// recommend_test's checks: no event bytes reach any file for a user who
// refused storage, and a user who refused training adds nothing to any model.
#include <gtest/gtest.h>

#include "db_test_util.h"
#include "engine/db_impl/db_impl.h"
#include "engine/recommend/training_data.h"
#include "privacy_test_util.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::FilesContaining;
using test::MakeEvent;
using test::OpenOrDie;
using test::TempDir;

constexpr int64_t kT0 = 1700000000;

DBImpl* Impl(DB* db) { return static_cast<DBImpl*>(db); }

TEST(PrivacyConsentTest, StoreEventsFalseWritesNoEventBytes) {
  TempDir dir;
  auto db = OpenOrDie(dir.path());
  User u;
  u.id = "private";
  u.consent.store_events = false;
  ASSERT_TRUE(db->UpsertUsers({}, {u}).ok());
  Event e = MakeEvent("private", "i1", "view", kT0);
  e.context["note"] = "PRIVATE-CONTEXT-5d1e";
  Event control = MakeEvent("public", "i1", "view", kT0);
  control.context["note"] = "PUBLIC-CONTEXT-5d1e";
  ASSERT_TRUE(db->RecordEvents({}, {e, control}).ok());
  EXPECT_FALSE(FilesContaining(dir.path(), "PUBLIC-CONTEXT-5d1e").empty());
  EXPECT_TRUE(FilesContaining(dir.path(), "PRIVATE-CONTEXT-5d1e").empty());
  EXPECT_EQ(db->GetItemCounts("i1")->total, 2);  // anonymous count only
}

// A user with training == false: the training data, and so co-occurrence,
// equals that of a database without the user.
TEST(PrivacyConsentTest, TrainingFalseKeepsTheUserOutOfCooccurrence) {
  TempDir dir, never;
  auto db = OpenOrDie(dir.path());
  auto ref = OpenOrDie(never.path());
  std::vector<Event> shared;
  for (int u = 0; u < 4; ++u) {
    for (int i = 0; i < 5; ++i) {
      shared.push_back(MakeEvent("u" + std::to_string(u), "i" + std::to_string((u + i) % 7),
                                 "view", kT0 + i));
    }
  }
  ASSERT_TRUE(db->RecordEvents({}, shared).ok());
  ASSERT_TRUE(ref->RecordEvents({}, shared).ok());
  User u;
  u.id = "no-training";
  u.consent.training = false;
  ASSERT_TRUE(db->UpsertUsers({}, {u}).ok());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("no-training", "i0", "view", kT0),
                                    MakeEvent("no-training", "i6", "view", kT0 + 1)})
                  .ok());
  auto got = BuildTrainingDataset(*Impl(db.get()), *Impl(db.get())->catalog(), nullptr);
  auto want = BuildTrainingDataset(*Impl(ref.get()), *Impl(ref.get())->catalog(), nullptr);
  ASSERT_TRUE(got.ok() && want.ok());
  ASSERT_EQ(got->interactions().size(), want->interactions().size());
  ASSERT_TRUE(db->Train().ok());
  ASSERT_TRUE(ref->Train().ok());
  auto cooc = [](DB& d) {
    std::map<std::string, double> out;
    auto similar = d.SimilarItems("i0", 10);
    EXPECT_TRUE(similar.ok());
    if (!similar.ok()) return out;
    for (const Recommendation& r : similar->items) {
      auto it = r.contributions.find("cooc_symmetric");
      out[r.id] = it == r.contributions.end() ? 0.0 : it->second;
    }
    return out;
  };
  const auto a = cooc(*db);
  const auto b = cooc(*ref);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [item, c] : b) EXPECT_NEAR(a.at(item), c, 1e-9) << item;
}

}  // namespace
}  // namespace recdb
