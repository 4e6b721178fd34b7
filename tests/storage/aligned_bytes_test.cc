// AlignedBytes (storage/aligned_bytes.h) and the record decoders on values at
// every misalignment: RocksDB hands out values at arbitrary addresses, and a
// FlatBuffers read from a misaligned buffer is undefined behaviour (the
// ASan+UBSan build, scripts/test.sh --asan, fails these tests without the
// aligned copy).
#include "storage/aligned_bytes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "storage/record_codec.h"
#include "test_util.h"

namespace recdb::storage {
namespace {

using test::PlaceAt;

TEST(AlignedBytesTest, AlignedInputIsUsedInPlace) {
  std::vector<uint64_t> arena;
  const std::string bytes(100, 'x');
  const std::string_view v = PlaceAt(bytes, 0, &arena);
  AlignedBytes aligned(v);
  EXPECT_FALSE(aligned.copied());
  EXPECT_EQ(aligned.data(), reinterpret_cast<const uint8_t*>(v.data()));
  EXPECT_EQ(aligned.size(), v.size());
}

TEST(AlignedBytesTest, MisalignedInputIsCopiedToAnAlignedBuffer) {
  for (size_t size : {size_t{1}, size_t{255}, size_t{256}, size_t{257}, size_t{5000}}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 31 + 7);
    for (size_t offset = 1; offset < 8; ++offset) {
      std::vector<uint64_t> arena;
      const std::string_view v = PlaceAt(bytes, offset, &arena);
      AlignedBytes aligned(v);
      EXPECT_TRUE(aligned.copied()) << size << " " << offset;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned.data()) % AlignedBytes::kAlignment, 0u);
      ASSERT_EQ(aligned.size(), size);
      EXPECT_EQ(std::memcmp(aligned.data(), bytes.data(), size), 0) << size << " " << offset;
    }
  }
}

TEST(AlignedBytesTest, EmptyInput) {
  AlignedBytes aligned(std::string_view{});
  EXPECT_EQ(aligned.size(), 0u);
  Item item;
  EXPECT_TRUE(DecodeItem(std::string_view{}, &item).IsCorruption());
}

// Each record kind decodes to the same value at offsets 0..7 from an
// 8-aligned address (event values are doubles, stats deltas int64s: the
// 8-byte scalars).
TEST(AlignedBytesTest, EveryRecordDecodesAtEveryMisalignment) {
  Item item;
  item.id = "movie-42";
  item.title = "Toy Story (1995)";
  item.categories = {"Animation", "Comedy"};
  item.created_at = 817776000;
  item.attributes["year"] = 1995.0;
  item.attributes["tags"] = std::vector<std::string>{"toys", "friendship"};
  item.attributes["blurb"] = std::string(400, 'b');  // > the 256-byte stack scratch
  User user;
  user.id = "u-7";
  user.attributes["age"] = 31.0;
  EventPayload event;
  event.item = 12345;
  event.type = 3;
  event.value = 4.5;
  event.has_value = true;
  const std::map<std::string, std::string> context = {{"device", "phone"}};
  const std::vector<ItemStatsDeltaEntry> deltas = {{7, 1, 20000, 3}, {9, 2, 20001, -1}};
  flatbuffers::FlatBufferBuilder fbb;
  BuildItemStatsDelta(deltas.data(), deltas.size(), &fbb);
  const std::string delta_bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                                fbb.GetSize());
  const EventType type{"purchase", 5};

  const std::string item_bytes = EncodeItem(item);
  const std::string user_bytes = EncodeUser(user);
  const std::string event_bytes = EncodeEventRecord(event, context);
  const std::string type_bytes = EncodeEventType(type);
  for (size_t offset = 0; offset < 8; ++offset) {
    SCOPED_TRACE(offset);
    std::vector<uint64_t> arena;
    Item item_out;
    ASSERT_TRUE(DecodeItem(PlaceAt(item_bytes, offset, &arena), &item_out).ok());
    EXPECT_EQ(item_out, item);
    User user_out;
    ASSERT_TRUE(DecodeUser(PlaceAt(user_bytes, offset, &arena), &user_out).ok());
    EXPECT_EQ(user_out, user);
    EventPayload event_out;
    std::map<std::string, std::string> context_out;
    ASSERT_TRUE(
        DecodeEventRecord(PlaceAt(event_bytes, offset, &arena), &event_out, &context_out).ok());
    EXPECT_EQ(event_out.item, event.item);
    EXPECT_EQ(event_out.type, event.type);
    EXPECT_EQ(event_out.value, event.value);
    EXPECT_TRUE(event_out.has_value);
    EXPECT_EQ(context_out, context);
    std::vector<ItemStatsDeltaEntry> deltas_out;
    ASSERT_TRUE(DecodeItemStatsDelta(PlaceAt(delta_bytes, offset, &arena), &deltas_out).ok());
    ASSERT_EQ(deltas_out.size(), deltas.size());
    for (size_t i = 0; i < deltas.size(); ++i) {
      EXPECT_EQ(deltas_out[i].item, deltas[i].item);
      EXPECT_EQ(deltas_out[i].type, deltas[i].type);
      EXPECT_EQ(deltas_out[i].day, deltas[i].day);
      EXPECT_EQ(deltas_out[i].count, deltas[i].count);
    }
    EventType type_out;
    ASSERT_TRUE(DecodeEventType(PlaceAt(type_bytes, offset, &arena), &type_out).ok());
    EXPECT_EQ(type_out, type);
  }
}

}  // namespace
}  // namespace recdb::storage
