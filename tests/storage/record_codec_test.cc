#include "storage/record_codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace recdb::storage {
namespace {

Item SampleItem() {
  Item item;
  item.id = "movie-42";
  item.title = "Toy Story (1995)";
  item.description = "A cowboy doll is profoundly threatened...";
  item.categories = {"Animation", "Children's", "Comedy"};
  item.creator = "Pixar";
  item.created_at = 817776000;
  item.available = false;
  item.attributes["year"] = 1995.0;
  item.attributes["lang"] = std::string("en");
  item.attributes["adult"] = false;
  item.attributes["tags"] = std::vector<std::string>{"toys", "friendship"};
  return item;
}

TEST(RecordCodecTest, ItemRoundTrip) {
  Item in = SampleItem();
  Item out;
  ASSERT_TRUE(DecodeItem(EncodeItem(in), &out).ok());
  EXPECT_EQ(in, out);
  Item minimal;
  minimal.id = "x";
  ASSERT_TRUE(DecodeItem(EncodeItem(minimal), &out).ok());
  EXPECT_EQ(minimal, out);
}

TEST(RecordCodecTest, UserRoundTrip) {
  User in;
  in.id = "u1";
  in.attributes["age"] = 31.0;
  in.consent.store_events = false;
  in.consent.training = false;
  User out;
  ASSERT_TRUE(DecodeUser(EncodeUser(in), &out).ok());
  EXPECT_EQ(in, out);
}

TEST(RecordCodecTest, EventRoundTripWithContext) {
  EventPayload p{12345, 4, 4.5, true};
  std::map<std::string, std::string> ctx{{"device", "tv"}, {"session", "s-9"}};
  EventPayload out;
  std::map<std::string, std::string> out_ctx;
  ASSERT_TRUE(DecodeEventRecord(EncodeEventRecord(p, ctx), &out, &out_ctx).ok());
  EXPECT_EQ(out.item, 12345u);
  EXPECT_EQ(out.type, 4);
  EXPECT_EQ(out.value, 4.5);
  EXPECT_TRUE(out.has_value);
  EXPECT_EQ(out_ctx, ctx);
  // Unaligned input (RocksDB hands values out at any address) still decodes.
  std::string bytes = EncodeEventRecord(p, ctx);
  std::string shifted = "x" + bytes;
  ASSERT_TRUE(DecodeEventRecord(std::string_view(shifted).substr(1), &out, nullptr).ok());
  EXPECT_EQ(out.item, 12345u);
}

TEST(RecordCodecTest, EventTypeRoundTrip) {
  EventType out;
  ASSERT_TRUE(DecodeEventType(EncodeEventType({"purchase", 5}), &out).ok());
  EXPECT_EQ(out, (EventType{"purchase", 5}));
  ASSERT_TRUE(DecodeEventType(EncodeEventType({"view", 1}), &out).ok());  // default weight
  EXPECT_EQ(out.weight, 1.0);
}

TEST(RecordCodecTest, CorruptedBytesAreCorruptionNeverACrash) {
  Item out;
  EXPECT_TRUE(DecodeItem("", &out).IsCorruption());
  EXPECT_TRUE(DecodeItem("ab", &out).IsCorruption());
  EXPECT_TRUE(DecodeItem(std::string(64, '\xff'), &out).IsCorruption());
  const std::string good = EncodeItem(SampleItem());
  // Truncations.
  for (size_t n = 0; n < good.size(); n += 7) {
    Status s = DecodeItem(std::string_view(good).substr(0, n), &out);
    EXPECT_FALSE(s.ok() && n < 8) << n;
  }
  // Random byte flips: each must either decode or be Corruption.
  std::mt19937 rng(7);
  int corrupt = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bad = good;
    for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    Status s = DecodeItem(bad, &out);
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      ++corrupt;
    }
  }
  EXPECT_GT(corrupt, 0);
  // The root offset pointing outside the buffer.
  std::string bad = good;
  bad[0] = '\xf0';
  bad[1] = '\xff';
  EXPECT_TRUE(DecodeItem(bad, &out).IsCorruption());
  EventPayload ev;
  EXPECT_TRUE(DecodeEventRecord(std::string(3, '\0'), &ev, nullptr).IsCorruption());
  User u;
  EXPECT_TRUE(DecodeUser(std::string(16, '\x7f'), &u).IsCorruption());
}

}  // namespace
}  // namespace recdb::storage
