// recdb recommend DIR --user ID: what the user should see next, and why.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "tools/cli/args.h"
#include "tools/cli/care_flags.h"
#include "tools/cli/db_access.h"
#include "tools/cli/progress.h"
#include "tools/cli/recommend_json.h"

namespace recdb::cli {
namespace {

// Declares the flags shared by recommend and similar.
void AddListFlags(ArgParser& args) {
  args.AddFlag("k", "N", "number of items", "10");
  args.AddRepeatedFlag("category", "NAME", "only items in this category (repeatable: any of them)");
  args.AddSwitch("include-unavailable", "also return items marked unavailable");
  args.AddSwitch("explain", "add the explanation (sentence and evidence) to each item");
  args.AddSwitch("json", "print {\"items\": [{\"id\", \"score\", \"contributions\"}]} as JSON");
}

// --k as the DB accepts it: an integer in [1, kMaxRecommendK].
StatusOr<size_t> CheckedK(const ArgParser& args) {
  auto k = args.GetInt("k");
  if (!k.ok()) return k.status();
  if (*k < 1 || *k > static_cast<int64_t>(kMaxRecommendK)) {
    return Status::InvalidArgument("--k: must be in [1, " + std::to_string(kMaxRecommendK) +
                                   "], got " + std::to_string(*k));
  }
  return static_cast<size_t>(*k);
}

// A fusion weight or boost: a number in [-kMaxFusionWeight, kMaxFusionWeight].
StatusOr<double> CheckedWeight(const std::string& text, const std::string& what) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end == text.c_str() || *end != '\0') {
    return Status::InvalidArgument(what + ": expected a number, got '" + text + "'");
  }
  if (!std::isfinite(v) || std::fabs(v) > kMaxFusionWeight) {
    return Status::InvalidArgument(what + ": must be in [-1e6, 1e6], got '" + text + "'");
  }
  return v;
}

int Render(const std::string& cmd, DB* db, const RecommendResponse& r, const ArgParser& args) {
  const bool explain = args.Has("explain");
  if (args.Has("json")) {
    std::cout << RecommendationsToJson(r, explain).dump(2) << "\n";
    return kExitOk;
  }
  std::map<std::string, std::string> titles;
  for (const auto& rec : r.items) {
    auto item = db->GetItem(rec.id);
    if (item.ok()) titles[rec.id] = item->title;
  }
  std::cout << RecommendationsToText(r, explain, titles);
  (void)cmd;
  return kExitOk;
}

// Loads the DB read-write (training keeps the model in memory only) and
// trains with the stored weights.
int RecommendMain(int argc, char** argv) {
  ArgParser args("recommend",
                 "Recommend items for a user (or, with --session, for an anonymous visitor).",
                 "Models are rebuilt from the event log when the command starts; the fusion\n"
                 "weights are those the last `recdb train` learned (or learned now).");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("user", "ID", "the user to recommend for");
  args.AddRepeatedFlag("session", "ITEM", "an item of the current session (repeatable, oldest first)");
  args.AddRepeatedFlag("context", "KEY=VALUE", "request context, e.g. device=mobile (repeatable)");
  args.AddRepeatedFlag("weight", "NAME=W", "override a recommender's weight (repeatable)");
  args.AddFlag("now", "TS", "request time, seconds since epoch (default: the user's last event)");
  args.AddSwitch("include-seen", "do not exclude items the user already interacted with");
  args.AddSwitch("require-known-user",
                 "an unknown --user is an error (exit 1), not the popularity fallback");
  AddCareFlags(&args);
  args.AddFlag("seed", "N", "care: exploration seed", "0");
  args.AddFlag("policy", "NAME",
               "who picks the list: fused (default) or learned (the learned policy draws from "
               "the fused candidates; each item gets its propensity)");
  args.AddRepeatedFlag("pin", "ITEM", "put ITEM first (repeatable, in order)");
  args.AddRepeatedFlag("boost", "ITEM=X", "add X to ITEM's relevance (repeatable)");
  args.AddRepeatedFlag("bury", "ITEM", "move ITEM after every other candidate (repeatable)");
  AddListFlags(args);
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  // Every argument is checked here, before the database and its models load:
  // a wrong command line exits 2 at once (tools/README.md).
  if (!args.Has("user") && args.GetAll("session").empty()) {
    return UsageError("recommend", "give --user ID or at least one --session ITEM");
  }
  RecommendRequest req;
  req.user = args.Get("user");
  req.session_items = args.GetAll("session");
  auto k = CheckedK(args);
  if (!k.ok()) return UsageError("recommend", k.status());
  req.k = *k;
  if (args.Has("now")) {
    auto now = args.GetInt("now");
    if (!now.ok()) return UsageError("recommend", now.status());
    req.now = *now;
  }
  auto context = ParsePairs(args.GetAll("context"), "context");
  if (!context.ok()) return UsageError("recommend", context.status());
  req.context = *context;
  auto weights = ParsePairs(args.GetAll("weight"), "weight");
  if (!weights.ok()) return UsageError("recommend", weights.status());
  for (const auto& [name, w] : *weights) {
    auto v = CheckedWeight(w, "--weight " + name);
    if (!v.ok()) return UsageError("recommend", v.status());
    req.weights[name] = *v;
  }
  req.exclude_seen = !args.Has("include-seen");
  req.policy = args.Get("policy");
  if (!req.policy.empty() && req.policy != "fused" && req.policy != "learned") {
    return UsageError("recommend", "--policy: fused or learned, got '" + req.policy + "'");
  }
  req.require_known_user = args.Has("require-known-user");
  CareOptions care;  // the DB's defaults are Options::care; any flag replaces them
  auto care_given = ReadCareFlags(args, &care);
  if (!care_given.ok()) return UsageError("recommend", care_given.status());
  const bool any_care = *care_given;
  auto seed = args.GetInt("seed");
  if (!seed.ok()) return UsageError("recommend", seed.status());
  care.exploration_seed = static_cast<uint64_t>(*seed);
  if (any_care) req.care = care;
  req.rules.pin = args.GetAll("pin");
  req.rules.bury = args.GetAll("bury");
  auto boosts = ParsePairs(args.GetAll("boost"), "boost");
  if (!boosts.ok()) return UsageError("recommend", boosts.status());
  for (const auto& [item, b] : *boosts) {
    auto v = CheckedWeight(b, "--boost " + item);
    if (!v.ok()) return UsageError("recommend", v.status());
    req.rules.boost[item] = *v;
  }
  req.filter.categories_any = args.GetAll("category");
  req.filter.available_only = !args.Has("include-unavailable");

  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadWrite);
  if (!db.ok()) return Fail("recommend", db.status());
  if (Status ready = EnsureModel(db->get()); !ready.ok()) return Fail("recommend", ready);
  auto res = (*db)->Recommend(req);
  if (!res.ok()) return Fail("recommend", res.status());
  int rc = Render("recommend", db->get(), *res, args);
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("recommend", closed);
  return rc;
}

int SimilarMain(int argc, char** argv) {
  ArgParser args("similar", "Items similar to an item (co-occurrence, neighbours, factors fused).");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("item", "ID", "the item to start from");
  AddListFlags(args);
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (!args.Has("item")) return UsageError("similar", "give --item ID");
  auto k = CheckedK(args);
  if (!k.ok()) return UsageError("similar", k.status());
  ItemFilter filter;
  filter.categories_any = args.GetAll("category");
  filter.available_only = !args.Has("include-unavailable");
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadWrite);
  if (!db.ok()) return Fail("similar", db.status());
  if (Status ready = EnsureModel(db->get()); !ready.ok()) return Fail("similar", ready);
  auto res = (*db)->SimilarItems(args.Get("item"), *k, filter);
  if (!res.ok()) return Fail("similar", res.status());
  int rc = Render("similar", db->get(), *res, args);
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("similar", closed);
  return rc;
}

int TrainMain(int argc, char** argv) {
  ArgParser args("train", "Train the recommenders on the event log and learn the fusion weights.");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("threads", "N", "training threads", "2");
  args.AddSwitch("json", "print the training report as JSON");
  args.AddSwitch("incremental",
                 "keep the serving model's fusion weights and start iALS from its factors");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto threads = args.GetInt("threads");
  if (!threads.ok()) return UsageError("train", threads.status());
  if (*threads < 1 || *threads > 256) return UsageError("train", "--threads: must be in [1, 256]");
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadWrite);
  if (!db.ok()) return Fail("train", db.status());
  TrainOptions opts;
  opts.threads = static_cast<int>(*threads);
  opts.learn_weights = true;
  opts.incremental = args.Has("incremental");
  ProgressBar bar(!args.Has("json"));
  const auto start = std::chrono::steady_clock::now();
  opts.on_progress = [&](const TrainProgress& p) {
    bar.UpdateSteps(p.stage, p.step, p.steps,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  auto report = (*db)->Train(opts);
  bar.Clear();
  if (!report.ok()) return Fail("train", report.status());
  if (args.Has("json")) {
    nlohmann::ordered_json j;
    j["model_version"] = report->model_version;
    j["events"] = report->events;
    j["seconds"] = report->seconds;
    j["weights"] = report->weights;
    j["seconds_by_recommender"] = report->seconds_by_recommender;
    // The learned policy (engine/policy/README.md), as POST /v1/train reports it.
    const nlohmann::ordered_json shared = TrainReportToJson(*report);
    if (shared.contains("learned_policy")) j["learned_policy"] = shared["learned_policy"];
    std::cout << j.dump(2) << "\n";
  } else {
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.2f", report->seconds);
    std::cout << "trained on " << report->events << " events in " << seconds << " s\n"
              << "fusion weights (learned on a validation split of the training data):\n";
    for (const auto& [name, w] : report->weights) std::cout << "  " << name << "  " << w << "\n";
    const LearnedPolicyReport& p = report->learned_policy;
    if (p.trained) {
      std::cout << "learned policy: " << p.impressions << " impressions, " << p.rewarded_slots
                << " rewarded slots (" << p.slots_outside_pool << " outside the candidates)\n";
    }
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("train", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("recommend", RecommendMain, 50, "recommend items for a user or a session");
RECDB_REGISTER_COMMAND("similar", SimilarMain, 51, "items similar to an item");
RECDB_REGISTER_COMMAND("train", TrainMain, 49, "train the recommenders and learn fusion weights");
}  // namespace recdb::cli
