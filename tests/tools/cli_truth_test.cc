// Issue 19 on the CLI: answers and messages that were quietly wrong. Each
// test reproduces one numbered item of the issue with the `recdb` binary.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "test_util.h"
#include "tools/cli_runner.h"

namespace {

using nlohmann::json;
using recdb::test::RunResult;

class CliTruthTest : public recdb::test::CliTestBase {
 protected:
  std::string WriteFile(const std::string& name, const std::string& contents) {
    std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  std::string InitDb() {
    const std::string db = dir_.Sub("db");
    EXPECT_EQ(Run("init " + db).code, 0);
    return db;
  }
};

// #2: one unclosed quote swallowed every following line ("Imported 0 rows
// ... 1 bad lines skipped", exit 0, 100 valid rows lost).
TEST_F(CliTruthTest, CsvUnclosedQuoteLosesOnlyItsLine) {
  const std::string db = InitDb();
  std::string csv = "user,item,ts\nu0,i0,1700000000\nu1,\"i1,1700000001\n";
  for (int i = 0; i < 100; ++i) {
    csv += "v" + std::to_string(i) + ",i" + std::to_string(i) + "," +
           std::to_string(1700000100 + i) + "\n";
  }
  const std::string path = WriteFile("events.csv", csv);
  json summary = json::parse(Run("import " + db + " --events " + path + " --json").out);
  EXPECT_EQ(summary["events"], 101);
  EXPECT_EQ(summary["skipped"], 1);
  ASSERT_EQ(summary["bad_lines"].size(), 1u);
  EXPECT_EQ(summary["bad_lines"][0]["line"], 3);
  EXPECT_NE(summary["bad_lines"][0]["message"].get<std::string>().find("not closed"),
            std::string::npos);
  EXPECT_EQ(RunJson("stats " + db + " --json")["events"], 101);

  RunResult stop = Run("import " + db + " --events " + path + " --on-error=stop");
  EXPECT_EQ(stop.code, 1);
  EXPECT_NE(stop.err.find(path + ":3:"), std::string::npos) << stop.err;
}

// #2: a stray quote closed by another one lines later: only the first line
// is lost, the lines between are read as records.
TEST_F(CliTruthTest, CsvStrayQuotePairLosesOnlyTheOpeningLine) {
  const std::string db = InitDb();
  std::string csv = "user,item,ts\n";
  for (int i = 0; i < 10; ++i) {
    std::string item = "i" + std::to_string(i);
    if (i == 2) item = "\"" + item;  // opens
    if (i == 6) item += "\"x";       // a quote inside an unquoted field: literal
    csv += "u" + std::to_string(i) + "," + item + "," + std::to_string(1700000000 + i) + "\n";
  }
  const std::string path = WriteFile("events.csv", csv);
  json summary = json::parse(Run("import " + db + " --events " + path + " --json").out);
  EXPECT_EQ(summary["skipped"], 1) << summary.dump();
  EXPECT_EQ(summary["events"], 9) << summary.dump();
}

// #3: events of a forgotten user were reported as stored ("1 events").
TEST_F(CliTruthTest, EventsOfAForgottenUserAreReportedDropped) {
  const std::string db = InitDb();
  const std::string events =
      WriteFile("events.jsonl", R"({"user":"gone","item":"i1","ts":1700000000})"
                                "\n");
  ASSERT_EQ(RunJson("import " + db + " --events " + events + " --json")["events"], 1);
  json receipt = RunJson("forget " + db + " --user gone --json");
  // #4: the user was created by their event; get, dump and stats showed it.
  EXPECT_EQ(receipt["had_user_record"], true);
  EXPECT_EQ(receipt["user_auto_created"], true);
  json again = RunJson("import " + db + " --events " + events + " --json");
  EXPECT_EQ(again["events"], 0);
  EXPECT_EQ(again["dropped_forgotten"], 1);
  RunResult text = Run("import " + db + " --events " + events);
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("1 events dropped, not stored: their users are in the forget ledger"),
            std::string::npos)
      << text.out;
  EXPECT_EQ(RunJson("stats " + db + " --json")["events"], 0);
}

// #10: a missing key file read as "no recdb database in DIR".
TEST_F(CliTruthTest, MissingKeyFileIsNamed) {
  const std::string db = InitDb();
  const std::string key = dir_.Sub("no-such.key");
  ::setenv("RECDB_PSEUDONYM_KEY_FILE", key.c_str(), 1);
  RunResult r = Run("stats " + db);
  ::unsetenv("RECDB_PSEUDONYM_KEY_FILE");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("pseudonym key file " + key + " is missing"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no recdb database"), std::string::npos) << r.err;
}

// #13: the advice for a pseudonymous database opened without its keys named
// a flag no command has (`stats --key-file`).
TEST_F(CliTruthTest, KeyChainAdviceNamesWhatExists) {
  const std::string key = WriteFile("chain.key", std::string(64, 'a') + "\n");
  ::setenv("RECDB_PSEUDONYM_KEY_FILE", key.c_str(), 1);
  const std::string db = InitDb();
  ::unsetenv("RECDB_PSEUDONYM_KEY_FILE");
  RunResult r = Run("stats " + db);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("RECDB_PSEUDONYM_KEY_FILE"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("--key-file"), std::string::npos) << r.err;
}

// #11: a database held by another writer said "LOCK: Resource temporarily
// unavailable".
TEST_F(CliTruthTest, HeldLockSaysOpenInAnotherProcess) {
  const std::string db = InitDb();
  recdb::Options options;
  options.background_threads = 0;
  auto held = recdb::DB::Open(options, db);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  RunResult r = Run("event-types " + db + " --add share --weight 2");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(db + " is open in another process"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/v1/snapshots"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Resource temporarily unavailable"), std::string::npos) << r.err;
  ASSERT_TRUE((*held)->Close().ok());
}

// #12: a truncated MANIFEST read as "not a recdb database".
TEST_F(CliTruthTest, TruncatedManifestSaysDamagedAndPointsToRestore) {
  const std::string db = InitDb();
  namespace fs = std::filesystem;
  int truncated = 0;
  for (const auto& e : fs::directory_iterator(db + "/db")) {
    if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      fs::resize_file(e.path(), fs::file_size(e.path()) / 2);
      ++truncated;
    }
  }
  ASSERT_GT(truncated, 0);
  RunResult r = Run("stats " + db);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("damaged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("recdb backup restore"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not a recdb database"), std::string::npos) << r.err;
}

// #13: a wrong command line exits 2 (tools/README.md), before the database
// and its models load.
TEST_F(CliTruthTest, WrongCommandLinesExit2BeforeOpening) {
  // No database at all: the arguments are refused first.
  const std::string missing = dir_.Sub("missing");
  RunResult k_float = Run("recommend " + missing + " --user u -k 1e9");
  EXPECT_EQ(k_float.code, 2) << k_float.err;
  RunResult k_huge = Run("recommend " + missing + " --user u -k 1000000000");
  EXPECT_EQ(k_huge.code, 2) << k_huge.err;
  EXPECT_NE(k_huge.err.find("--k: must be in [1, 1000]"), std::string::npos) << k_huge.err;
  RunResult no_user = Run("recommend " + missing);
  EXPECT_EQ(no_user.code, 2) << no_user.err;
  RunResult similar_k0 = Run("similar " + missing + " --item x -k 0");
  EXPECT_EQ(similar_k0.code, 2) << similar_k0.err;
  EXPECT_EQ(similar_k0.err.find("recommend:"), std::string::npos) << similar_k0.err;
  EXPECT_EQ(similar_k0.err.find("no recdb database"), std::string::npos) << similar_k0.err;
  RunResult weight = Run("recommend " + missing + " --user u --weight popularity=1e300");
  EXPECT_EQ(weight.code, 2) << weight.err;
  RunResult history = Run("history " + missing + " --user u --limit x");
  EXPECT_EQ(history.code, 2) << history.err;
}

// #14: errors under --json printed plain text only.
TEST_F(CliTruthTest, JsonErrorsAreJsonObjects) {
  RunResult r = Run("stats " + dir_.Sub("missing") + " --json");
  EXPECT_EQ(r.code, 1);
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["error"]["exit_status"], 1);
  RunResult usage = Run("recommend " + dir_.Sub("missing") + " -k x --user u --json");
  EXPECT_EQ(usage.code, 2);
  json u = json::parse(usage.out, nullptr, false);
  ASSERT_FALSE(u.is_discarded()) << usage.out;
  EXPECT_EQ(u["error"]["code"], "usage");
}

// #16: `history` showed ids without titles; #15: ml-latest's tags.csv was
// skipped without a word.
TEST_F(CliTruthTest, HistoryShowsTitlesAndImportCountsTags) {
  const std::string db = InitDb();
  const std::string ml = dir_.Sub("ml");
  std::filesystem::create_directories(ml);
  WriteFile("ml/movies.csv", "movieId,title,genres\n1,Nosferatu (1922),Horror\n");
  WriteFile("ml/ratings.csv", "userId,movieId,rating,timestamp\n7,1,4.0,1500000000\n");
  WriteFile("ml/tags.csv", "userId,movieId,tag,timestamp\n7,1,Vampire,1500000000\n");
  RunResult imported = Run("import " + db + " --movielens " + ml);
  EXPECT_EQ(imported.code, 0) << imported.err;
  EXPECT_NE(imported.out.find("1 tags from tags.csv stored as the item attribute \"tags\""),
            std::string::npos)
      << imported.out;
  RunResult history = Run("history " + db + " --user 7");
  EXPECT_EQ(history.code, 0);
  EXPECT_NE(history.out.find("1  \"Nosferatu (1922)\""), std::string::npos) << history.out;
  json item = RunJson("get " + db + " --item 1 --json");
  EXPECT_EQ(item["created_at"], -1514764800) << item.dump();
  EXPECT_EQ(item["attributes"]["tags"], json::array({"vampire"})) << item.dump();
}

// #16: `train` printed "7.94464 s"; #5: an unknown user gets the explained
// fallback, or (--require-known-user, which did not exist) an error.
TEST_F(CliTruthTest, TrainPrintsTwoDecimalsAndRequireKnownUserRefusesStrangers) {
  const std::string db = InitDb();
  std::string jsonl;
  for (int u = 0; u < 12; ++u) {
    for (int j = 0; j < 5; ++j) {
      const int64_t ts = 1700000000 + u * 10 + j;
      jsonl += R"({"user":"u)" + std::to_string(u) + R"(","item":"i)" +
               std::to_string((u + j) % 8) + R"(","ts":)" + std::to_string(ts) + "}\n";
    }
  }
  ASSERT_EQ(Run("import " + db + " --events " + WriteFile("events.jsonl", jsonl)).code, 0);
  RunResult trained = Run("train " + db);
  ASSERT_EQ(trained.code, 0) << trained.err;
  const std::regex two_decimals("^trained on 60 events in [0-9]+\\.[0-9]{2} s\n");
  EXPECT_TRUE(std::regex_search(trained.out, two_decimals)) << trained.out;

  RunResult fallback = Run("recommend " + db + " --user stranger -k 3 --explain");
  EXPECT_EQ(fallback.code, 0) << fallback.err;
  EXPECT_NE(fallback.out.find("does not know your tastes yet"), std::string::npos)
      << fallback.out;
  RunResult refused = Run("recommend " + db + " --user stranger -k 3 --require-known-user");
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_NE(refused.err.find("unknown user 'stranger'"), std::string::npos) << refused.err;
  EXPECT_TRUE(refused.out.empty()) << refused.out;
  json known = RunJson("recommend " + db + " --user u1 -k 3 --require-known-user --json");
  EXPECT_EQ(known["items"].size(), 3u) << known.dump();
}

}  // namespace
