// The snapshot manifest format (storage/snapshot_manifest.h, FORMAT.md).
#include "storage/snapshot_manifest.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "common/crc32c.h"

namespace recdb::storage {
namespace {

SnapshotManifest Sample() {
  SnapshotManifest m;
  m.format_version = 1;
  m.sequence = 171924;
  m.created_unix_micros = 1795542242102151;
  m.db_id = "a551fcc7-4a4c-408b-9a78-00f68dd1f495";
  m.files = {{"db/000042.sst", 1555, 0xfc5eb7db},
             {"db/CURRENT", 16, 0x8ff216d8},
             {"derived/space-1-item.hnsw", 8100, 0x01020304}};
  return m;
}

TEST(SnapshotManifestTest, RoundTrips) {
  const SnapshotManifest m = Sample();
  const std::string text = SerializeManifest(m);
  SnapshotManifest back;
  ASSERT_TRUE(ParseManifest(text, &back).ok());
  EXPECT_EQ(back.format_version, 1u);
  EXPECT_EQ(back.sequence, 171924u);
  EXPECT_EQ(back.created_unix_micros, m.created_unix_micros);
  EXPECT_EQ(back.db_id, m.db_id);
  ASSERT_EQ(back.files.size(), 3u);
  EXPECT_EQ(back.files[2].path, "derived/space-1-item.hnsw");
  EXPECT_EQ(back.files[2].crc32c, 0x01020304u);
  EXPECT_EQ(back.TotalBytes(), 1555u + 16 + 8100);
  EXPECT_EQ(SerializeManifest(back), text);
}

TEST(SnapshotManifestTest, EverySingleByteChangeIsCorruption) {
  const std::string text = SerializeManifest(Sample());
  for (size_t i = 0; i < text.size(); ++i) {
    for (char delta : {'\x01', '\x20', '\x80'}) {
      std::string bad = text;
      bad[i] ^= delta;
      SnapshotManifest out;
      Status s = ParseManifest(bad, &out);
      EXPECT_TRUE(s.IsCorruption()) << "byte " << i << " ^ " << int(delta);
    }
  }
}

TEST(SnapshotManifestTest, EveryTruncationIsCorruption) {
  const std::string text = SerializeManifest(Sample());
  for (size_t n = 0; n < text.size(); ++n) {
    SnapshotManifest out;
    EXPECT_TRUE(ParseManifest(text.substr(0, n), &out).IsCorruption()) << n;
  }
}

TEST(SnapshotManifestTest, UnsafePathsAreRejectedEvenWithAValidChecksum) {
  for (const char* path : {"../etc/passwd", "/abs", "db/../../x", "db//x", "./db", "db/",
                           "snapshot.manifest", "a\\b"}) {
    SnapshotManifest m = Sample();
    m.files = {{path, 1, 0}};
    SnapshotManifest out;
    EXPECT_TRUE(ParseManifest(SerializeManifest(m), &out).IsCorruption()) << path;
  }
  SnapshotManifest dup = Sample();
  dup.files.push_back(dup.files[0]);
  SnapshotManifest out;
  EXPECT_TRUE(ParseManifest(SerializeManifest(dup), &out).IsCorruption());
  EXPECT_TRUE(IsSafeRelativePath("db/000042.sst"));
  EXPECT_FALSE(IsSafeRelativePath(""));
}

TEST(SnapshotManifestTest, NewerManifestVersionIsRefusedByName) {
  std::string text = SerializeManifest(Sample());
  std::string body = text.substr(0, text.rfind("manifest_crc32c "));
  body.replace(body.find(" 1\n"), 3, " 2\n");
  char crc[16];
  std::snprintf(crc, sizeof(crc), "%08x", Crc32c(body));
  SnapshotManifest m;
  Status s = ParseManifest(body + "manifest_crc32c " + crc + "\n", &m);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("manifest version 2"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace recdb::storage
