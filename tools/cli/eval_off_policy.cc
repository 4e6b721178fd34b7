#include "tools/cli/eval_off_policy.h"

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "recdb/off_policy.h"
#include "tools/cli/care_flags.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

nlohmann::ordered_json Interval(double x, double half) { return {x - half, x + half}; }

}  // namespace

void AddOffPolicyFlags(ArgParser* args) {
  args->AddSwitch("off-policy",
                  "IPS/SNIPS of the candidates' reward per slot from impressions with propensities");
  args->AddFlag("window-hours", "H",
                "--off-policy: reward = events within H h of an impression, cut at the next one",
                "24");
  args->AddFlag("reward-types", "LIST",
                "--off-policy: event types counted as reward (default: positive weight, not view)");
  args->AddFlag("since", "TS", "--off-policy: only impressions at or after TS (seconds since epoch)");
  args->AddFlag("until", "TS", "--off-policy: only impressions before TS (seconds since epoch)");
  args->AddFlag("model-until", "TS",
                "--off-policy: fit a private model on the events before TS (honest; nothing stored)\n"
                "and evaluate the impressions from TS on (default: the stored model, optimistic)");
}

int EvalOffPolicy(const ArgParser& args) {
  OffPolicyOptions opts;
  auto hours = args.GetDouble("window-hours");
  if (!hours.ok()) return UsageError("eval", hours.status());
  if (!(*hours > 0) || *hours > 1e6) return UsageError("eval", "--window-hours must be in (0, 1e6]");
  opts.window_seconds = static_cast<int64_t>(*hours * 3600.0);
  if (opts.window_seconds < 1) opts.window_seconds = 1;
  opts.reward_types = SplitCommas(args.Get("reward-types"));
  for (const auto& [flag, field] : {std::pair<const char*, int64_t*>{"since", &opts.since},
                                    {"until", &opts.until},
                                    {"model-until", &opts.model_until}}) {
    if (!args.Has(flag)) continue;
    auto v = args.GetInt(flag);
    if (!v.ok()) return UsageError("eval", v.status());
    *field = *v;
  }
  if (args.Has("sweep")) return UsageError("eval", "--sweep does not combine with --off-policy");

  // Candidates: each --recommenders name alone (every other weight 0;
  // "fused" = the learned blend), else the fused blend; plus "fused+care"
  // when a care knob is given.
  for (const std::string& name : SplitCommas(args.Get("recommenders"))) {
    OffPolicyCandidate c;
    c.name = name;
    if (name != "fused") c.alone = name;
    opts.candidates.push_back(std::move(c));
  }
  CareOptions care;
  auto care_given = ReadCareFlags(args, &care);
  if (!care_given.ok()) return UsageError("eval", care_given.status());
  const bool any_care = *care_given;
  if (opts.candidates.empty()) opts.candidates.push_back({"fused", {}, std::nullopt, ""});
  if (any_care) {
    auto seed = args.GetInt("seed");
    if (!seed.ok()) return UsageError("eval", seed.status());
    care.exploration_seed = static_cast<uint64_t>(*seed);
    opts.candidates.push_back({"fused+care", {}, care, ""});
  }

  // A private model needs nothing written; the stored one may need a Train.
  auto db = OpenDatabase(args.Positional("DIR"),
                         opts.model_until != 0 ? OpenMode::kReadOnly : OpenMode::kReadWrite);
  if (!db.ok()) return Fail("eval", db.status());
  if (opts.model_until == 0) {
    if (Status ready = EnsureModel(db->get()); !ready.ok()) return Fail("eval", ready);
  }

  auto report = EvaluateOffPolicy(db->get(), opts);
  if (!report.ok()) return Fail("eval", report.status());
  std::string types;
  for (const auto& t : report->reward_types) types += (types.empty() ? "" : ",") + t;
  if (args.Has("json")) {
    nlohmann::ordered_json j;
    j["impressions"] = report->impressions;
    j["users"] = report->users;
    j["window_hours"] = static_cast<double>(opts.window_seconds) / 3600.0;
    j["reward_types"] = report->reward_types;
    j["model"] = {{"private", opts.model_until != 0},
                  {"until", opts.model_until},
                  {"version", report->model_version},
                  {"events", report->model_events}};
    nlohmann::ordered_json cands = nlohmann::ordered_json::object();
    for (const auto& [name, e] : report->candidates) {
      cands[name] = {{"impressions", e.impressions},
                     {"skipped_impressions", e.skipped_impressions},
                     {"slots", e.slots},
                     {"matches", e.matches},
                     {"logged_reward", e.logged_reward},
                     {"logged_reward_ci95", Interval(e.logged_reward, e.logged_reward_half_width)},
                     {"ips", e.ips},
                     {"ips_ci95", Interval(e.ips, e.ips_half_width)},
                     {"snips", e.snips},
                     {"snips_ci95", Interval(e.snips, e.snips_half_width)},
                     {"repeat_slots", e.repeat_slots},
                     {"fresh_ips", e.fresh_ips},
                     {"fresh_ips_ci95", Interval(e.fresh_ips, e.fresh_ips_half_width)},
                     {"closed_loop_bounds", {e.bound_low, e.bound_high}}};
    }
    j["candidates"] = cands;
    nlohmann::ordered_json out;
    out["off_policy"] = j;
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("off-policy: %lld impressions of %lld users; reward per slot = %s events within %g h\n",
                static_cast<long long>(report->impressions), static_cast<long long>(report->users),
                types.c_str(), static_cast<double>(opts.window_seconds) / 3600.0);
    if (opts.model_until != 0) {
      std::printf("candidates use a model fit on the %lld events before %lld (impressions from then on)\n",
                  static_cast<long long>(report->model_events),
                  static_cast<long long>(opts.model_until));
    } else {
      std::printf("candidates use the stored model (version %llu, %lld events): optimistic if it saw\n"
                  "the rewarded events; --model-until TS fits one that did not (engine/eval/README.md)\n",
                  static_cast<unsigned long long>(report->model_version),
                  static_cast<long long>(report->model_events));
    }
    std::printf("%-12s %8s %8s %8s %7s  %-19s  %-19s  %-19s\n", "candidate", "used", "skipped",
                "slots", "matched", "logged/slot (95%)", "IPS/slot (95%)", "SNIPS/slot (95%)");
    for (const auto& [name, e] : report->candidates) {
      std::printf("%-12s %8lld %8lld %8lld %7lld  %8.5f +- %-7.5f  %8.5f +- %-7.5f  %8.5f +- %-7.5f\n",
                  name.c_str(), static_cast<long long>(e.impressions),
                  static_cast<long long>(e.skipped_impressions), static_cast<long long>(e.slots),
                  static_cast<long long>(e.matches), e.logged_reward, e.logged_reward_half_width,
                  e.ips, e.ips_half_width, e.snips, e.snips_half_width);
    }
    // The closed-loop view (recdb/off_policy.h): the candidate's repeats
    // are not identified by the log.
    for (const auto& [name, e] : report->candidates) {
      if (e.slots == 0) continue;
      std::printf("%-12s repeats %.1f%% of slots; closed-loop reward/slot in [%.5f, %.5f]\n",
                  name.c_str(), 100.0 * static_cast<double>(e.repeat_slots) / static_cast<double>(e.slots),
                  e.bound_low, e.bound_high);
    }
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("eval", closed);
  return kExitOk;
}

}  // namespace recdb::cli
