// The cluster wire format and partition function (cluster/event_codec.h).
#include "cluster/event_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace recdb::cluster {
namespace {

TEST(EventCodecTest, RoundTripsEveryField) {
  Event e;
  e.user = "user-1";
  e.item = std::string("it\0em", 5);
  e.type = "rating";
  e.value = -0.0;
  e.has_value = true;
  e.timestamp = 1700000000;
  e.context = {{"device", "phone"}, {"", "empty key"}};
  std::string body;
  EncodeEvent(e, &body);
  Event back;
  ASSERT_TRUE(DecodeEvent(body, &back).ok());
  EXPECT_EQ(back, e);
  EXPECT_TRUE(std::signbit(back.value));
}

TEST(EventCodecTest, RejectsTruncatedTrailingAndUnknownVersion) {
  Event e;
  e.user = "u";
  e.item = "i";
  e.context = {{"k", "v"}};
  std::string body;
  EncodeEvent(e, &body);
  Event back;
  for (size_t n = 0; n < body.size(); ++n) {
    EXPECT_TRUE(DecodeEvent(body.substr(0, n), &back).IsCorruption()) << n;
  }
  EXPECT_TRUE(DecodeEvent(body + "x", &back).IsCorruption());
  std::string v2 = body;
  v2[0] = 2;
  EXPECT_TRUE(DecodeEvent(v2, &back).IsCorruption());
}

TEST(EventCodecTest, ItemsUsersAndImpressionsRoundTripAndRejectDamage) {
  LogRecord item_rec, user_rec, imp_rec;
  item_rec.kind = LogRecord::Kind::kItem;
  item_rec.item.id = "m1";
  item_rec.item.title = "Title";
  item_rec.item.description = "About";
  item_rec.item.categories = {"drama", "noir"};
  item_rec.item.creator = "someone";
  item_rec.item.created_at = 1400000000;
  item_rec.item.available = false;
  item_rec.item.attributes = {{"s", std::string("x")},
                              {"d", -0.0},
                              {"b", true},
                              {"l", std::vector<std::string>{"a", ""}}};
  user_rec.kind = LogRecord::Kind::kUser;
  user_rec.user.id = "u1";
  user_rec.user.attributes = {{"plan", std::string("gold")}};
  user_rec.user.consent.store_events = false;
  imp_rec.kind = LogRecord::Kind::kImpression;
  imp_rec.impression.user = "u1";
  imp_rec.impression.items = {"m1", "m2"};
  imp_rec.impression.context.timestamp = 1500000000;
  imp_rec.impression.context.context = {{"surface", "home"}};
  imp_rec.impression.context.propensities = {1.0, 0.25};
  std::string item_body, user_body, imp_body;
  EncodeItem(item_rec.item, &item_body);
  EncodeUser(user_rec.user, &user_body);
  EncodeImpression(imp_rec.impression, &imp_body);
  LogRecord back;
  ASSERT_TRUE(DecodeLogRecord(item_body, &back).ok());
  EXPECT_EQ(back.kind, LogRecord::Kind::kItem);
  EXPECT_EQ(back.item, item_rec.item);
  EXPECT_EQ(back.partition_user(), "");  // items are global
  ASSERT_TRUE(DecodeLogRecord(user_body, &back).ok());
  EXPECT_EQ(back.kind, LogRecord::Kind::kUser);
  EXPECT_EQ(back.user, user_rec.user);
  EXPECT_EQ(back.partition_user(), "u1");
  ASSERT_TRUE(DecodeLogRecord(imp_body, &back).ok());
  EXPECT_EQ(back.kind, LogRecord::Kind::kImpression);
  EXPECT_EQ(back.impression.user, "u1");
  EXPECT_EQ(back.impression.items, imp_rec.impression.items);
  EXPECT_EQ(back.impression.context.timestamp, 1500000000);
  EXPECT_EQ(back.impression.context.context, imp_rec.impression.context.context);
  EXPECT_EQ(back.impression.context.propensities, imp_rec.impression.context.propensities);
  EXPECT_EQ(back.partition_user(), "u1");
  for (const std::string& body : {item_body, user_body, imp_body}) {
    for (size_t n = 1; n < body.size(); ++n) {
      EXPECT_TRUE(DecodeLogRecord(body.substr(0, n), &back).IsCorruption()) << n;
    }
    EXPECT_TRUE(DecodeLogRecord(body + "x", &back).IsCorruption());
  }
  EXPECT_TRUE(DecodeLogRecord(std::string(1, '\x09'), &back).IsCorruption());  // unknown kind
}

TEST(EventCodecTest, PartitionIsStableAndSpread) {
  // Part of the wire format: these values must never change.
  EXPECT_EQ(Fnv1a64(""), kFnvOffset);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(PartitionOf("a", 64), 0xaf63dc4c8601ec8cull % 64);
  std::vector<int> hits(8, 0);
  for (int i = 0; i < 8000; ++i) hits[PartitionOf("user" + std::to_string(i), 8)]++;
  for (int h : hits) {
    EXPECT_GT(h, 800);
    EXPECT_LT(h, 1200);
  }
}

}  // namespace
}  // namespace recdb::cluster
