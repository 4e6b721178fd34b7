// The privacy audit log (DB::ReadAuditLog): every privacy operation leaves
// one entry, in order, with counts and a keyed hash; no entry and no file
// holds a raw user id. Also: ExportUser lists each impression's items.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "db_test_util.h"
#include "privacy_test_util.h"
#include "test_env.h"
#include "test_util.h"

namespace recdb {
namespace {

using test::CreateOptions;
using test::FilesContaining;
using test::MakeEvent;
using test::TempDir;

constexpr int64_t kT0 = 1700000000;

const std::string kAlice = "alice-audit-subject-7d1e";
const std::string kBob = "bob-audit-subject-42aa";
const std::string kKey = "audit-test-pseudonym-key-32bytes";

std::vector<std::string> Operations(DB& db) {
  auto log = db.ReadAuditLog();
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  std::vector<std::string> ops;
  if (log.ok()) {
    for (const AuditEntry& e : *log) ops.push_back(e.operation);
  }
  return ops;
}

TEST(PrivacyAuditTest, RecordsEveryOperationWithoutPersonalData) {
  TempDir dir;
  test::FaultInjectionEnv env(kT0 + 100);  // its clock: the entries' times
  Options o = CreateOptions();
  o.env = &env;
  auto db = test::OpenOrDie(dir.path(), o);
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent(kAlice, "i1", "view", kT0),
                                    MakeEvent(kAlice, "i2", "view", kT0 + 1),
                                    MakeEvent(kBob, "i1", "view", kT0 + 2)})
                  .ok());
  EXPECT_TRUE(Operations(*db).empty());  // ingest is not a privacy operation

  // 1. Key rotation (pseudonymises the raw ids).
  ASSERT_TRUE(db->RotatePseudonymKeys({kKey}).ok());
  // 2. A consent change (and an upsert that changes nothing: no entry).
  User bob;
  bob.id = kBob;
  bob.consent.training = false;
  ASSERT_TRUE(db->UpsertUsers({}, {bob}).ok());
  ASSERT_TRUE(db->UpsertUsers({}, {bob}).ok());
  // 3. Export, 4. forget, 5. unforget, 6. sweep.
  ASSERT_TRUE(db->ExportUser(kAlice).ok());
  env.AdvanceSeconds(60);
  auto receipt = db->ForgetUser(kAlice);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  ASSERT_TRUE(db->UnforgetUser(kAlice).ok());
  ASSERT_TRUE(db->SweepRetention().ok());

  auto log = db->ReadAuditLog();
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  // The rotation ends with a sweep of its own, which is logged too.
  const std::vector<std::string> want = {"rotate_key", "retention_sweep", "consent", "export",
                                         "forget",     "unforget",        "retention_sweep"};
  ASSERT_EQ(Operations(*db), want);
  const std::vector<AuditEntry>& e = *log;
  for (size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e[i].sequence, i + 1);
    EXPECT_GE(e[i].timestamp, kT0 + 100);
    EXPECT_EQ(e[i].subject.find(kAlice), std::string::npos);
    EXPECT_EQ(e[i].subject.find(kBob), std::string::npos);
  }
  const AuditEntry &rotate = e[0], &consent = e[2], &exported = e[3], &forget = e[4],
                   &unforget = e[5], &sweep = e[6];
  EXPECT_EQ(rotate.counts.at("users"), 2);
  EXPECT_EQ(rotate.counts.at("chain_length"), 1);
  EXPECT_EQ(consent.counts.at("training"), 0);
  EXPECT_EQ(consent.counts.at("personalization"), 1);
  EXPECT_EQ(exported.counts.at("events"), 2);
  EXPECT_EQ(forget.counts.at("events"), 2);
  EXPECT_EQ(forget.timestamp, kT0 + 160);
  // One subject per user: export, forget and unforget of Alice share it.
  EXPECT_EQ(exported.subject.size(), 64u);
  EXPECT_EQ(exported.subject, forget.subject);
  EXPECT_EQ(forget.subject, unforget.subject);
  EXPECT_NE(consent.subject, exported.subject);
  EXPECT_TRUE(rotate.subject.empty());
  EXPECT_TRUE(sweep.subject.empty());
  EXPECT_EQ(sweep.counts.at("erasures_made_physical"), 1);

  // No file holds either raw id (Alice forgotten, Bob pseudonymous), the
  // audit entries included; they survive a reopen.
  ASSERT_TRUE(db->Close().ok());
  for (const std::string& raw : {kAlice, kBob}) {
    const std::vector<std::string> hits = FilesContaining(dir.path(), raw);
    EXPECT_TRUE(hits.empty()) << raw << " in " << hits.front();
  }
  Options keyed = CreateOptions();  // the system clock again
  keyed.pseudonyms.keys = {kKey};
  db = test::OpenOrDie(dir.path(), keyed);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Operations(*db), want);
  // New entries continue the sequence.
  ASSERT_TRUE(db->ExportUser(kBob).ok());
  auto again = db->ReadAuditLog();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->back().sequence, want.size() + 1);
  EXPECT_EQ(again->back().operation, "export");
  EXPECT_EQ(again->back().subject, consent.subject);
}

TEST(PrivacyAuditTest, ExportListsImpressionItems) {
  TempDir dir;
  auto db = test::OpenOrDie(dir.path());
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent("viewer", "a", "view", kT0),
                                    MakeEvent("viewer", "b", "view", kT0 + 1),
                                    MakeEvent("other", "c", "view", kT0 + 2)})
                  .ok());
  ImpressionContext first;
  first.timestamp = kT0 + 10;
  first.context = {{"surface", "home"}};
  first.propensities = {0.5, 0.25};
  ImpressionContext second;
  second.timestamp = kT0 + 20;
  ASSERT_TRUE(db->RecordImpressions({}, "viewer", {"c", "a"}, first).ok());
  ASSERT_TRUE(db->RecordImpressions({}, "viewer", {"b"}, second).ok());
  ImpressionContext other = first;
  other.propensities = {1.0};
  ASSERT_TRUE(db->RecordImpressions({}, "other", {"a"}, other).ok());
  auto exported = db->ExportUser("viewer");
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  const auto j = nlohmann::json::parse(*exported);
  ASSERT_EQ(j["impressions"].size(), 2u);
  EXPECT_EQ(j["impressions"][0]["timestamp"], kT0 + 10);
  EXPECT_EQ(j["impressions"][0]["items"], nlohmann::json({"c", "a"}));
  // Everything held: the list's context and per-slot propensities too.
  EXPECT_EQ(j["impressions"][0]["context"], nlohmann::json({{"surface", "home"}}));
  EXPECT_EQ(j["impressions"][0]["propensities"], nlohmann::json({0.5, 0.25}));
  EXPECT_EQ(j["impressions"][1]["timestamp"], kT0 + 20);
  EXPECT_EQ(j["impressions"][1]["items"], nlohmann::json({"b"}));
  EXPECT_FALSE(j["impressions"][1].contains("context"));
  EXPECT_FALSE(j["impressions"][1].contains("propensities"));
}

}  // namespace
}  // namespace recdb
