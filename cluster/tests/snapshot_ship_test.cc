// The shipped-snapshot manifest and its checksum (no server needed).
#include <gtest/gtest.h>

#include <string>

#include "cluster/snapshot_ship.h"

namespace recdb::cluster {
namespace {

TEST(SnapshotShipTest, Crc32cMatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(Crc32c(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c(0, "", 0), 0u);
  // Continuing a CRC over pieces equals one pass, across the 8-byte blocks.
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 37 + 11);
  const uint32_t whole = Crc32c(0, data.data(), data.size());
  for (size_t cut : {size_t{1}, size_t{7}, size_t{8}, size_t{13}, size_t{999}}) {
    EXPECT_EQ(Crc32c(Crc32c(0, data.data(), cut), data.data() + cut, data.size() - cut), whole)
        << cut;
  }
  data[500] ^= 1;
  EXPECT_NE(Crc32c(0, data.data(), data.size()), whole);
}

ShippedManifest Sample() {
  ShippedManifest m;
  m.id = "p500-1733500000000000";
  m.snapshot_name = "snapshot-000003";
  m.position = 500;
  m.created_ns = 1733400000123456789;
  m.partitions = 8;
  m.owned = {0, 1, 2, 3, 6};
  m.chunk_bytes = 16384;
  m.files = {{"db/000012.sst", 40000, 0xdeadbeef, 3}, {"snapshot.manifest", 0, 0, 0},
             {"derived/items.hnsw", 16384, 0x01020304, 1}};
  m.chunks = 4;
  m.bytes = 56384;
  return m;
}

TEST(SnapshotShipTest, ManifestRoundTripsAndInconsistentOnesAreRefused) {
  const ShippedManifest m = Sample();
  const std::string text = FormatShippedManifest(m);
  ShippedManifest back;
  ASSERT_TRUE(ParseShippedManifest(text, &back).ok());
  EXPECT_EQ(FormatShippedManifest(back), text);
  EXPECT_EQ(back.owned, m.owned);
  EXPECT_EQ(back.files[0].crc32c, 0xdeadbeefu);

  ShippedManifest bad = m;
  bad.chunks = 5;  // the files' chunks sum to 4
  EXPECT_TRUE(ParseShippedManifest(FormatShippedManifest(bad), &back).IsCorruption());
  bad = m;
  bad.bytes = 1;
  EXPECT_TRUE(ParseShippedManifest(FormatShippedManifest(bad), &back).IsCorruption());
  EXPECT_TRUE(ParseShippedManifest("not a manifest\n", &back).IsCorruption());
  EXPECT_TRUE(ParseShippedManifest(text.substr(0, text.size() - 1), &back).IsCorruption());
  EXPECT_EQ(SnapshotStreamName("t", m.id), "t-snap-p500-1733500000000000");
  EXPECT_EQ(SnapshotSubject("t", m.id), "t.snap.p500-1733500000000000");
}

}  // namespace
}  // namespace recdb::cluster
