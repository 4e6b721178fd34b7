// Retention policies with a fake clock (test::FaultInjectionEnv, whose time
// moves by hand): expired events stop counting at once for serving and
// training, and are physically gone after the sweep; per-user
// caps, inactive users, the training horizon and the policy file.
#include <gtest/gtest.h>

#include "db_test_util.h"
#include "engine/db_impl/db_impl.h"
#include "engine/privacy/retention_policy_json.h"
#include "engine/recommend/training_data.h"
#include "privacy_test_util.h"
#include "storage/event_scan.h"
#include "test_env.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::CreateOptions;
using test::FilesContaining;
using test::MakeEvent;
using test::TempDir;

constexpr int64_t kT0 = 1700000000;
constexpr int64_t kDay = 86400;

DBImpl* Impl(DB* db) { return static_cast<DBImpl*>(db); }

size_t TrainingEvents(DB* db) {
  auto data = BuildTrainingDataset(*Impl(db), *Impl(db)->catalog(), nullptr);
  EXPECT_TRUE(data.ok());
  return data.ok() ? data->interactions().size() : 0;
}

class RetentionTest : public ::testing::Test {
 protected:
  std::unique_ptr<DB> Open(const RetentionPolicy& policy) {
    Options o = CreateOptions();
    o.retention = policy;
    o.env = &env_;
    auto db = DB::Open(o, dir_.path());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return nullptr;
    return std::move(db).value();
  }
  TempDir dir_;
  test::FaultInjectionEnv env_{kT0 + 10};
};

TEST_F(RetentionTest, ExpiredEventsVanishAtOnceAndPhysicallyAfterSweep) {
  RetentionPolicy policy;
  policy.ttl_seconds_by_type["view"] = 30 * kDay;
  auto db = Open(policy);
  const std::string marker = "EXPIRING-MARKER-91c2";
  Event old_view = MakeEvent("a", "i1", "view", kT0);
  old_view.context["note"] = marker;
  ASSERT_TRUE(db->RecordEvents({}, {old_view, MakeEvent("a", "i2", "purchase", kT0),
                                    MakeEvent("b", "i1", "view", kT0 + 20 * kDay)})
                  .ok());
  EXPECT_EQ(db->GetUserHistory("a")->size(), 2u);
  EXPECT_EQ(TrainingEvents(db.get()), 3u);
  ASSERT_TRUE(Impl(db.get())->store()->Flush().ok());
  EXPECT_FALSE(FilesContaining(dir_.path(), marker).empty());  // positive control

  env_.AdvanceSeconds(30 * kDay);  // a's view (day 0) expires; b's (day 20) does not
  auto history = db->GetUserHistory("a");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].type, "purchase");
  EXPECT_EQ(TrainingEvents(db.get()), 2u);
  auto exported = db->ExportUser("a");
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(exported->find(marker), std::string::npos);
  ASSERT_TRUE(db->Train().ok());  // serving: the model trains without it

  auto report = db->SweepRetention();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->expired_events_removed, 1);
  EXPECT_EQ(db->GetStats()->events, 2);
  EXPECT_EQ(db->GetItemCounts("i1")->total, 1);
  std::vector<std::string> hits = FilesContaining(dir_.path(), marker);
  EXPECT_TRUE(hits.empty()) << hits[0];
  EXPECT_EQ(db->GetUserHistory("b")->size(), 1u);

  env_.AdvanceSeconds(30 * kDay);  // b's view expires too
  EXPECT_TRUE(db->GetUserHistory("b")->empty());
  report = db->SweepRetention();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->expired_events_removed, 1);
  EXPECT_EQ(db->GetStats()->events, 1);
}

TEST_F(RetentionTest, MaxEventsPerUserKeepsTheNewest) {
  RetentionPolicy policy;
  policy.max_events_per_user = 3;
  auto db = Open(policy);
  std::vector<Event> events;
  for (int i = 0; i < 5; ++i) events.push_back(MakeEvent("a", "i" + std::to_string(i), "view", kT0 + i));
  events.push_back(MakeEvent("b", "i0", "view", kT0));
  ASSERT_TRUE(db->RecordEvents({}, events).ok());
  auto report = db->SweepRetention();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->excess_events_removed, 2);
  auto history = db->GetUserHistory("a");
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].item, "i2");
  EXPECT_EQ(db->GetUserHistory("b")->size(), 1u);
  EXPECT_EQ(db->GetItemCounts("i0")->total, 1);  // a's i0 was subtracted
  EXPECT_EQ(db->GetStats()->events, 4);
}

TEST_F(RetentionTest, InactiveUsersAreForgotten) {
  RetentionPolicy policy;
  policy.delete_inactive_users_after_days = 10;
  auto db = Open(policy);
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("sleepy", "i1", "view", kT0),
                                    MakeEvent("active", "i1", "view", kT0 + 5 * kDay)})
                  .ok());
  env_.AdvanceSeconds(12 * kDay);
  auto report = db->SweepRetention();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->inactive_users_forgotten, 1);
  EXPECT_TRUE(db->GetUser("sleepy").status().IsNotFound());
  EXPECT_TRUE(db->GetUser("active").ok());
  EXPECT_EQ(db->GetItemCounts("i1")->total, 1);
  EXPECT_TRUE(FilesContaining(dir_.path(), "sleepy").empty());
}

TEST_F(RetentionTest, TrainingHorizonLimitsTrainingOnly) {
  RetentionPolicy policy;
  policy.training_horizon_seconds = 7 * kDay;
  auto db = Open(policy);
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("a", "i1", "view", kT0 - 30 * kDay),
                                    MakeEvent("a", "i2", "view", kT0)})
                  .ok());
  EXPECT_EQ(TrainingEvents(db.get()), 1u);
  EXPECT_EQ(db->GetUserHistory("a")->size(), 2u);
}

// Anonymise-after: an old event keeps counting per item but loses its user:
// hidden from history, export and training at once, out of the user's key
// range (and every file) after the sweep, its per-item counts unchanged.
TEST_F(RetentionTest, AnonymizeAfterKeepsCountsAndDropsTheLink) {
  RetentionPolicy policy;
  policy.anonymize_after_days = 30;
  auto db = Open(policy);
  const std::string marker = "ANONYMISE-MARKER-5be1";
  Event old_view = MakeEvent("anon-a", "i1", "view", kT0);
  old_view.context["note"] = marker;
  ASSERT_TRUE(db->RecordEvents({}, {old_view, MakeEvent("anon-a", "i2", "purchase", kT0 + 1),
                                    MakeEvent("anon-b", "i1", "view", kT0 + 20 * kDay)})
                  .ok());
  ASSERT_TRUE(Impl(db.get())->store()->Flush().ok());
  EXPECT_FALSE(FilesContaining(dir_.path(), marker).empty());  // positive control
  const ItemCounts i1_before = *db->GetItemCounts("i1");
  const ItemCounts i2_before = *db->GetItemCounts("i2");
  ASSERT_EQ(i1_before.total, 2);

  env_.AdvanceSeconds(31 * kDay);  // a's two events are past 30 days; b's is not
  EXPECT_TRUE(db->GetUserHistory("anon-a")->empty());
  EXPECT_EQ(db->GetUserHistory("anon-b")->size(), 1u);
  EXPECT_EQ(TrainingEvents(db.get()), 1u);
  EXPECT_EQ(db->ExportUser("anon-a")->find(marker), std::string::npos);

  auto report = db->SweepRetention();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->events_anonymized, 2);
  EXPECT_EQ(report->expired_events_removed, 0);
  EXPECT_EQ(db->GetStats()->events, 1);  // stored (linked) events
  // The per-item aggregates still count them.
  EXPECT_EQ(db->GetItemCounts("i1")->by_type, i1_before.by_type);
  EXPECT_EQ(db->GetItemCounts("i1")->by_day, i1_before.by_day);
  EXPECT_EQ(db->GetItemCounts("i2")->total, i2_before.total);
  ASSERT_TRUE(Impl(db.get())->FoldItemStats().ok());
  EXPECT_EQ(db->GetItemCounts("i1")->total, 2);
  // Physically out of the user's range: no file holds the event any more.
  std::vector<std::string> hits = FilesContaining(dir_.path(), marker);
  EXPECT_TRUE(hits.empty()) << hits[0];
  // The user's key range is empty now (raw scan, no read-time filter); the
  // user record stays.
  const uint32_t uid = *Impl(db.get())->FindUserIid("anon-a");
  size_t left = 0;
  ASSERT_TRUE(storage::ScanUserEvents(*Impl(db.get())->store(), nullptr, uid, kMinTimestamp,
                                      kMaxTimestamp + 1,
                                      [&](const storage::StoredEvent&) {
                                        ++left;
                                        return Status::OK();
                                      })
                  .ok());
  EXPECT_EQ(left, 0u);
  EXPECT_TRUE(db->GetUser("anon-a").ok());
}

TEST_F(RetentionTest, PolicyNamingAnUnknownTypeFailsOpen) {
  Options o = CreateOptions();
  o.retention.ttl_seconds_by_type["nope"] = 10;
  EXPECT_TRUE(DB::Open(o, dir_.path()).status().IsInvalidArgument());
}

TEST(RetentionPolicyJsonTest, RoundTripsAndRejectsTypos) {
  auto p = privacy::ParseRetentionPolicy(
      R"({"ttl_seconds_by_type": {"view": 2592000}, "max_events_per_user": 7,
          "delete_inactive_users_after_days": 3, "training_horizon_seconds": 9,
          "sweep_interval_seconds": 60})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->ttl_seconds_by_type.at("view"), 2592000);
  EXPECT_EQ(p->max_events_per_user, 7);
  auto again = privacy::ParseRetentionPolicy(privacy::RetentionPolicyToJson(*p));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ttl_seconds_by_type, p->ttl_seconds_by_type);
  EXPECT_EQ(again->sweep_interval_seconds, 60);
  EXPECT_TRUE(privacy::ParseRetentionPolicy(R"({"max_event_per_user": 1})").status().IsInvalidArgument());
  EXPECT_TRUE(privacy::ParseRetentionPolicy(R"({"max_events_per_user": -1})").status().IsInvalidArgument());
  EXPECT_TRUE(privacy::ParseRetentionPolicy("[").status().IsInvalidArgument());
}

}  // namespace
}  // namespace recdb
