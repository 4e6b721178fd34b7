// Pseudonymous user ids (Options::pseudonyms): no raw user id reaches any
// file of the directory, lookups by raw id work, the key chain is checked at
// Open, and a key rotation leaves no old pseudonym behind and changes no
// recommendation.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "db_test_util.h"
#include "engine/db_impl/db_impl.h"
#include "engine/privacy/keyed_hash.h"
#include "engine/privacy/pseudonyms.h"
#include "privacy_test_util.h"
#include "test_util.h"

namespace recdb {
namespace {

using privacy::PseudonymChain;
using test::CreateOptions;
using test::FilesContaining;
using test::MakeEvent;
using test::TempDir;

constexpr int64_t kT0 = 1700000000;

DBImpl* Impl(DB* db) { return static_cast<DBImpl*>(db); }

const std::string kKey1 = "0123456789abcdef-first-key-32byt";
const std::string kKey2 = "fedcba9876543210-second-key-32by";

// Raw ids long and distinctive enough that a byte scan cannot hit them by
// chance, and sharing no substring: SST blocks store a key as its difference
// from the previous key and compress blocks, so ids with common parts would
// not appear whole in the files even when stored raw (the positive control).
std::string RawId(int u) {
  return std::string(1, static_cast<char>('a' + u)) +
         privacy::ToHex(privacy::HmacSha256("raw-id-seed", std::to_string(u))).substr(0, 24);
}
constexpr int kUsers = 12;

Options KeyedOptions(std::vector<std::string> keys) {
  Options o = CreateOptions();
  o.pseudonyms.keys = std::move(keys);
  return o;
}

// Users with records (half of them) and events (all), sharing items, plus an
// impression and a consent change: every path that stores a user id.
void RecordWorld(DB& db) {
  std::vector<User> users;
  for (int u = 0; u < kUsers; u += 2) {
    User user;
    user.id = RawId(u);
    user.attributes["tier"] = std::string("gold");
    users.push_back(user);
  }
  ASSERT_TRUE(db.UpsertUsers({}, users).ok());
  std::vector<Event> events;
  for (int u = 0; u < kUsers; ++u) {
    for (int i = 0; i < 8; ++i) {
      events.push_back(MakeEvent(RawId(u), "item" + std::to_string((u + i) % 10),
                                 i % 3 ? "view" : "purchase", kT0 + u * 100 + i));
    }
  }
  ASSERT_TRUE(db.RecordEvents({}, events).ok());
  ASSERT_TRUE(db.RecordImpressions({}, RawId(1), {"item1", "item2"}).ok());
  User changed;
  changed.id = RawId(3);
  changed.consent.personalization = false;  // rewrites the ids entry's consent bits
  ASSERT_TRUE(db.UpsertUsers({}, {changed}).ok());
}

// Flush + full compaction + purge, so every byte is in its final files.
void Settle(DB& db) {
  ASSERT_TRUE(Impl(&db)->store()->Flush().ok());
  auto report = db.SweepRetention();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
}

// The raw ids found in some file under `dir`, each with the first such file.
std::vector<std::string> RawIdsOnDisk(const std::string& dir) {
  std::vector<std::string> found;
  for (int u = 0; u < kUsers; ++u) {
    const std::vector<std::string> files = FilesContaining(dir, RawId(u));
    if (!files.empty()) found.push_back(RawId(u) + " in " + files.front());
  }
  return found;
}

TEST(PrivacyPseudonymTest, NoRawUserIdInAnyFile) {
  TempDir keyed, plain;
  {
    // Positive control: without keys the same world puts every id in the WAL
    // (uncompressed), and ids into the SSTs (whose compressed blocks need not
    // hold every id contiguously).
    auto db = test::OpenOrDie(plain.path());
    RecordWorld(*db);
    EXPECT_EQ(RawIdsOnDisk(plain.path()).size(), static_cast<size_t>(kUsers));
    Settle(*db);
    EXPECT_FALSE(RawIdsOnDisk(plain.path()).empty());
  }
  auto db = test::OpenOrDie(keyed.path(), KeyedOptions({kKey1}));
  RecordWorld(*db);
  ASSERT_TRUE(db->Train().ok());
  // In the WAL so far (uncompressed: the strongest check): none there.
  const std::vector<std::string> in_wal = RawIdsOnDisk(keyed.path());
  EXPECT_TRUE(in_wal.empty()) << in_wal.front();
  Settle(*db);
  ASSERT_TRUE(db->Close().ok());
  db = test::OpenOrDie(keyed.path(), KeyedOptions({kKey1}));  // a reopen rewrites nothing raw
  ASSERT_TRUE(db->Close().ok());
  const std::vector<std::string> found = RawIdsOnDisk(keyed.path());
  EXPECT_TRUE(found.empty()) << found.front();
  // The pseudonyms are what is stored.
  EXPECT_FALSE(FilesContaining(keyed.path(), PseudonymChain({kKey1}).Apply(RawId(0))).empty());
}

TEST(PrivacyPseudonymTest, LookupsByRawIdAndListingsByPseudonym) {
  TempDir dir;
  auto db = test::OpenOrDie(dir.path(), KeyedOptions({kKey1}));
  RecordWorld(*db);
  const PseudonymChain chain({kKey1});
  // Calls given the raw id answer with the raw id.
  auto user = db->GetUser(RawId(0));
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->id, RawId(0));
  EXPECT_EQ(std::get<std::string>(user->attributes.at("tier")), "gold");
  auto history = db->GetUserHistory(RawId(1));
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 8u);
  EXPECT_EQ(history->front().user, RawId(1));
  auto exported = db->ExportUser(RawId(1));
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  const auto j = nlohmann::json::parse(*exported);
  EXPECT_EQ(j["user"], RawId(1));
  EXPECT_EQ(j["events"].size(), 8u);
  // Listings show pseudonyms: 64 hex digits, the chain applied to the raw id.
  std::vector<std::string> listed;
  for (const User& u : test::AllUsers(*db)) listed.push_back(u.id);
  ASSERT_EQ(listed.size(), static_cast<size_t>(kUsers));
  for (int u = 0; u < kUsers; ++u) {
    EXPECT_NE(std::find(listed.begin(), listed.end(), chain.Apply(RawId(u))), listed.end()) << u;
  }
  for (const Event& e : test::AllEvents(*db)) EXPECT_EQ(e.user.size(), 64u);
  // A stored pseudonym is not a valid raw id (it would be hashed again).
  EXPECT_TRUE(db->GetUser(chain.Apply(RawId(0))).status().IsNotFound());
  // Serving by raw id.
  ASSERT_TRUE(db->Train().ok());
  RecommendRequest request;
  request.user = RawId(2);
  request.k = 3;
  auto recs = db->Recommend(request);
  ASSERT_TRUE(recs.ok()) << recs.status().ToString();
  EXPECT_FALSE(recs->items.empty());
}

TEST(PrivacyPseudonymTest, OpenChecksTheKeyChain) {
  TempDir dir, raw;
  {
    auto db = test::OpenOrDie(dir.path(), KeyedOptions({kKey1}));
    RecordWorld(*db);
  }
  Options none = CreateOptions();
  EXPECT_TRUE(DB::Open(none, dir.path()).status().IsFailedPrecondition());
  EXPECT_TRUE(DB::Open(KeyedOptions({kKey2}), dir.path()).status().IsInvalidArgument());
  EXPECT_TRUE(DB::Open(KeyedOptions({kKey1, kKey2}), dir.path()).status().IsInvalidArgument());
  EXPECT_TRUE(DB::Open(KeyedOptions({"short"}), dir.path()).status().IsInvalidArgument());
  EXPECT_TRUE(DB::Open(KeyedOptions({kKey1}), dir.path()).ok());
  {
    auto db = test::OpenOrDie(raw.path());
    RecordWorld(*db);
  }
  // Raw ids cannot be read as pseudonyms: convert first.
  EXPECT_TRUE(DB::Open(KeyedOptions({kKey1}), raw.path()).status().IsFailedPrecondition());
}

TEST(PrivacyPseudonymTest, KeyFileHoldsTheChainAsHex) {
  auto keys = PseudonymChain::ParseKeyFile(
      "# recdb key chain\n" + privacy::ToHex(kKey1) + "\n\n" + privacy::ToHex(kKey2) +
      "\r\n");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, (std::vector<std::string>{kKey1, kKey2}));
  EXPECT_TRUE(PseudonymChain::ParseKeyFile("abcd\n").status().IsInvalidArgument());
  EXPECT_TRUE(PseudonymChain::ParseKeyFile(std::string(64, 'g')).status().IsInvalidArgument());
  EXPECT_TRUE(PseudonymChain::ParseKeyFile("# nothing\n").status().IsInvalidArgument());
}

TEST(PrivacyPseudonymTest, ForgetByRawIdUnderPseudonyms) {
  TempDir dir;
  auto db = test::OpenOrDie(dir.path(), KeyedOptions({kKey1}));
  RecordWorld(*db);
  const std::string pseudonym = PseudonymChain({kKey1}).Apply(RawId(4));
  ForgetOptions options;
  options.wait_for_physical_erasure = true;
  auto receipt = db->ForgetUser(RawId(4), options);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->user, RawId(4));
  EXPECT_EQ(receipt->events_removed, 8);
  EXPECT_TRUE(FilesContaining(dir.path(), pseudonym).empty());
  // The ledger drops a re-import of the raw id.
  ASSERT_TRUE(db->RecordEvents({}, {MakeEvent(RawId(4), "item1", "view", kT0)}).ok());
  EXPECT_TRUE(db->GetUser(RawId(4)).status().IsNotFound());
  EXPECT_TRUE(db->ForgetUser(RawId(4)).status().IsFailedPrecondition());
}

std::vector<std::string> Ranked(DB& db, const std::string& user) {
  RecommendRequest request;
  request.user = user;
  request.k = 5;
  auto recs = db.Recommend(request);
  EXPECT_TRUE(recs.ok()) << recs.status().ToString();
  std::vector<std::string> out;
  if (recs.ok()) {
    for (const Recommendation& r : recs->items) out.push_back(r.id);
  }
  return out;
}

TEST(PrivacyPseudonymTest, RotationLeavesNoOldPseudonymAndSameRecommendations) {
  TempDir dir;
  auto db = test::OpenOrDie(dir.path(), KeyedOptions({kKey1}));
  RecordWorld(*db);
  ASSERT_TRUE(db->Train().ok());
  Settle(*db);
  const PseudonymChain old_chain({kKey1}), new_chain({kKey1, kKey2});
  std::vector<std::vector<std::string>> before;
  for (int u = 0; u < kUsers; ++u) before.push_back(Ranked(*db, RawId(u)));
  // Positive control: the old pseudonyms are on disk.
  EXPECT_FALSE(FilesContaining(dir.path(), old_chain.Apply(RawId(0))).empty());

  auto rewritten = db->RotatePseudonymKeys({kKey2});
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(*rewritten, kUsers);
  for (int u = 0; u < kUsers; ++u) {
    EXPECT_TRUE(FilesContaining(dir.path(), old_chain.Apply(RawId(u))).empty()) << u;
    EXPECT_EQ(Ranked(*db, RawId(u)), before[u]) << u;  // same serving model, new ids
  }
  EXPECT_EQ(db->GetUser(RawId(0))->id, RawId(0));
  EXPECT_EQ(std::get<std::string>(db->GetUser(RawId(0))->attributes.at("tier")), "gold");
  ASSERT_TRUE(db->Close().ok());

  EXPECT_TRUE(DB::Open(KeyedOptions({kKey1}), dir.path()).status().IsInvalidArgument());
  db = test::OpenOrDie(dir.path(), KeyedOptions({kKey1, kKey2}));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->GetUserHistory(RawId(5))->size(), 8u);
  ASSERT_TRUE(db->Train().ok());  // retrained from the rotated database
  for (int u = 0; u < kUsers; ++u) EXPECT_EQ(Ranked(*db, RawId(u)), before[u]) << u;
  ASSERT_TRUE(db->Close().ok());
  EXPECT_FALSE(FilesContaining(dir.path(), new_chain.Apply(RawId(0))).empty());
  EXPECT_TRUE(FilesContaining(dir.path(), old_chain.Apply(RawId(0))).empty());
}

TEST(PrivacyPseudonymTest, RotationPseudonymisesARawDatabase) {
  TempDir dir;
  auto db = test::OpenOrDie(dir.path());
  RecordWorld(*db);
  Settle(*db);
  EXPECT_FALSE(RawIdsOnDisk(dir.path()).empty());
  auto rewritten = db->RotatePseudonymKeys({kKey1});
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  ASSERT_TRUE(db->Close().ok());
  const std::vector<std::string> found = RawIdsOnDisk(dir.path());
  EXPECT_TRUE(found.empty()) << found.front();
  db = test::OpenOrDie(dir.path(), KeyedOptions({kKey1}));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->GetUser(RawId(0))->id, RawId(0));
  EXPECT_TRUE(db->RotatePseudonymKeys({"short"}).status().IsInvalidArgument());
  EXPECT_TRUE(db->RotatePseudonymKeys({}).status().IsInvalidArgument());
}

}  // namespace
}  // namespace recdb
