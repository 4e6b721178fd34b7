// Issue 19 on the HTTP surface (tools/serve/api_service.h, what `recdb serve`
// answers): dropped events reported as dropped, a true erasure receipt,
// weights and boosts outside the documented range refused with 400, the
// cold-start fallback explained as such and item-to-item sentences.
#include "tools/serve/api_service.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "test_util.h"
#include "serve/synthetic_db.h"

namespace recdb::serve {
namespace {

using json = nlohmann::json;

class TruthHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = test::OpenSyntheticDb(dir_.Sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    api_ = std::make_unique<ApiService>(db_.get(), ApiService::Config{});
  }
  void TearDown() override { ASSERT_TRUE(db_->Close().ok()); }

  std::pair<int, json> Call(const char* method, const std::string& target,
                            const std::string& body = "") {
    ApiResponse r = api_->Handle(method, target, body);
    return {r.status, json::parse(r.body, nullptr, false)};
  }

  test::TempDir dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<ApiService> api_;
};

// #3: answered {"events": 1} for an event the forget ledger dropped.
// #4: had_user_record was false for a user created by their first event.
TEST_F(TruthHttpTest, ForgottenUsersEventsAreReportedDroppedAndTheReceiptIsTrue) {
  auto [s1, b1] = Call("POST", "/v1/events",
                       R"({"events":[{"user":"gone","item":"i1","ts":1700000000}]})");
  ASSERT_EQ(s1, 200) << b1.dump();
  auto [s2, receipt] = Call("POST", "/v1/forget", R"({"user":"gone"})");
  ASSERT_EQ(s2, 200) << receipt.dump();
  EXPECT_EQ(receipt["had_user_record"], true);
  EXPECT_EQ(receipt["user_auto_created"], true);
  const int64_t before = db_->GetStats()->events;
  auto [s3, b3] = Call("POST", "/v1/events",
                       R"({"events":[{"user":"gone","item":"i1","ts":1700000001},)"
                       R"({"user":"u1","item":"i2","ts":1700000002}]})");
  ASSERT_EQ(s3, 200) << b3.dump();
  EXPECT_EQ(b3["events"], 1);
  EXPECT_EQ(b3["stored"], 1);
  EXPECT_EQ(b3["dropped_forgotten"], 1);
  EXPECT_NE(b3.value("warning", "").find("forget ledger"), std::string::npos) << b3.dump();
  EXPECT_EQ(db_->GetStats()->events, before + 1);
}

// #9: weights of 1e300 answered 200 with "score": null (NaN).
TEST_F(TruthHttpTest, WeightsAndBoostsOutsideTheRangeAre400) {
  auto [s1, b1] = Call("GET", "/v1/recommend?user=u1&k=5&weight=trending=1e300");
  EXPECT_EQ(s1, 400) << b1.dump();
  EXPECT_EQ(b1["error"]["code"], "invalid_argument");
  EXPECT_NE(b1["error"]["message"].get<std::string>().find("weight of 'trending' must be a "
                                                             "number in [-1e6, 1e6]"),
            std::string::npos)
      << b1.dump();
  auto [s2, b2] = Call("GET", "/v1/recommend?user=u1&k=5&boost=i1=-1e7");
  EXPECT_EQ(s2, 400) << b2.dump();
  EXPECT_NE(b2["error"]["message"].get<std::string>().find("boost of 'i1'"), std::string::npos)
      << b2.dump();
  auto [s3, b3] = Call("GET", "/v1/recommend?user=u1&k=5&weight=trending=1e6");
  ASSERT_EQ(s3, 200) << b3.dump();
  for (const auto& item : b3["items"]) EXPECT_TRUE(item["score"].is_number()) << b3.dump();
}

// #5: an unknown user got the lowest item ids at score 0 and "Often chosen
// together with items in your history".
TEST_F(TruthHttpTest, UnknownUserGetsTheExplainedPopularityFallback) {
  auto [s, b] = Call("GET", "/v1/recommend?user=stranger&k=10&explain=1");
  ASSERT_EQ(s, 200) << b.dump();
  ASSERT_EQ(b["items"].size(), 10u);
  std::vector<std::string> ids;
  for (const auto& item : b["items"]) {
    ids.push_back(item["id"]);
    EXPECT_GT(item["score"].get<double>(), 0.0) << b.dump();
    const std::string sentence = item["explanation"]["sentence"];
    EXPECT_NE(sentence.find("does not know your tastes yet"), std::string::npos) << sentence;
    EXPECT_EQ(sentence.find("your history"), std::string::npos) << sentence;
  }
  // Not the catalogue's first ids in order: the most popular items.
  auto counts_of = [&](const std::string& id) { return db_->GetItemCounts(id)->total; };
  EXPECT_GE(counts_of(ids.front()), counts_of(ids.back()));
  EXPECT_NE(ids, (std::vector<std::string>{"i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7",
                                           "i8", "i9"}));
}

// #5: the caller who asks for it gets NotFound for an unknown user instead
// of the fallback; the parameter was a 400 (unknown parameter) before.
TEST_F(TruthHttpTest, RequireKnownUserMakesAnUnknownUser404) {
  auto [s, b] = Call("GET", "/v1/recommend?user=stranger&k=3&require_known_user=true");
  EXPECT_EQ(s, 404) << b.dump();
  EXPECT_EQ(b["error"]["code"], "not_found") << b.dump();
  EXPECT_NE(b["error"]["message"].get<std::string>().find("unknown user 'stranger'"),
            std::string::npos)
      << b.dump();
  auto [s2, b2] = Call("GET", "/v1/recommend?user=u1&k=3&require_known_user=true");
  EXPECT_EQ(s2, 200) << b2.dump();
  EXPECT_EQ(b2["items"].size(), 3u);
  auto [s3, b3] = Call("GET", "/v1/recommend?user=stranger&k=3&require_known_user=false");
  EXPECT_EQ(s3, 200) << b3.dump();
}

// #8: `similar --explain` said "Because you interacted with X" with no user.
TEST_F(TruthHttpTest, SimilarItemsHaveTheirOwnSentence) {
  auto [s, b] = Call("GET", "/v1/similar?item=i1&k=5&explain=1");
  ASSERT_EQ(s, 200) << b.dump();
  ASSERT_FALSE(b["items"].empty());
  for (const auto& item : b["items"]) {
    const std::string sentence = item["explanation"]["sentence"];
    EXPECT_EQ(sentence.find("you interacted"), std::string::npos) << sentence;
    EXPECT_EQ(sentence.find("your history"), std::string::npos) << sentence;
    for (const auto& e : item["explanation"]["evidence"]) {
      EXPECT_EQ(e["text"].get<std::string>().find("you interacted"), std::string::npos);
    }
  }
}

// #16: user=1&user=2 silently took the last.
TEST_F(TruthHttpTest, ASingleValuedParameterGivenTwiceIs400) {
  auto [s, b] = Call("GET", "/v1/recommend?user=u1&user=u2&k=3");
  EXPECT_EQ(s, 400) << b.dump();
  EXPECT_NE(b["error"]["message"].get<std::string>().find("user: given more than once"),
            std::string::npos)
      << b.dump();
  auto [s2, b2] = Call("GET", "/v1/recommend?user=u1&pin=i1&pin=i2&k=3");
  EXPECT_EQ(s2, 200) << b2.dump();  // repeatable parameters stay repeatable
}

}  // namespace
}  // namespace recdb::serve
