// End-to-end tests of the `recdb` binary: run it as a user would, on temp dirs.
#include <chrono>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tools/cli_runner.h"

namespace {

using nlohmann::json;

using recdb::test::RunResult;

class CliTest : public recdb::test::CliTestBase {
 protected:
  std::string WriteFile(const std::string& name, const std::string& contents) {
    std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
};

const char* kItems =
    R"({"id":"i1","title":"Misérables","categories":["Drama"],"creator":"c7","created_at":1700000000,"available":true,"attributes":{"price":9.5,"tags":["a","b"],"new":true,"brand":"x"}})"
    "\n"
    R"({"id":"i2","title":"Heat","description":"crime","categories":["Crime","Drama"]})"
    "\n";
const char* kUsers =
    R"({"id":"u1","attributes":{"age":30},"consent":{"personalization":true,"store_events":true,"training":false}})"
    "\n";
const char* kEvents =
    R"({"user":"u1","item":"i2","type":"view","ts":1700000300,"context":{"device":"mobile","session":"s9"}})"
    "\n"
    R"({"user":"u1","item":"i1","type":"rating","ts":1700000100,"value":4.5})"
    "\n"
    R"({"user":"u2","item":"i1","type":"purchase","ts":1700000200})"
    "\n"
    R"({"user":"u1","item":"i1","type":"click","ts":1700000200})"
    "\n";

TEST_F(CliTest, HelpAndVersion) {
  RunResult top = Run("--help");
  EXPECT_EQ(top.code, 0);
  for (const char* cmd : {"init", "import", "stats", "history", "get", "dump", "event-types",
                          "demo", "bench"}) {
    EXPECT_NE(top.out.find(cmd), std::string::npos) << cmd;
    RunResult help = Run(std::string(cmd) + " --help");
    EXPECT_EQ(help.code, 0) << cmd;
    EXPECT_NE(help.out.find("Usage: recdb"), std::string::npos) << cmd;
  }
  EXPECT_EQ(Run("--version").out, "recdb 0.1.0\n");
  RunResult unknown = Run("frobnicate");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos);
  RunResult bad_flag = Run("stats " + dir_.Sub("db") + " --jsn");
  EXPECT_EQ(bad_flag.code, 2);
  EXPECT_NE(bad_flag.err.find("--jsn"), std::string::npos);
}

// The benchmarks parse their flags with the CLI's ArgParser: a bad number or
// an unknown flag is a usage error naming it (exit 2), never a silent 0, and
// each has --help.
TEST_F(CliTest, BenchFlagsAreChecked) {
  RunResult not_a_number = Run("bench scale --items ten");
  EXPECT_EQ(not_a_number.code, 2);
  EXPECT_NE(not_a_number.err.find("--items: expected an integer, got 'ten'"), std::string::npos)
      << not_a_number.err;
  RunResult too_small = Run("bench recommend --requests 0");
  EXPECT_EQ(too_small.code, 2);
  EXPECT_NE(too_small.err.find("--requests must be at least 1"), std::string::npos) << too_small.err;
  RunResult unknown = Run("bench quality --bogus");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("--bogus"), std::string::npos) << unknown.err;
  RunResult help = Run("bench ann --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--ef-construction"), std::string::npos) << help.out;
}

// `bench scale --incremental-only` (issue #17's "incremental retrain after
// 1% new events" bar, measured alone): 1% more events of the same world, an
// incremental retrain (the blend kept), its anchor this run's Train, or on a
// reused database the stored model's; a model an incremental retrain wrote
// is no anchor for the next.
TEST_F(CliTest, BenchScaleIncrementalOnly) {
  const std::string world = "bench scale --items 200 --users 100 --events 2000 --incremental-only --json";
  RunResult fresh = Run(world + " --agreement-users 20");
  ASSERT_EQ(fresh.code, 0) << fresh.err;
  json f = json::parse(fresh.out);
  EXPECT_EQ(f["events_before"], 2000);
  EXPECT_EQ(f["new_events"], 20);
  EXPECT_TRUE(f["incremental_warm"].get<bool>()) << fresh.out;
  EXPECT_FALSE(f["reused_model"].get<bool>());
  EXPECT_GT(f["full_train_s"].get<double>(), 0);
  EXPECT_GT(f["full_train_cpu_s"].get<double>(), 0);
  EXPECT_GT(f["incremental_s"].get<double>(), 0);
  EXPECT_GT(f["incremental_ratio"].get<double>(), 0);
  EXPECT_TRUE(f["incremental_s_by_component"].contains("ials")) << fresh.out;
  EXPECT_EQ(f["incremental_s_by_component"]["blend"], 0.0);
  EXPECT_EQ(f["agreement_users"], 20);
  EXPECT_GT(f["agreement_at_k"].get<double>(), 0.5);
  EXPECT_LE(f["agreement_at_k"].get<double>(), 1.0);

  const std::string d = dir_.Sub("scale");
  ASSERT_EQ(Run("bench scale --items 200 --users 100 --events 2000 --train-only --dir " + d).code, 0);
  RunResult reused = Run(world + " --dir " + d);
  ASSERT_EQ(reused.code, 0) << reused.err;
  json r = json::parse(reused.out);
  EXPECT_TRUE(r["reused_model"].get<bool>());
  EXPECT_EQ(r["events_before"], 2000);
  EXPECT_GT(r["full_train_s"].get<double>(), 0);  // the stored model's own Train
  EXPECT_EQ(r["full_train_cpu_s"], 0.0);          // not stored
  EXPECT_TRUE(r["incremental_warm"].get<bool>());
  RunResult again = Run(world + " --dir " + d);  // the model is now an incremental one
  ASSERT_EQ(again.code, 0) << again.err;
  json a = json::parse(again.out);
  EXPECT_EQ(a["events_before"], 2020);
  EXPECT_EQ(a["new_events"], 20);
  EXPECT_EQ(a["full_train_s"], 0.0) << again.out;
  EXPECT_NE(again.err.find("no full-Train anchor"), std::string::npos) << again.err;
}

TEST_F(CliTest, ErrorsNameTheProblem) {
  RunResult r = Run("stats " + dir_.Sub("missing"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("recdb init " + dir_.Sub("missing")), std::string::npos) << r.err;
  ASSERT_EQ(Run("init " + dir_.Sub("db")).code, 0);
  RunResult again = Run("init " + dir_.Sub("db"));
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  RunResult no_user = Run("get " + dir_.Sub("db") + " --user nobody");
  EXPECT_EQ(no_user.code, 1);
  EXPECT_NE(no_user.err.find("nobody"), std::string::npos) << no_user.err;
}

TEST_F(CliTest, InitImportQueryDumpRoundTrip) {
  const std::string db = dir_.Sub("db");
  ASSERT_EQ(Run("init " + db).code, 0);
  const std::string items = WriteFile("items.jsonl", kItems);
  const std::string users = WriteFile("users.jsonl", kUsers);
  const std::string events = WriteFile("events.jsonl", kEvents);
  json summary = RunJson("import " + db + " --items " + items + " --users " + users +
                         " --events " + events + " --json");
  EXPECT_EQ(summary["events"], 4);
  EXPECT_EQ(summary["skipped"], 0);

  json stats = RunJson("stats " + db + " --json");
  EXPECT_EQ(stats["users"], 2);  // u2 auto-created by its event
  EXPECT_EQ(stats["items"], 2);
  EXPECT_EQ(stats["events"], 4);
  EXPECT_EQ(stats["event_types"], 7);

  json history = RunJson("history " + db + " --user u1 --json");
  ASSERT_EQ(history["events"].size(), 3u);
  EXPECT_EQ(history["events"][0]["ts"], 1700000100);
  EXPECT_EQ(history["events"][0]["value"], 4.5);
  EXPECT_EQ(history["events"][1]["type"], "click");
  EXPECT_EQ(history["events"][2]["context"]["session"], "s9");
  json ranged = RunJson("history " + db + " --user u1 --from 1700000150 --to 1700000300 --json");
  ASSERT_EQ(ranged["events"].size(), 1u);
  EXPECT_EQ(RunJson("history " + db + " --user u1 --limit 2 --json")["events"].size(), 2u);

  json item = RunJson("get " + db + " --item i1 --json");
  EXPECT_EQ(item["title"], "Misérables");
  EXPECT_EQ(item["attributes"]["price"], 9.5);
  EXPECT_EQ(item["counts"]["total"], 3);
  json user = RunJson("get " + db + " --user u1 --json");
  EXPECT_EQ(user["consent"]["training"], false);
  RunResult human = Run("get " + db + " --item i1");
  EXPECT_NE(human.out.find("Misérables"), std::string::npos);

  // dump -> import into a fresh database -> dump again: identical.
  RunResult dump1 = Run("dump " + db);
  ASSERT_EQ(dump1.code, 0) << dump1.err;
  EXPECT_NE(dump1.out.find(R"("kind":"event")"), std::string::npos);
  const std::string dump_path = WriteFile("dump.jsonl", dump1.out);
  const std::string db2 = dir_.Sub("db2");
  ASSERT_EQ(Run("init " + db2).code, 0);
  RunResult imported = Run("import " + db2 + " --dump " + dump_path);
  ASSERT_EQ(imported.code, 0) << imported.err;
  RunResult dump2 = Run("dump " + db2);
  ASSERT_EQ(dump2.code, 0);
  EXPECT_EQ(dump1.out, dump2.out);
}

TEST_F(CliTest, EventTypesListAndAdd) {
  const std::string db = dir_.Sub("db");
  ASSERT_EQ(Run("init " + db).code, 0);
  RunResult add = Run("event-types " + db + " --add share --weight 2.5");
  ASSERT_EQ(add.code, 0) << add.err;
  json types = RunJson("event-types " + db + " --json");
  ASSERT_FALSE(types["event_types"].empty());
  EXPECT_EQ(types["event_types"].back()["name"], "share");
  EXPECT_EQ(types["event_types"].back()["weight"], 2.5);
  // A flag value that is not a number is a wrong command line: exit 2.
  EXPECT_EQ(Run("event-types " + db + " --add x --weight lots").code, 2);
}

TEST_F(CliTest, StopPolicyFailsAndLeavesTheBatchOut) {
  const std::string db = dir_.Sub("db");
  ASSERT_EQ(Run("init " + db).code, 0);
  std::string lines;
  for (int i = 1; i <= 10; ++i) {
    lines += i == 7 ? std::string(R"({"user":"u1","item":"i1","ts":"late"})")
                    : R"({"user":"u1","item":"i)" + std::to_string(i) + R"(","ts":)" +
                          std::to_string(1700000000 + i) + "}";
    lines += "\n";
  }
  const std::string events = WriteFile("events.jsonl", lines);
  RunResult stop = Run("import " + db + " --events " + events + " --on-error=stop --batch-size 5");
  EXPECT_EQ(stop.code, 1);
  EXPECT_NE(stop.err.find(events + ":7: ts: expected integer, got string"), std::string::npos)
      << stop.err;
  EXPECT_EQ(RunJson("stats " + db + " --json")["events"], 5);
  RunResult skip = Run("import " + db + " --events " + events + " --batch-size 5");
  EXPECT_EQ(skip.code, 0);
  EXPECT_NE(skip.err.find(events + ":7:"), std::string::npos) << skip.err;
  EXPECT_EQ(RunJson("stats " + db + " --json")["events"], 14);
}

TEST_F(CliTest, DemoCompletes) {
  RunResult r = Run("demo " + dir_.Sub("demo") + " --users 100 --items 80 --events 1500 --quiet");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Top items"), std::string::npos) << r.out;
  json stats = RunJson("stats " + dir_.Sub("demo") + " --json");
  EXPECT_EQ(stats["users"], 100);
  EXPECT_EQ(stats["items"], 80);
  EXPECT_EQ(stats["events"], 1500);
}

TEST_F(CliTest, ImportsMl100kFast) {
  RECDB_REQUIRE_ML100K(ml);
  const std::string db = dir_.Sub("ml");
  ASSERT_EQ(Run("init " + db).code, 0);
  auto start = std::chrono::steady_clock::now();
  RunResult r = Run("import " + db + " --movielens " + ml);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.code, 0) << r.err;
  std::printf("ml-100k import (recdb import DIR --movielens %s): %.2f s wall\n  %s", ml.c_str(),
              seconds, r.out.c_str());
  if (recdb::test::kTimingBoundsApply) {
    EXPECT_LT(seconds, 5.0);
  }
  for (int pass = 0; pass < 2; ++pass) {  // each command reopens the database
    json stats = RunJson("stats " + db + " --json");
    EXPECT_EQ(stats["users"], 943);
    EXPECT_EQ(stats["items"], 1682);
    EXPECT_EQ(stats["events"], 100000);
  }
  json history = RunJson("history " + db + " --user 1 --json");
  ASSERT_EQ(history["events"].size(), 272u);
  for (size_t i = 1; i < history["events"].size(); ++i) {
    ASSERT_LE(history["events"][i - 1]["ts"].get<int64_t>(),
              history["events"][i]["ts"].get<int64_t>());
  }
  json item = RunJson("get " + db + " --item 543 --json");
  EXPECT_EQ(item["title"], "Misérables, Les (1995)");
}

}  // namespace

namespace {

// recdb --options FILE (RECDB_OPTIONS_FILE): every command opens with the
// file's options, so the CLI enforces the application's retention policy.
TEST_F(CliTest, OptionsFileReachesTheCommands) {
  const std::string db = dir_.Sub("db");
  ASSERT_EQ(Run("init " + db).code, 0);
  const std::string events = WriteFile("events.jsonl", kEvents);
  ASSERT_EQ(Run("import " + db + " --events " + events).code, 0);
  EXPECT_EQ(RunJson("history " + db + " --user u1 --json")["events"].size(), 3u);

  // Views live a day; u1's view (2023) has expired: history no longer shows it.
  const std::string opts = WriteFile(
      "recdb.json", R"({"retention": {"ttl_seconds_by_type": {"view": 86400}},
                        "aggregate_privacy": {"min_pair_users": 5}})");
  json history = RunJson("--options " + opts + " history " + db + " --user u1 --json");
  ASSERT_EQ(history["events"].size(), 2u);
  for (const auto& e : history["events"]) EXPECT_NE(e["type"], "view");
  EXPECT_EQ(RunJson("--options=" + opts + " history " + db + " --user u1 --json")["events"].size(),
            2u);
  json shown = RunJson("--options " + opts + " options");
  EXPECT_EQ(shown["retention"]["ttl_seconds_by_type"]["view"], 86400);
  EXPECT_EQ(shown["aggregate_privacy"]["min_pair_users"], 5);
  EXPECT_EQ(shown["care"]["diversity"], 0.0);  // the defaults fill the rest
  json policy = RunJson("--options " + opts + " retention " + db + " show");
  EXPECT_EQ(policy["ttl_seconds_by_type"]["view"], 86400);

  // A typo is an error naming the field, before any database is touched.
  const std::string typo = WriteFile("typo.json", R"({"care": {"diversty": 0.9}})");
  RunResult bad = Run("--options " + typo + " history " + db + " --user u1 --json");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("care.diversty"), std::string::npos) << bad.err;
  RunResult bad_new = Run("--options " + typo + " stats " + dir_.Sub("nodb"));
  EXPECT_NE(bad_new.err.find("care.diversty"), std::string::npos) << bad_new.err;
  RunResult missing = Run("--options " + dir_.Sub("none.json") + " options");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no such file"), std::string::npos) << missing.err;
  EXPECT_EQ(Run("--options").code, 2);
}

}  // namespace
