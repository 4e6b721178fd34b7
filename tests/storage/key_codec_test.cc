#include "storage/key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace recdb::storage {
namespace {

TEST(KeyCodecTest, FixedWidthRoundTrip) {
  char buf[8];
  for (uint32_t v : {0u, 1u, 255u, 256u, 0x12345678u, UINT32_MAX}) {
    EncodeFixed32BE(buf, v);
    EXPECT_EQ(DecodeFixed32BE(buf), v);
  }
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 40, UINT64_MAX}) {
    EncodeFixed64BE(buf, v);
    EXPECT_EQ(DecodeFixed64BE(buf), v);
    EncodeFixed64LE(buf, v);
    EXPECT_EQ(DecodeFixed64LE(buf), v);
  }
  for (int64_t v : {INT64_MIN, int64_t{-1}, int64_t{0}, int64_t{1}, INT64_MAX}) {
    EXPECT_EQ(SignedFromOrdered(OrderedFromSigned(v)), v);
  }
}

TEST(KeyCodecTest, EventKeysSortByUserThenTimeThenSequence) {
  std::mt19937_64 rng(42);
  struct Parts {
    uint32_t user;
    int64_t ts;
    uint64_t seq;
  };
  std::vector<Parts> parts;
  for (int i = 0; i < 2000; ++i) {
    parts.push_back({static_cast<uint32_t>(rng() % 300), static_cast<int64_t>(rng() % 5000) - 100,
                     rng() % 100000});
  }
  parts.push_back({0, INT64_MIN, 0});
  parts.push_back({UINT32_MAX - 1, INT64_MAX, UINT64_MAX});
  std::vector<std::string> keys;
  for (const Parts& p : parts) keys.push_back(EventKey(p.user, p.ts, p.seq));
  std::vector<size_t> by_key(parts.size()), by_tuple(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) by_key[i] = by_tuple[i] = i;
  std::stable_sort(by_key.begin(), by_key.end(),
                   [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  std::stable_sort(by_tuple.begin(), by_tuple.end(), [&](size_t a, size_t b) {
    const Parts& x = parts[a];
    const Parts& y = parts[b];
    if (x.user != y.user) return x.user < y.user;
    if (x.ts != y.ts) return x.ts < y.ts;
    return x.seq < y.seq;
  });
  EXPECT_EQ(by_key, by_tuple);
  for (size_t i = 0; i < parts.size(); ++i) {
    EventKeyParts out;
    ASSERT_TRUE(ParseEventKey(keys[i], &out));
    EXPECT_EQ(out.user, parts[i].user);
    EXPECT_EQ(out.timestamp, parts[i].ts);
    EXPECT_EQ(out.sequence, parts[i].seq);
  }
  EventKeyParts out;
  EXPECT_FALSE(ParseEventKey("short", &out));
}

TEST(KeyCodecTest, UserEventRangeContainsExactlyThatUser) {
  for (uint32_t user : {0u, 7u, 0xFFFFu, UINT32_MAX - 1, UINT32_MAX}) {
    const std::string begin = UserEventsBegin(user);
    const std::string end = UserEventsEnd(user);
    EXPECT_LE(begin, EventKey(user, INT64_MIN, 0));
    EXPECT_LT(EventKey(user, INT64_MAX, UINT64_MAX), end);
    if (user > 0) {
      EXPECT_LT(EventKey(user - 1, INT64_MAX, UINT64_MAX), begin);
    }
    if (user < UINT32_MAX) {
      EXPECT_LE(end, EventKey(user + 1, INT64_MIN, 0));
    }
  }
  // Time lower bounds order with the timestamps.
  EXPECT_LT(EventKeyLowerBound(3, 100), EventKey(3, 100, 0) + "x");
  EXPECT_LT(EventKey(3, 99, UINT64_MAX), EventKeyLowerBound(3, 100));
}

TEST(KeyCodecTest, StatsKeysRoundTripAndGroupByItem) {
  char buf[kStatsDayKeySize];
  std::vector<std::string> keys;
  for (uint32_t item : {1u, 2u}) {
    EncodeStatsAllTimeKey(buf, item, 3);
    keys.emplace_back(buf, kStatsAllTimeKeySize);
    for (int64_t day : {int64_t{-2}, int64_t{0}, int64_t{19000}}) {
      EncodeStatsDayKey(buf, item, day, 3);
      keys.emplace_back(buf, kStatsDayKeySize);
      StatsKeyParts p;
      ASSERT_TRUE(ParseStatsKey(keys.back(), &p));
      EXPECT_EQ(p.item, item);
      EXPECT_FALSE(p.all_time);
      EXPECT_EQ(p.day, day);
      EXPECT_EQ(p.type, 3);
    }
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));  // all-time first, days ascending
  StatsKeyParts p;
  ASSERT_TRUE(ParseStatsKey(keys[0], &p));
  EXPECT_TRUE(p.all_time);
  EXPECT_FALSE(ParseStatsKey("abc", &p));
  EXPECT_EQ(DayOf(0), 0);
  EXPECT_EQ(DayOf(86399), 0);
  EXPECT_EQ(DayOf(86400), 1);
  EXPECT_EQ(DayOf(-1), -1);
}

TEST(KeyCodecTest, IdsAndMetaKeys) {
  EXPECT_EQ(IdKey(EntityKind::kItem, "abc"), "iabc");
  EXPECT_NE(IdKey(EntityKind::kItem, "x"), IdKey(EntityKind::kUser, "x"));
  uint32_t iid = 0;
  uint8_t bits = 0;
  ASSERT_TRUE(ParseIdValue(EntityKind::kUser, UserIdValue(77, kConsentTraining), &iid, &bits));
  EXPECT_EQ(iid, 77u);
  EXPECT_EQ(bits, kConsentTraining);
  ASSERT_TRUE(ParseIdValue(EntityKind::kItem, ItemIdValue(5), &iid, &bits));
  EXPECT_EQ(iid, 5u);
  EXPECT_FALSE(ParseIdValue(EntityKind::kUser, ItemIdValue(5), &iid, &bits));
  uint16_t type = 0;
  ASSERT_TRUE(ParseEventTypeKey(EventTypeKey(513), &type));
  EXPECT_EQ(type, 513);
  EXPECT_LT(EventTypeKey(2), EventTypeKey(256));
  uint64_t v = 0;
  ASSERT_TRUE(DecodeCounter(EncodeCounter(123456789), &v));
  EXPECT_EQ(v, 123456789u);
  EXPECT_FALSE(DecodeCounter("1234", &v));
}

}  // namespace
}  // namespace recdb::storage
