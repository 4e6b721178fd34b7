// The space codec (engine/spaces/space_codec.h) decodes its FlatBuffers values
// at every misalignment: RocksDB hands out values at arbitrary addresses (the
// ASan+UBSan build, scripts/test.sh --asan, reported misaligned loads here
// before the decoders went through storage::AlignedBytes).
#include "engine/spaces/space_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.h"

namespace recdb::spaces {
namespace {

using test::PlaceAt;

TEST(SpaceCodecTest, ValuesDecodeAtEveryMisalignment) {
  SpaceDefinition def;
  def.id = 3;
  def.created_at = 1700000000;
  def.options.name = "emb";
  def.options.dimension = 70;  // the vector value is > the 256-byte stack scratch
  def.options.metric = Metric::kL2;
  def.options.model_name = "test";
  def.options.model_version = "1";
  std::vector<float> vec(70);
  for (size_t i = 0; i < vec.size(); ++i) vec[i] = 0.25f * static_cast<float>(i) - 3.0f;
  LogEntry entry;
  entry.kind = storage::EntityKind::kUser;
  entry.iid = 77;
  entry.op = LogOp::kDelete;

  const std::string def_bytes = EncodeSpaceDefinition(def);
  const std::string vec_bytes = EncodeVector(vec.data(), vec.size());
  const std::string log_bytes = EncodeLogEntry(entry);
  for (size_t offset = 0; offset < 8; ++offset) {
    SCOPED_TRACE(offset);
    std::vector<uint64_t> arena;
    SpaceDefinition def_out;
    ASSERT_TRUE(DecodeSpaceDefinition(PlaceAt(def_bytes, offset, &arena), &def_out).ok());
    EXPECT_EQ(def_out.id, def.id);
    EXPECT_EQ(def_out.created_at, def.created_at);
    EXPECT_EQ(def_out.options, def.options);
    std::vector<float> vec_out;
    ASSERT_TRUE(DecodeVector(PlaceAt(vec_bytes, offset, &arena), 70, &vec_out).ok());
    EXPECT_EQ(vec_out, vec);
    LogEntry log_out;
    ASSERT_TRUE(DecodeLogEntry(PlaceAt(log_bytes, offset, &arena), &log_out).ok());
    EXPECT_EQ(log_out.kind, entry.kind);
    EXPECT_EQ(log_out.iid, entry.iid);
    EXPECT_EQ(log_out.op, entry.op);
  }
}

TEST(SpaceCodecTest, DamagedValuesAreCorruption) {
  std::vector<float> vec_out;
  EXPECT_TRUE(DecodeVector(std::string_view{}, 4, &vec_out).IsCorruption());
  const std::vector<float> vec = {1, 2, 3, 4};
  const std::string vec_bytes = EncodeVector(vec.data(), vec.size());
  EXPECT_TRUE(DecodeVector(vec_bytes, 5, &vec_out).IsCorruption());  // wrong dimension
  std::vector<uint64_t> arena;
  EXPECT_TRUE(
      DecodeVector(PlaceAt(vec_bytes.substr(0, vec_bytes.size() - 5), 3, &arena), 4, &vec_out)
          .IsCorruption());
  LogEntry log_out;
  EXPECT_TRUE(DecodeLogEntry(std::string(3, '\0'), &log_out).IsCorruption());
  SpaceDefinition def_out;
  EXPECT_TRUE(DecodeSpaceDefinition(std::string(40, '\x7f'), &def_out).IsCorruption());
}

}  // namespace
}  // namespace recdb::spaces
