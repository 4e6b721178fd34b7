// recdb-sim (also `recdb sim ARGS`): runs the closed-loop simulation of
// sim/simulator.h and writes OUT/sim.json and one OUT/<metric>.svg per
// metric. `recdb-sim --help` lists the flags; sim/README.md documents them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/policy.h"
#include "sim/simulator.h"

namespace {

using recdb::sim::SimOptions;

struct Flag {
  std::string help;
  std::function<bool(const std::string&)> set;
  std::string value;  // default, for --help
};

template <typename T>
std::function<bool(const std::string&)> Setter(T* out) {
  return [out](const std::string& v) {
    std::istringstream in(v);
    T x;
    if (!(in >> x) || !in.eof()) return false;
    *out = x;
    return true;
  };
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  SimOptions o;
  std::string out_dir = "sim-out";
  bool keep_dbs = false;
  std::string policies = "fused,fused+care,popularity,random";
  std::string ope_loggers = "random";
  std::map<std::string, Flag> flags;
  auto add = [&](const std::string& name, const std::string& help, auto* target) {
    std::ostringstream d;
    d << *target;
    flags[name] = Flag{help, Setter(target), d.str()};
  };
  add("seed", "world and response seed", &o.seed);
  add("users", "simulated users", &o.users);
  add("items", "catalog size (including the new items)", &o.items);
  add("rounds", "rounds", &o.rounds);
  add("k", "list length", &o.k);
  add("history-events", "events per user loaded before round 1", &o.history_events);
  add("retrain-every", "rounds between DB::Train", &o.retrain_every);
  add("new-items", "items withheld and released over the first half (-1 = items/20)", &o.new_items);
  add("window", "consumption-diversity window, in consumed items", &o.window);
  add("care-preset", "balanced | balanced-list | calibrated | diverse | explore", &o.care_preset);
  add("care-diversity", "override the preset's diversity (-1 = the preset's)",
      &o.care_diversity);
  add("care-calibration", "override the preset's calibration (-1 = the preset's)",
      &o.care_calibration);
  add("care-calibration-recent",
      "override the preset's calibration_recent_items (-1 = the preset's)",
      &o.care_calibration_recent);
  add("care-exploration", "override the preset's exploration (-1 = the preset's)",
      &o.care_exploration);
  add("rotate-after", "CareOptions::rotate_after_impressions of every policy (0 = off)",
      &o.rotate_after);
  add("threads", "policies stepped in parallel", &o.threads);
  add("train-threads", "TrainOptions::threads", &o.train_threads);
  add("position-bias", "examine(slot j) = 1/(j+1)^X", &o.response.position_bias);
  add("click-scale", "click | examined = min(1, X * appeal)", &o.response.click_scale);
  add("purchase-rate", "purchase | click = X * taste[c] / max taste", &o.response.purchase_rate);
  add("repeat-satiation", "appeal *= exp(-X * earlier impressions of the item)",
      &o.response.repeat_satiation);
  add("repeat-half-life", "rounds for an impression's satiation to halve (0 = never)",
      &o.response.repeat_half_life);
  add("category-satiation", "appeal *= exp(-X * recent clicks in the item's category)",
      &o.response.category_satiation);
  add("satiation-rounds", "rounds that count as recent", &o.response.satiation_rounds);
  add("quality-spread", "item quality = exp(X * N(0,1))", &o.response.quality_spread);
  add("leave-base", "chance to leave after any round", &o.response.leave_base);
  add("leave-no-click", "added chance to leave after a round without a click",
      &o.response.leave_no_click);
  add("drift", "share of the world's taste drift that happens during the run", &o.response.drift);
  add("learn-rounds", "learned: serve theta_0 and log on rounds 1..N, then train",
      &o.learned.learn_rounds);
  add("learned-update-every", "learned: retrain every N rounds after (0 = once)",
      &o.learned.update_every);
  add("learned-window", "learned: rounds of log per training", &o.learned.train_window);
  add("learned-pool", "learned: candidates from DB::Recommend", &o.learned.pool);
  add("learned-temperature", "learned: theta_0 = rank weight 1/X", &o.learned.temperature);
  add("learned-weight-cap", "learned: cap of the importance weight pi/beta",
      &o.learned.weight_cap);
  add("learned-l2", "learned: L2 penalty", &o.learned.l2);
  add("learned-lr", "learned: Adam learning rate", &o.learned.learning_rate);
  add("learned-steps", "learned: Adam steps per training", &o.learned.steps);
  add("learned-entropy", "learned: entropy regulariser tau (J += tau * mean softmax entropy)",
      &o.learned.entropy_weight);
  add("learned-novelty-bonus",
      "learned: train on r * (1 + X * (1 - the user's share of the item's category))",
      &o.learned.novelty_bonus);
  add("learned-max-habit-weight",
      "learned: upper bound on the category_share and category_recent_clicks weights",
      &o.learned.max_habit_weight);
  add("learned-max-per-category", "learned: items of one category per list (0 = no cap)",
      &o.learned.max_per_category);
  add("out", "output directory (sim.json, *.svg)", &out_dir);
  add("policies", "comma-separated: fused,fused+care,popularity,random,learned", &policies);
  add("ope-loggers",
      "comma-separated: whose logs the off-policy estimates read (the first: off_policy; "
      "others: off_policy_from)",
      &ope_loggers);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << "usage: recdb-sim [flags]   (also: recdb sim [flags])\n"
                   "Closed-loop simulation over the synthetic world; writes OUT/sim.json and\n"
                   "OUT/<metric>.svg (sim/README.md).\n\n";
      for (const auto& [name, f] : flags) {
        std::printf("  --%-20s %s (default %s)\n", name.c_str(), f.help.c_str(), f.value.c_str());
      }
      std::printf("  --%-20s %s\n", "keep-dbs", "keep the per-policy databases in OUT/dbs");
      return 0;
    }
    if (a == "--keep-dbs") {
      keep_dbs = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      std::cerr << "recdb-sim: unexpected argument '" << a << "' (--help)\n";
      return 2;
    }
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::cerr << "recdb-sim: --" << name << " needs a value\n";
      return 2;
    }
    auto it = flags.find(name);
    if (it == flags.end()) {
      std::cerr << "recdb-sim: unknown flag --" << name << " (--help)\n";
      return 2;
    }
    if (name == "out" || name == "policies" || name == "care-preset" || name == "ope-loggers") {
      *(name == "out"           ? &out_dir
        : name == "policies"    ? &policies
        : name == "ope-loggers" ? &ope_loggers
                                : &o.care_preset) = value;
    } else if (!it->second.set(value)) {
      std::cerr << "recdb-sim: bad value '" << value << "' for --" << name << "\n";
      return 2;
    }
  }
  o.policies = Split(policies);
  o.ope_loggers = Split(ope_loggers);
  std::error_code ec;
  o.work_dir = out_dir + "/dbs";
  std::filesystem::remove_all(o.work_dir, ec);
  std::filesystem::create_directories(o.work_dir, ec);
  if (ec) {
    std::cerr << "recdb-sim: cannot create " << o.work_dir << ": " << ec.message() << "\n";
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto result = recdb::sim::RunSimulation(o);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!keep_dbs) std::filesystem::remove_all(o.work_dir, ec);
  if (!result.ok()) {
    std::cerr << "recdb-sim: " << result.status().ToString() << "\n";
    return 1;
  }
  const std::string json = recdb::sim::ResultJson(*result);
  {
    std::ofstream f(out_dir + "/sim.json", std::ios::binary);
    f << json;
    if (!f) {
      std::cerr << "recdb-sim: cannot write " << out_dir << "/sim.json\n";
      return 1;
    }
  }
  auto st = recdb::sim::WritePlots(*result, out_dir);
  if (!st.ok()) {
    std::cerr << "recdb-sim: " << st.ToString() << "\n";
    return 1;
  }
  std::printf("recdb-sim: %lld users, %lld items, %d rounds, k=%zu: %.1f s wall\n",
              static_cast<long long>(o.users), static_cast<long long>(o.items), o.rounds, o.k, secs);
  for (const auto& name : o.policies) {
    const auto& ms = result->rounds.at(name);
    std::printf("  %-11s cumulative reward %8.0f  entropy change %+.3f bits  left %lld  (%.1f s)\n",
                name.c_str(), ms.back().cumulative_reward, ms.back().mean_entropy_change,
                static_cast<long long>(ms.back().users_left), result->seconds.at(name));
  }
  for (const auto& [name, e] : result->off_policy) {
    std::printf("  off-policy %-11s from %s: IPS %.4f +- %.4f, SNIPS %.4f +- %.4f, "
                "counterfactual %.4f, earned %.4f (%lld matches)\n",
                name.c_str(), e.logger.c_str(), e.ips, e.ips_half_width, e.snips,
                e.snips_half_width, e.counterfactual, e.truth, static_cast<long long>(e.matches));
    std::printf("  %-22s repeats %.1f%% of slots: closed-loop bounds [%.4f, %.4f] %s earned\n", "",
                100.0 * e.repeat_share, e.bound_low, e.bound_high,
                e.truth_in_bounds ? "hold" : "miss");
  }
  const auto has = [&](const char* n) {
    return std::find(o.policies.begin(), o.policies.end(), n) != o.policies.end();
  };
  if (has("learned") && has("fused") && o.learned.learn_rounds < o.rounds) {
    const auto& f = result->rounds.at("fused");
    const auto& l = result->rounds.at("learned");
    const size_t from = static_cast<size_t>(std::max(0, o.learned.learn_rounds));
    auto after = [&](const std::vector<recdb::sim::RoundMetrics>& ms) {
      return ms.back().cumulative_reward - (from > 0 ? ms[from - 1].cumulative_reward : 0.0);
    };
    std::printf("  learned vs fused, rounds %d-%d: reward %.0f vs %.0f (x%.3f), entropy change "
                "%+.3f vs %+.3f\n",
                o.learned.learn_rounds + 1, o.rounds, after(l), after(f),
                after(f) > 0 ? after(l) / after(f) : 0.0, l.back().mean_entropy_change,
                f.back().mean_entropy_change);
  }
  std::printf("wrote %s/sim.json and %s/*.svg\n", out_dir.c_str(), out_dir.c_str());
  return 0;
}
