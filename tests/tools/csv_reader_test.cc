#include "tools/import/csv_reader.h"

#include <fstream>

#include <gtest/gtest.h>

#include "test_util.h"
#include "tools/import/record_csv.h"

namespace recdb::tools {
namespace {

std::vector<std::string> Parse(const std::string& text, bool* complete = nullptr) {
  std::vector<std::string> fields;
  bool c = false;
  Status s = ParseCsvRecord(text, ',', &fields, &c);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (complete) *complete = c;
  return fields;
}

TEST(CsvParseTest, PlainFields) {
  EXPECT_EQ(Parse("a,b,c"), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(CsvParseTest, EmptyFieldsAnywhere) {
  EXPECT_EQ(Parse(",b,"), (std::vector<std::string>{"", "b", ""}));
  EXPECT_EQ(Parse(""), (std::vector<std::string>{""}));
  EXPECT_EQ(Parse(",,"), (std::vector<std::string>{"", "", ""}));
}

TEST(CsvParseTest, QuotedFieldsKeepDelimitersAndEscapedQuotes) {
  EXPECT_EQ(Parse(R"("a,b","say ""hi""",c)"),
            (std::vector<std::string>{"a,b", "say \"hi\"", "c"}));
  EXPECT_EQ(Parse(R"("")"), (std::vector<std::string>{""}));
  EXPECT_EQ(Parse(R"(x,"")"), (std::vector<std::string>{"x", ""}));
}

TEST(CsvParseTest, QuoteInsideUnquotedFieldIsLiteral) {
  EXPECT_EQ(Parse(R"(5" screen,b)"), (std::vector<std::string>{"5\" screen", "b"}));
}

TEST(CsvParseTest, TextAfterClosingQuoteIsAnError) {
  std::vector<std::string> fields;
  bool complete = false;
  Status s = ParseCsvRecord(R"(a,"b"x,c)", ',', &fields, &complete);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("field 2"), std::string::npos) << s.message();
}

TEST(CsvParseTest, OpenQuoteAtEndOfTextAsksForMore) {
  bool complete = true;
  Parse("a,\"multi", &complete);
  EXPECT_FALSE(complete);
}

class CsvReaderTest : public ::testing::Test {
 protected:
  std::unique_ptr<LineReader> Write(const std::string& contents) {
    std::string path = dir_.Sub("f.csv");
    std::ofstream(path, std::ios::binary) << contents;
    auto r = LineReader::Open(path);
    EXPECT_TRUE(r.ok());
    return std::move(r).value();
  }
  test::TempDir dir_;
};

TEST_F(CsvReaderTest, CrlfLineEndingsAndQuotedNewlines) {
  auto lines = Write("id,title\r\n1,\"two\r\nlines\"\r\n\r\n2,plain\r\n3,last-no-newline");
  CsvReader csv(lines.get());
  std::vector<std::string> f;
  bool eof = false;
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  EXPECT_EQ(f, (std::vector<std::string>{"id", "title"}));
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  EXPECT_EQ(f, (std::vector<std::string>{"1", "two\nlines"}));
  EXPECT_EQ(csv.line_number(), 2);
  ASSERT_TRUE(csv.Next(&f, &eof).ok());  // the blank line 4 is skipped
  EXPECT_EQ(f, (std::vector<std::string>{"2", "plain"}));
  EXPECT_EQ(csv.line_number(), 5);
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  EXPECT_EQ(f, (std::vector<std::string>{"3", "last-no-newline"}));
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  EXPECT_TRUE(eof);
}

TEST_F(CsvReaderTest, UnterminatedQuoteAtEndOfFileIsAnError) {
  auto lines = Write("a,b\n1,\"never closed\n2,x\n");
  CsvReader csv(lines.get());
  std::vector<std::string> f;
  bool eof = false;
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  Status s = csv.Next(&f, &eof);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(csv.line_number(), 2);
  // Issue 19 #2: only line 2 is lost; line 3 is read again as a record.
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  EXPECT_FALSE(eof);
  EXPECT_EQ(f, (std::vector<std::string>{"2", "x"}));
  EXPECT_EQ(csv.line_number(), 3);
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  EXPECT_TRUE(eof);
}

TEST_F(CsvReaderTest, AQuotedFieldMaySpanAtMostTheLineLimit) {
  std::string text = "a,b\n1,\"opened\n";
  for (int i = 0; i < 10; ++i) text += "r" + std::to_string(i) + ",x\n";
  text += "3,\"two\nlines\"\n";
  auto lines = Write(text);
  CsvReader csv(lines.get(), ',', LineReader::kDefaultMaxLineBytes, /*max_record_lines=*/4);
  std::vector<std::string> f;
  bool eof = false;
  ASSERT_TRUE(csv.Next(&f, &eof).ok());  // the header
  Status s = csv.Next(&f, &eof);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("within 4 lines"), std::string::npos) << s.message();
  EXPECT_EQ(csv.line_number(), 2);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(csv.Next(&f, &eof).ok()) << i;
    EXPECT_EQ(f, (std::vector<std::string>{"r" + std::to_string(i), "x"}));
    EXPECT_EQ(csv.line_number(), 3 + i);
  }
  ASSERT_TRUE(csv.Next(&f, &eof).ok());  // a legitimate two-line field
  EXPECT_EQ(f, (std::vector<std::string>{"3", "two\nlines"}));
  EXPECT_EQ(csv.line_number(), 13);
  EXPECT_EQ(csv.last_line_number(), 14);
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  EXPECT_TRUE(eof);
}

TEST_F(CsvReaderTest, MalformedRecordDoesNotStopTheReader) {
  auto lines = Write("\"a\"x,b\nc,d\n");
  CsvReader csv(lines.get());
  std::vector<std::string> f;
  bool eof = false;
  EXPECT_TRUE(csv.Next(&f, &eof).IsInvalidArgument());
  ASSERT_TRUE(csv.Next(&f, &eof).ok());
  EXPECT_EQ(f, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(csv.line_number(), 2);
}

TEST(CsvRecordMapperTest, TooFewAndTooManyColumnsAreErrors) {
  auto mapper = CsvRecordMapper::Create(RecordKind::kEvent, {"user", "item", "ts"});
  ASSERT_TRUE(mapper.ok()) << mapper.status().ToString();
  auto few = mapper->Map({"u1", "i1"});
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("expected 3 fields, got 2"), std::string::npos);
  EXPECT_FALSE(mapper->Map({"u1", "i1", "5", "x"}).ok());
}

TEST(CsvRecordMapperTest, MapsTypedColumnsLikeJsonl) {
  auto mapper = CsvRecordMapper::Create(
      RecordKind::kItem, {"id", "title", "categories", "created_at", "available",
                          "attributes.price:number", "attributes.tags:list", "attributes.brand",
                          "attributes"});
  ASSERT_TRUE(mapper.ok()) << mapper.status().ToString();
  auto r = mapper->Map({"i1", "Cup", "Kitchen|Gifts", "1700000000", "false", "9.5", "a|b", "x",
                        R"({"new":true})"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Item& item = std::get<Item>(*r);
  EXPECT_EQ(item.categories, (std::vector<std::string>{"Kitchen", "Gifts"}));
  EXPECT_EQ(item.created_at, 1700000000);
  EXPECT_FALSE(item.available);
  EXPECT_EQ(std::get<double>(item.attributes.at("price")), 9.5);
  EXPECT_EQ(std::get<std::vector<std::string>>(item.attributes.at("tags")),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(std::get<std::string>(item.attributes.at("brand")), "x");
  EXPECT_TRUE(std::get<bool>(item.attributes.at("new")));
}

TEST(CsvRecordMapperTest, EventEmptyValueMeansNone) {
  auto mapper = CsvRecordMapper::Create(
      RecordKind::kEvent, {"user", "item", "type", "ts", "value", "context.device"});
  ASSERT_TRUE(mapper.ok());
  auto r = mapper->Map({"u1", "i1", "view", "1700000000", "", "tv"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Event& e = std::get<Event>(*r);
  EXPECT_FALSE(e.has_value);
  EXPECT_EQ(e.context.at("device"), "tv");
  auto bad = mapper->Map({"u1", "i1", "view", "soon", "", ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ts"), std::string::npos);
}

TEST(CsvRecordMapperTest, HeaderErrorsNameTheColumn) {
  auto unknown = CsvRecordMapper::Create(RecordKind::kEvent, {"user", "item", "ts", "when"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'when'"), std::string::npos);
  auto missing = CsvRecordMapper::Create(RecordKind::kEvent, {"user", "item"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'ts'"), std::string::npos);
  EXPECT_FALSE(CsvRecordMapper::Create(RecordKind::kItem, {"id", "id"}).ok());
}

// The importers' memory bound: a line longer than max_line_bytes is skipped,
// never held, and reading goes on with the next line at the right number.
TEST(LineReaderTest, LineOverTheLimitIsSkippedNotBuffered) {
  test::TempDir dir;
  const std::string path = dir.Sub("long.txt");
  std::ofstream(path, std::ios::binary) << "short\n" << std::string(100000, 'x') << "\nafter\n";
  auto r = LineReader::Open(path, /*max_line_bytes=*/64);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  LineReader& lines = **r;
  std::string line;
  ASSERT_EQ(lines.Next(&line), LineReader::Result::kLine);
  EXPECT_EQ(line, "short");
  ASSERT_EQ(lines.Next(&line), LineReader::Result::kTooLong);
  EXPECT_TRUE(line.empty());
  EXPECT_LE(line.capacity(), 1024u);  // the 100 KB line never landed in it
  EXPECT_EQ(lines.line_number(), 2);
  ASSERT_EQ(lines.Next(&line), LineReader::Result::kLine);
  EXPECT_EQ(line, "after");
  EXPECT_EQ(lines.line_number(), 3);
  EXPECT_EQ(lines.Next(&line), LineReader::Result::kEof);
}

TEST(LineReaderTest, FileWithoutNewlineOverTheLimitIsOneTooLongLine) {
  test::TempDir dir;
  const std::string path = dir.Sub("nonl.txt");
  std::ofstream(path, std::ios::binary) << std::string(300000, 'y');
  auto r = LineReader::Open(path, /*max_line_bytes=*/1000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string line;
  EXPECT_EQ((*r)->Next(&line), LineReader::Result::kTooLong);
  EXPECT_EQ((*r)->Next(&line), LineReader::Result::kEof);
  EXPECT_EQ((*r)->bytes_read(), 300000u);
}

}  // namespace
}  // namespace recdb::tools
