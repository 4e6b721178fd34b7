#include "tools/import/movielens.h"

#include <fstream>

#include <gtest/gtest.h>

#include "test_util.h"
#include "tools/import/line_reader.h"
#include "tools/import/text_encoding.h"

namespace recdb::tools {
namespace {

TEST(MovieLensTest, ParsesAnItemLineWithGenresAndReleaseDate) {
  auto item = ParseMovieLensItemLine(
      "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|"
      "0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0",
      DefaultMovieLensGenres());
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ(item->id, "1");
  EXPECT_EQ(item->title, "Toy Story (1995)");
  EXPECT_EQ(item->categories, (std::vector<std::string>{"Animation", "Children's", "Comedy"}));
  EXPECT_EQ(item->created_at, 788918400);  // 1995-01-01T00:00:00Z
}

TEST(MovieLensTest, ConvertsLatin1TitlesToUtf8) {
  // u.item line 543 as the file stores it: 0xE9 is Latin-1 'é'.
  auto item = ParseMovieLensItemLine(
      "543|Mis\xE9rables, Les (1995)|01-Jan-1995||http://x|"
      "0|0|0|0|0|0|0|0|1|0|0|0|1|0|0|0|0|0|0",
      DefaultMovieLensGenres());
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ(item->title, "Mis\xC3\xA9rables, Les (1995)");
  EXPECT_TRUE(IsValidUtf8(item->title));
  EXPECT_EQ(item->categories, (std::vector<std::string>{"Drama", "Musical"}));
}

TEST(MovieLensTest, RealFileItem543IsMiserables) {
  RECDB_REQUIRE_ML100K(dir);
  auto reader = LineReader::Open(dir + "/u.item");
  ASSERT_TRUE(reader.ok());
  std::string line;
  for (int i = 0; i < 543; ++i) {
    ASSERT_EQ((*reader)->Next(&line), LineReader::Result::kLine);
  }
  auto item = ParseMovieLensItemLine(line, DefaultMovieLensGenres());
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ(item->id, "543");
  EXPECT_EQ(item->title, "Misérables, Les (1995)");
}

TEST(MovieLensTest, UnknownReleaseDateLeavesCreatedAtZero) {
  auto item = ParseMovieLensItemLine("267|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0",
                                     DefaultMovieLensGenres());
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ(item->created_at, 0);
  EXPECT_EQ(item->categories, std::vector<std::string>{"unknown"});
}

TEST(MovieLensTest, BadItemLinesAreErrors) {
  EXPECT_FALSE(ParseMovieLensItemLine("1|x|01-Jan-1995", DefaultMovieLensGenres()).ok());
  EXPECT_FALSE(ParseMovieLensItemLine("x|t||||0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0",
                                      DefaultMovieLensGenres())
                   .ok());
  EXPECT_FALSE(ParseMovieLensItemLine("1|t||||2|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0",
                                      DefaultMovieLensGenres())
                   .ok());
}

TEST(MovieLensTest, ParsesRatingLines) {
  auto e = ParseMovieLensRatingLine("196\t242\t3\t881250949");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->user, "196");
  EXPECT_EQ(e->item, "242");
  EXPECT_EQ(e->type, "rating");
  EXPECT_TRUE(e->has_value);
  EXPECT_EQ(e->value, 3.0);
  EXPECT_EQ(e->timestamp, 881250949);
  EXPECT_FALSE(ParseMovieLensRatingLine("196 242 3 881250949").ok());
  EXPECT_FALSE(ParseMovieLensRatingLine("196\t242\tgood\t881250949").ok());
  EXPECT_FALSE(ParseMovieLensRatingLine("196\t242\t3\t-1").ok());
}

TEST(MovieLensTest, ParsesLatestCsvRows) {
  auto m = ParseMovieLensMovieRow({"1", "Toy Story (1995)", "Adventure|Animation"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->categories, (std::vector<std::string>{"Adventure", "Animation"}));
  EXPECT_EQ(m->created_at, 788918400);
  auto none = ParseMovieLensMovieRow({"2", "Untitled", "(no genres listed)"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->categories.empty());
  EXPECT_EQ(none->created_at, 0);
  auto r = ParseMovieLensRatingRow({"1", "31", "2.5", "1260759144"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value, 2.5);
  EXPECT_FALSE(ParseMovieLensRatingRow({"1", "31", "2.5"}).ok());
}

TEST(MovieLensTest, Dates) {
  EXPECT_EQ(ParseMovieLensDate("01-Jan-1970"), 0);
  EXPECT_EQ(ParseMovieLensDate("02-Mar-1998"), 888796800);
  EXPECT_FALSE(ParseMovieLensDate("").has_value());
  EXPECT_FALSE(ParseMovieLensDate("32-Foo-1998").has_value());
  EXPECT_EQ(YearFromTitle("Heat (1995)"), 788918400);
  EXPECT_FALSE(YearFromTitle("Heat").has_value());
  // Issue 19 #15: films before 1970 keep their date (a negative time).
  EXPECT_EQ(YearFromTitle("Nosferatu (1922)"), -1514764800);
  EXPECT_EQ(ParseMovieLensDate("01-Jan-1922"), -1514764800);
  EXPECT_EQ(UnixSecondsFromDate(1, 1, 1), kMinCreatedAt);
}

TEST(MovieLensTest, TagsBecomeAnAttributeMostGivenFirst) {
  MovieLensTags tags;
  for (const char* t : {"funny", " Funny ", "pixar", "Pixar", "FUNNY", "a"}) {
    ASSERT_TRUE(AddMovieLensTagRow({"1", "10", t, "1500000000"}, &tags).ok()) << t;
  }
  EXPECT_EQ(MovieLensTagAttribute(tags["10"]), (std::vector<std::string>{"funny", "pixar", "a"}));
  EXPECT_FALSE(AddMovieLensTagRow({"1", "10", "  ", "1"}, &tags).ok());
  EXPECT_FALSE(AddMovieLensTagRow({"1", "x", "t", "1"}, &tags).ok());
  EXPECT_FALSE(AddMovieLensTagRow({"1", "10", "t"}, &tags).ok());
  std::map<std::string, int64_t> many;
  for (int i = 0; i < 300; ++i) many["t" + std::to_string(i)] = i;
  many[std::string(kMaxAttributeValueBytes + 1, 'x')] = 1000;
  auto attr = MovieLensTagAttribute(many);
  ASSERT_EQ(attr.size(), kMaxListElements);
  EXPECT_EQ(attr.front(), "t299");  // the over-long tag is left out, not the list
}

TEST(MovieLensTest, GenreLines) {
  std::vector<std::string> genres;
  ASSERT_TRUE(ParseMovieLensGenreLine("Action|1", &genres).ok());
  ASSERT_TRUE(ParseMovieLensGenreLine("unknown|0", &genres).ok());
  ASSERT_TRUE(ParseMovieLensGenreLine("", &genres).ok());
  EXPECT_EQ(genres, (std::vector<std::string>{"unknown", "Action"}));
  EXPECT_FALSE(ParseMovieLensGenreLine("Action", &genres).ok());
}

}  // namespace
}  // namespace recdb::tools
