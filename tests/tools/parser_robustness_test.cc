// The import parsers (JSONL records, CSV, MovieLens lines) on good, bad and
// random input: the fuzz seed corpora parse and round-trip; malformed
// records are InvalidArgument naming the offending field; and seeded random
// mutations of valid lines never crash and only ever fail with
// InvalidArgument and a message (the fuzz targets in tests/fuzz/ run the
// same parsers far longer under ASan).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tools/import/csv_reader.h"
#include "tools/import/movielens.h"
#include "tools/import/record.h"
#include "tools/import/record_csv.h"
#include "tools/import/record_json.h"

namespace recdb::tools {
namespace {

std::vector<std::string> CorpusLines(const std::string& target, const std::string& file) {
  const std::filesystem::path path =
      std::filesystem::path(RECDB_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / target / file;
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Every JSONL seed is a record of some kind (the kind field or, for lines
// without one, the kind of the file it would be imported from) that
// validates and survives the dump round trip.
TEST(ParserRobustnessTest, JsonlCorpusParsesValidatesAndRoundTrips) {
  const std::vector<std::string> lines = CorpusLines("fuzz_jsonl_record", "records");
  ASSERT_GE(lines.size(), 5u);
  for (const std::string& line : lines) {
    auto j = ParseJsonObject(line);
    ASSERT_TRUE(j.ok()) << line << ": " << j.status().ToString();
    std::optional<AnyRecord> record;
    for (const std::optional<RecordKind> kind :
         {std::optional<RecordKind>(), std::optional<RecordKind>(RecordKind::kItem),
          std::optional<RecordKind>(RecordKind::kUser),
          std::optional<RecordKind>(RecordKind::kEvent)}) {
      auto r = RecordFromJson(*j, kind);
      if (r.ok()) {
        record = *r;
        break;
      }
    }
    ASSERT_TRUE(record.has_value()) << "no kind parses: " << line;
    EXPECT_TRUE(ValidateRecord(*record).ok()) << line;
    auto back = ParseJsonObject(JsonLine(ToDumpJson(*record)));
    ASSERT_TRUE(back.ok()) << line;
    auto again = RecordFromJson(*back, std::nullopt);
    ASSERT_TRUE(again.ok()) << line << ": " << again.status().ToString();
    EXPECT_TRUE(*again == *record) << line;
  }
}

// Every MovieLens seed line parses with the parser for its file.
TEST(ParserRobustnessTest, MovieLensCorpusParses) {
  const std::vector<std::string> lines = CorpusLines("fuzz_movielens", "mixed");
  ASSERT_GE(lines.size(), 10u);
  int parsed = 0;
  for (const std::string& line : lines) {
    const auto bars = std::count(line.begin(), line.end(), '|');
    Status s;
    if (line.find('\t') != std::string::npos) {
      s = ParseMovieLensRatingLine(line).status();                      // u.data
    } else if (bars == 23) {
      s = ParseMovieLensItemLine(line, DefaultMovieLensGenres()).status();  // u.item
    } else if (bars == 4) {
      s = ParseMovieLensUserLine(line).status();                        // u.user
    } else if (bars == 1 && line.find(',') == std::string::npos) {
      std::vector<std::string> genres;
      s = ParseMovieLensGenreLine(line, &genres);                       // u.genre
    } else if (line.rfind("movieId,", 0) == 0) {
      continue;                                                         // a CSV header
    } else {
      std::vector<std::string> row;
      bool complete = false;
      ASSERT_TRUE(ParseCsvRecord(line, ',', &row, &complete).ok()) << line;
      ASSERT_TRUE(complete) << line;
      s = row.size() == 3 ? ParseMovieLensMovieRow(row).status()        // movies.csv
                          : ParseMovieLensRatingRow(row).status();      // ratings.csv
    }
    EXPECT_TRUE(s.ok()) << line << ": " << s.ToString();
    ++parsed;
  }
  EXPECT_GE(parsed, 14);
}

// A malformed record is rejected with InvalidArgument whose message names
// the field, so `recdb import` can report FILE:LINE: field: problem.
TEST(ParserRobustnessTest, InvalidRecordsNameTheField) {
  struct Case {
    const char* json;
    std::optional<RecordKind> kind;
    const char* field;
  };
  const std::string long_id(300, 'x');
  const std::string too_long = R"({"id":")" + long_id + R"("})";
  const Case cases[] = {
      {R"({"id":"i1","titel":"Heat"})", RecordKind::kItem, "titel"},
      {R"({"title":"Heat"})", RecordKind::kItem, "id"},
      {R"({"id":"i1","created_at":"yesterday"})", RecordKind::kItem, "created_at"},
      {R"({"id":"i1","categories":"Drama"})", RecordKind::kItem, "categories"},
      {R"({"id":"i1","available":"yes"})", RecordKind::kItem, "available"},
      {R"({"id":"u1","consent":{"training":"no"}})", RecordKind::kUser, "training"},
      {R"({"user":"u1","item":"i1"})", RecordKind::kEvent, "ts"},
      {R"({"user":"u1","item":"i1","ts":"soon"})", RecordKind::kEvent, "ts"},
      {R"({"user":"u1","item":"i1","ts":1,"value":"high"})", RecordKind::kEvent, "value"},
      {R"({"user":"u1","ts":1})", RecordKind::kEvent, "item"},
      {R"({"user":"u1","item":"i1","ts":-5})", RecordKind::kEvent, "ts"},
      {R"({"kind":"movie","id":"m1"})", std::nullopt, "kind"},
      {R"({"id":"i1"})", std::nullopt, "kind"},
      {too_long.c_str(), RecordKind::kItem, "id"},
      {R"({"id":""})", RecordKind::kUser, "id"},
  };
  for (const Case& c : cases) {
    auto j = ParseJsonObject(c.json);
    ASSERT_TRUE(j.ok()) << c.json;
    Status s;
    auto r = RecordFromJson(*j, c.kind);
    s = r.ok() ? ValidateRecord(*r) : r.status();
    EXPECT_TRUE(s.IsInvalidArgument()) << c.json << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.field), std::string::npos)
        << c.json << ": message \"" << s.message() << "\" does not name " << c.field;
  }
  const std::pair<const char*, const char*> movielens[] = {
      {"196\t242\thigh\t881250949", "rating"},
      {"196\tx\t3\t881250949", "item"},
      {"196\t242\t3\tyesterday", "timestamp"},
  };
  for (const auto& [line, field] : movielens) {
    Status s = ParseMovieLensRatingLine(line).status();
    EXPECT_TRUE(s.IsInvalidArgument()) << line << ": " << s.ToString();
    EXPECT_NE(s.message().find(field), std::string::npos) << line << ": " << s.message();
  }
  EXPECT_TRUE(ParseJsonObject("{\"id\": ").status().IsInvalidArgument());
}

// Counts what the parsers return for one input. A non-OK Status must be
// InvalidArgument with a message (the importer reports it per line).
struct Outcomes {
  int ok = 0;
  int invalid = 0;
  std::vector<std::string> wrong;  // first few inputs with another code

  void Add(const Status& s, const std::string& input) {
    if (s.ok()) {
      ++ok;
    } else if (s.IsInvalidArgument() && !s.message().empty()) {
      ++invalid;
    } else if (wrong.size() < 5) {
      wrong.push_back(s.ToString() + " for input \"" + input.substr(0, 80) + "\"");
    }
  }
};

void ParseEverything(const std::string& s, Outcomes* out) {
  std::vector<std::string> fields;
  bool complete = false;
  out->Add(ParseCsvRecord(s, ',', &fields, &complete), s);
  auto j = ParseJsonObject(s);
  out->Add(j.status(), s);
  if (j.ok()) {
    for (auto kind : {RecordKind::kItem, RecordKind::kUser, RecordKind::kEvent}) {
      auto r = RecordFromJson(*j, kind);
      out->Add(r.status(), s);
      if (r.ok()) out->Add(ValidateRecord(*r), s);
    }
    out->Add(RecordFromJson(*j, std::nullopt).status(), s);
  }
  out->Add(ParseMovieLensItemLine(s, DefaultMovieLensGenres()).status(), s);
  out->Add(ParseMovieLensRatingLine(s).status(), s);
  out->Add(ParseMovieLensUserLine(s).status(), s);
  std::vector<std::string> genres;
  out->Add(ParseMovieLensGenreLine(s, &genres), s);
  out->Add(ParseMovieLensMovieRow(fields).status(), s);
  out->Add(ParseMovieLensRatingRow(fields).status(), s);
  auto mapper = CsvRecordMapper::Create(RecordKind::kItem, fields);
  if (mapper.ok()) out->Add(mapper->Map(fields).status(), s);
}

TEST(ParserRobustnessTest, RandomAndMutatedInputsFailOnlyWithInvalidArgument) {
  const std::vector<std::string> seeds = {
      R"({"id":"i1","title":"T","categories":["a"],"attributes":{"p":1.5,"t":["x"]}})",
      R"({"user":"u","item":"i","type":"view","ts":1700000000,"value":4,"context":{"d":"m"}})",
      R"({"kind":"user","id":"u1","consent":{"training":false}})",
      "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0",
      "196\t242\t3\t881250949",
      "id,title,\"a,\"\"b\"\"\",categories",
  };
  std::mt19937_64 rng(20240601);
  const std::string alphabet = "{}[]\":,|\t\\0123456789.eE-+truefalsnul \xE9\xC3\xFF\n\r";
  Outcomes out;
  for (int round = 0; round < 20000; ++round) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0:
          s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (pos < s.size()) s.erase(pos, 1 + rng() % 4);
          break;
        default:
          if (pos < s.size()) s[pos] = static_cast<char>(rng() & 0xFF);
      }
    }
    ParseEverything(s, &out);
  }
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"a\":[";
  ParseEverything(deep, &out);
  EXPECT_TRUE(out.wrong.empty()) << out.wrong.size() << " non-InvalidArgument failures, e.g. "
                                 << out.wrong[0];
  // Mutations of valid lines must exercise both outcomes: a parser that
  // accepted or rejected everything would fail here.
  EXPECT_GT(out.ok, 1000);
  EXPECT_GT(out.invalid, 10000);
}

}  // namespace
}  // namespace recdb::tools
