// recdb/options_file.h: Options <-> JSON, strict about names and types.
#include "recdb/options_file.h"

#include <ctime>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

// A field added to one of these structs must be added to the field list in
// engine/options_file.cc (and here): these sizes are the reminder. (x86-64,
// libstdc++, the platform the project builds on.)
static_assert(sizeof(CareOptions) == 112, "new CareOptions field: add it to engine/options_file.cc");
static_assert(sizeof(RetentionPolicy) == 88, "new RetentionPolicy field: add it to retention_policy_json.cc");
static_assert(sizeof(PseudonymOptions) == 56, "new PseudonymOptions field: add it to engine/options_file.cc");
static_assert(sizeof(AggregatePrivacyOptions) == 24,
              "new AggregatePrivacyOptions field: add it to engine/options_file.cc");
// Options::env is a pointer the application supplies, not a setting: it is
// deliberately not in the file.
static_assert(sizeof(Options) == 336, "new Options field: add it to engine/options_file.cc");

// Every field away from its default.
Options EveryFieldSet() {
  Options o;
  o.create_if_missing = true;
  o.error_if_exists = true;
  o.read_only = true;
  o.auto_create_users = false;
  o.auto_create_items = false;
  o.block_cache_bytes = 12345;
  o.write_buffer_bytes = 67890;
  o.background_threads = 7;
  o.retrain_interval_seconds = 11;
  o.care.diversity = 0.25;
  o.care.diversity_space = "clip";
  o.care.calibration = 0.5;
  o.care.calibration_recent_items = 12;
  o.care.fair_share = 0.125;
  o.care.exploration = 0.375;
  o.care.exploration_seed = 99;
  o.care.exploration_max_impressions = 5;
  o.care.rotate_after_impressions = 4;
  o.care.rotate_period_seconds = 3600;
  o.care.candidate_factor = 3;
  o.index_checkpoint_interval_seconds = 13;
  o.retention.ttl_seconds_by_type = {{"view", 86400}, {"click", 60}};
  o.retention.max_events_per_user = 100;
  o.retention.delete_inactive_users_after_days = 365;
  o.retention.training_horizon_seconds = 1000;
  o.retention.anonymize_after_days = 30;
  o.retention.sweep_interval_seconds = 17;
  o.pseudonyms.key_file = "/keys/k";
  o.aggregate_privacy.popularity_epsilon = 1.5;
  o.aggregate_privacy.noise_seed = 23;
  o.aggregate_privacy.min_pair_users = 5;
  return o;
}

// Field by field, so a line dropped from the field list fails here.
void ExpectSame(const Options& a, const Options& b) {
  EXPECT_EQ(a.create_if_missing, b.create_if_missing);
  EXPECT_EQ(a.error_if_exists, b.error_if_exists);
  EXPECT_EQ(a.read_only, b.read_only);
  EXPECT_EQ(a.auto_create_users, b.auto_create_users);
  EXPECT_EQ(a.auto_create_items, b.auto_create_items);
  EXPECT_EQ(a.block_cache_bytes, b.block_cache_bytes);
  EXPECT_EQ(a.write_buffer_bytes, b.write_buffer_bytes);
  EXPECT_EQ(a.background_threads, b.background_threads);
  EXPECT_EQ(a.retrain_interval_seconds, b.retrain_interval_seconds);
  EXPECT_EQ(a.care.diversity, b.care.diversity);
  EXPECT_EQ(a.care.diversity_space, b.care.diversity_space);
  EXPECT_EQ(a.care.calibration, b.care.calibration);
  EXPECT_EQ(a.care.calibration_recent_items, b.care.calibration_recent_items);
  EXPECT_EQ(a.care.fair_share, b.care.fair_share);
  EXPECT_EQ(a.care.exploration, b.care.exploration);
  EXPECT_EQ(a.care.exploration_seed, b.care.exploration_seed);
  EXPECT_EQ(a.care.exploration_max_impressions, b.care.exploration_max_impressions);
  EXPECT_EQ(a.care.rotate_after_impressions, b.care.rotate_after_impressions);
  EXPECT_EQ(a.care.rotate_period_seconds, b.care.rotate_period_seconds);
  EXPECT_EQ(a.care.candidate_factor, b.care.candidate_factor);
  EXPECT_EQ(a.index_checkpoint_interval_seconds, b.index_checkpoint_interval_seconds);
  EXPECT_EQ(a.retention.ttl_seconds_by_type, b.retention.ttl_seconds_by_type);
  EXPECT_EQ(a.retention.max_events_per_user, b.retention.max_events_per_user);
  EXPECT_EQ(a.retention.delete_inactive_users_after_days,
            b.retention.delete_inactive_users_after_days);
  EXPECT_EQ(a.retention.training_horizon_seconds, b.retention.training_horizon_seconds);
  EXPECT_EQ(a.retention.anonymize_after_days, b.retention.anonymize_after_days);
  EXPECT_EQ(a.retention.sweep_interval_seconds, b.retention.sweep_interval_seconds);
  EXPECT_EQ(a.pseudonyms.key_file, b.pseudonyms.key_file);
  EXPECT_EQ(a.aggregate_privacy.popularity_epsilon, b.aggregate_privacy.popularity_epsilon);
  EXPECT_EQ(a.aggregate_privacy.noise_seed, b.aggregate_privacy.noise_seed);
  EXPECT_EQ(a.aggregate_privacy.min_pair_users, b.aggregate_privacy.min_pair_users);
}

TEST(OptionsFileTest, EveryFieldRoundTrips) {
  const Options o = EveryFieldSet();
  const std::string text = OptionsToJson(o);
  auto parsed = ParseOptionsJson(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(OptionsToJson(*parsed), text);
  ExpectSame(*parsed, o);
  // And each field really moved: parsed over the defaults, no line of the
  // defaults' JSON survives except the structure.
  const nlohmann::json a = nlohmann::json::parse(text);
  const nlohmann::json d = nlohmann::json::parse(OptionsToJson(Options()));
  for (const auto& [key, v] : a.items()) {
    if (v.is_object()) {
      for (const auto& [sub, x] : v.items()) EXPECT_NE(x, d[key][sub]) << key << "." << sub;
    } else {
      EXPECT_NE(v, d[key]) << key;
    }
  }
}

TEST(OptionsFileTest, MissingFieldsKeepTheBase) {
  Options base;
  base.block_cache_bytes = 1 << 20;
  base.care.calibration = 0.2;
  auto o = ParseOptionsJson(R"({"care": {"diversity": 0.9}})", base);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->care.diversity, 0.9);
  EXPECT_EQ(o->care.calibration, 0.2);
  EXPECT_EQ(o->block_cache_bytes, size_t{1} << 20);
  EXPECT_EQ(o->aggregate_privacy.min_pair_users, kDefaultMinPairUsers);
  auto empty = ParseOptionsJson("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(OptionsToJson(*empty), OptionsToJson(Options()));
}

void ExpectInvalid(const std::string& json, const std::string& needle) {
  auto o = ParseOptionsJson(json);
  ASSERT_FALSE(o.ok()) << json;
  EXPECT_TRUE(o.status().IsInvalidArgument()) << o.status().ToString();
  EXPECT_NE(o.status().ToString().find(needle), std::string::npos)
      << json << " -> " << o.status().ToString();
}

TEST(OptionsFileTest, TyposAndWrongTypesAreErrorsNamingTheField) {
  ExpectInvalid(R"({"care": {"diversty": 0.9}})", "\"care.diversty\"");
  ExpectInvalid(R"({"block_cache": 1})", "\"block_cache\"");
  ExpectInvalid(R"({"aggregate_privacy": {"min_pair": 5}})", "\"aggregate_privacy.min_pair\"");
  ExpectInvalid(R"({"retention": {"ttl": {"view": 1}}})", "retention");
  ExpectInvalid(R"({"care": {"diversity": "high"}})", "care.diversity must be a number");
  ExpectInvalid(R"({"read_only": 1})", "read_only must be true or false");
  ExpectInvalid(R"({"block_cache_bytes": -1})", "block_cache_bytes must be an integer");
  ExpectInvalid(R"({"background_threads": 4294967296})", "background_threads must be an integer");
  ExpectInvalid(R"({"background_threads": 1.5})", "background_threads must be an integer");
  ExpectInvalid(R"({"aggregate_privacy": {"min_pair_users": -3}})", "min_pair_users");
  ExpectInvalid(R"({"care": 0.9})", "care must be an object");
  ExpectInvalid(R"({"pseudonyms": {"keys": ["00"]}})", "pseudonyms.key_file");
  ExpectInvalid("[1, 2]", "not a JSON object");
  ExpectInvalid("{\"care\": ", "not valid JSON");
  // Ranges, as DB::Open checks them.
  ExpectInvalid(R"({"care": {"diversity": 1.5}})", "diversity");
  ExpectInvalid(R"({"aggregate_privacy": {"min_pair_users": 0}})", "min_pair_users must be >= 1");
  ExpectInvalid(R"({"background_threads": 5000})", "background_threads must be in 0..1024");
  EXPECT_TRUE(ValidateOptions(Options()).ok());
}

TEST(OptionsFileTest, LoadsAFileAndResolvesARelativeKeyFileNextToIt) {
  test::TempDir dir;
  const std::string path = dir.Sub("recdb.json");
  std::ofstream(path) << R"({"pseudonyms": {"key_file": "keys/k"}, "care": {"diversity": 0.8}})";
  auto o = LoadOptionsFile(path);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->pseudonyms.key_file, dir.Sub("keys/k"));
  EXPECT_EQ(o->care.diversity, 0.8);
  std::ofstream(path) << R"({"pseudonyms": {"key_file": "/abs/k"}})";
  EXPECT_EQ(LoadOptionsFile(path)->pseudonyms.key_file, "/abs/k");
  Options base;
  base.pseudonyms.key_file = "/from/base";
  std::ofstream(path) << "{}";
  EXPECT_EQ(LoadOptionsFile(path, base)->pseudonyms.key_file, "/from/base");

  auto missing = LoadOptionsFile(dir.Sub("nope.json"));
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  std::ofstream(path) << R"({"care": {"diversty": 1}})";
  auto bad = LoadOptionsFile(path);
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().ToString().find(path), std::string::npos) << bad.status().ToString();
}

// A database opened with a file's options enforces them: the file's TTL
// hides an expired event, the file's care default reaches every Recommend.
TEST(OptionsFileTest, TheFilesPolicyIsWhatTheDatabaseEnforces) {
  test::TempDir dir;
  Options base;
  base.create_if_missing = true;
  base.background_threads = 0;
  const int64_t now = std::time(nullptr);
  {
    auto db = DB::Open(base, dir.Sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Event old_view;
    old_view.user = "u", old_view.item = "i1", old_view.type = "view";
    old_view.timestamp = now - 3 * 86400;
    Event new_view = old_view;
    new_view.item = "i2", new_view.timestamp = now - 60;
    ASSERT_TRUE((*db)->RecordEvents(WriteOptions(), {old_view, new_view}).ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto opts = ParseOptionsJson(R"({"retention": {"ttl_seconds_by_type": {"view": 86400}}})", base);
  ASSERT_TRUE(opts.ok()) << opts.status().ToString();
  opts->create_if_missing = false;
  for (bool with_file : {false, true}) {
    auto db = DB::Open(with_file ? *opts : base, dir.Sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto history = (*db)->GetUserHistory("u");
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    EXPECT_EQ(history->size(), with_file ? 1u : 2u);
    ASSERT_TRUE((*db)->Close().ok());
  }
}

}  // namespace
}  // namespace recdb
