// Impressions through the public DB API: rotation of items shown N times
// without engagement, their return after the period, and validation.
#include <gtest/gtest.h>

#include <algorithm>

#include "care_test_world.h"

namespace recdb {
namespace {

constexpr int64_t kT0 = 1800000000;

bool Lists(const RecommendResponse& r, const std::string& id) {
  return std::any_of(r.items.begin(), r.items.end(), [&](const auto& x) { return x.id == id; });
}

class ImpressionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.care.rotate_after_impressions = 3;
    o.care.rotate_period_seconds = 3600;
    db_ = test::OpenCareWorld(dir_.path(), o);
    ASSERT_NE(db_, nullptr);
  }
  RecommendResponse At(int64_t now) {
    RecommendRequest r;
    r.user = "u3";
    r.k = 3;
    r.now = now;
    auto res = db_->Recommend(r);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res : RecommendResponse{};
  }
  test::TempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(ImpressionsTest, ShownNTimesWithoutEngagementLeavesAndComesBackAfterThePeriod) {
  RecommendResponse first = At(kT0);
  ASSERT_FALSE(first.items.empty());
  const std::string top = first.items[0].id;
  for (int n = 0; n < 3; ++n) {
    EXPECT_TRUE(Lists(At(kT0 + 10 * n), top)) << "still listed after " << n << " impressions";
    ImpressionContext ctx;
    ctx.timestamp = kT0 + 10 * n;
    ASSERT_TRUE(db_->RecordImpressions({}, "u3", {top}, ctx).ok());
  }
  EXPECT_FALSE(Lists(At(kT0 + 30), top)) << "shown 3 times, never engaged: rotated out";
  EXPECT_FALSE(Lists(At(kT0 + 3599), top));
  EXPECT_TRUE(Lists(At(kT0 + 3601), top)) << "the first impression aged past the period";
  // Per request, rotation can be switched off.
  RecommendRequest r;
  r.user = "u3";
  r.k = 3;
  r.now = kT0 + 30;
  r.care = CareOptions{};
  r.care->rotate_after_impressions = 0;
  auto res = db_->Recommend(r);
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(Lists(*res, top));
}

TEST_F(ImpressionsTest, SurvivesReopen) {
  const std::string top = At(kT0).items.at(0).id;
  for (int n = 0; n < 3; ++n) {
    ImpressionContext ctx;
    ctx.timestamp = kT0 + n;
    ctx.context["surface"] = "home";
    ASSERT_TRUE(db_->RecordImpressions({}, "u3", {top, "b1"}, ctx).ok());
  }
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  Options o;
  o.background_threads = 0;
  o.care.rotate_after_impressions = 3;
  o.care.rotate_period_seconds = 3600;
  auto db = DB::Open(o, dir_.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = std::move(*db);
  ASSERT_TRUE(db_->Train().ok());
  EXPECT_FALSE(Lists(At(kT0 + 10), top));
}

TEST_F(ImpressionsTest, BadInputsAreClearErrors) {
  EXPECT_TRUE(db_->RecordImpressions({}, "nobody", {"a1"}).IsNotFound());
  EXPECT_TRUE(db_->RecordImpressions({}, "u3", {"a1", "zzz"}).IsInvalidArgument());
  EXPECT_TRUE(db_->RecordImpressions({}, "u3", {}).IsInvalidArgument());
  ImpressionContext ctx;
  ctx.timestamp = -5;
  EXPECT_TRUE(db_->RecordImpressions({}, "u3", {"a1"}, ctx).IsInvalidArgument());
}

}  // namespace
}  // namespace recdb
