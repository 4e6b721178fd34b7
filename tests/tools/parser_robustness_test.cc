// Importers must never crash on any input (they will be fuzzed): feed the
// line parsers seeded random and mutated inputs and require a Status back.
#include <random>

#include <gtest/gtest.h>

#include "tools/import/csv_reader.h"
#include "tools/import/movielens.h"
#include "tools/import/record_csv.h"
#include "tools/import/record_json.h"

namespace recdb::tools {
namespace {

void ParseEverything(const std::string& s) {
  std::vector<std::string> fields;
  bool complete = false;
  ParseCsvRecord(s, ',', &fields, &complete).IgnoreError();
  auto j = ParseJsonObject(s);
  if (j.ok()) {
    for (auto kind : {RecordKind::kItem, RecordKind::kUser, RecordKind::kEvent}) {
      auto r = RecordFromJson(*j, kind);
      if (r.ok()) ValidateRecord(*r).IgnoreError();
    }
    RecordFromJson(*j, std::nullopt).status().IgnoreError();
  }
  ParseMovieLensItemLine(s, DefaultMovieLensGenres()).status().IgnoreError();
  ParseMovieLensRatingLine(s).status().IgnoreError();
  ParseMovieLensUserLine(s).status().IgnoreError();
  std::vector<std::string> genres;
  ParseMovieLensGenreLine(s, &genres).IgnoreError();
  ParseMovieLensMovieRow(fields).status().IgnoreError();
  ParseMovieLensRatingRow(fields).status().IgnoreError();
  auto mapper = CsvRecordMapper::Create(RecordKind::kItem, fields);
  if (mapper.ok()) mapper->Map(fields).status().IgnoreError();
}

TEST(ParserRobustnessTest, RandomAndMutatedInputsNeverCrash) {
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
    ParseEverything(s);
  }
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"a\":[";
  ParseEverything(deep);
  SUCCEED();
}

}  // namespace
}  // namespace recdb::tools
