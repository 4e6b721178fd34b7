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
