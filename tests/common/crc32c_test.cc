#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

#include "recdb/status.h"

namespace recdb {

// Known answers from RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32cTest, MatchesRfc3720Vectors) {
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(Crc32c(ones), 0x62A8AB43u);
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i);
  EXPECT_EQ(Crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string s = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    uint32_t a = Crc32c(s.data(), cut);
    EXPECT_EQ(Crc32cExtend(a, s.data() + cut, s.size() - cut), Crc32c(s)) << cut;
  }
}

// The instruction path (on CPUs with SSE4.2) against the tables, over every
// length and start alignment around the 8-byte words.
TEST(Crc32cTest, HardwarePathEqualsTables) {
  std::string s(1000, '\0');
  uint32_t x = 12345;
  for (char& c : s) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n = 0; n + start <= 200; ++n) {
      ASSERT_EQ(Crc32cExtend(7, s.data() + start, n), Crc32cExtendPortable(7, s.data() + start, n))
          << start << " " << n;
    }
  }
  EXPECT_EQ(Crc32c(s), Crc32cExtendPortable(0, s.data(), s.size()));
  // Past three 4 KB strides the instruction path runs three streams: every
  // length around one and two blocks, from a non-zero start.
  std::string big(40000, '\0');
  for (char& c : big) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  for (size_t n : {12287, 12288, 12289, 12296, 24575, 24576, 24583, 36864, 39999}) {
    for (size_t start = 0; start < 2; ++start) {
      ASSERT_EQ(Crc32cExtend(7, big.data() + start, n), Crc32cExtendPortable(7, big.data() + start, n))
          << start << " " << n;
    }
  }
}

// Pieces checksummed apart (ReadModelFile verifies a payload's chunks on two
// threads) combine into the checksum of the whole, for every cut, including
// empty pieces, and for a piece long enough to use the high powers.
TEST(Crc32cTest, CombineOfPiecesEqualsWhole) {
  std::string s(3000, '\0');
  uint32_t x = 777;
  for (char& c : s) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  for (size_t cut = 0; cut <= s.size(); cut += (cut < 40 ? 1 : 97)) {
    const uint32_t a = Crc32c(s.data(), cut);
    const uint32_t b = Crc32c(s.data() + cut, s.size() - cut);
    ASSERT_EQ(Crc32cCombine(a, b, s.size() - cut), Crc32c(s)) << cut;
  }
  const std::string big(5'000'000, '\x5a');
  const std::string whole = s + big;
  EXPECT_EQ(Crc32cCombine(Crc32c(s), Crc32c(big), big.size()), Crc32c(whole));
  EXPECT_NE(Crc32cCombine(Crc32c(s), Crc32c(big), big.size() - 1), Crc32c(whole));
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::InvalidArgument("id is empty");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.ToString(), "invalid_argument: id is empty");
  EXPECT_EQ(s.WithContext("event 3").message(), "event 3: id is empty");
  EXPECT_EQ(Status::OK().ToString(), "OK");
}

TEST(StatusTest, StatusOrHoldsValueOrError) {
  StatusOr<int> v = 7;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 7);
  StatusOr<int> e = Status::NotFound("x");
  EXPECT_TRUE(e.status().IsNotFound());
}

}  // namespace recdb
