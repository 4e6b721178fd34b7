// recdb eval DIR: offline quality of every recommender with the docs/DESIGN.md
// protocol, accuracy and beyond-accuracy metrics side by side; with care
// knobs, the fused list re-ranked as serving does ("fused+care"); with
// --sweep, the accuracy / beyond-accuracy trade-off of one knob, as a table,
// JSON and an SVG plot; with --off-policy, estimates of the database's own
// recommender's reward from the impression log (eval_off_policy.h).
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/care_flags.h"
#include "tools/cli/db_access.h"
#include "tools/cli/eval_off_policy.h"
#include "tools/cli/recommend_json.h"
#include "tools/cli/sweep_plot.h"

namespace recdb::cli {
namespace {

// "diversity=0:1:0.1" -> the sweep. Errors: InvalidArgument.
StatusOr<EvaluateOptions::Sweep> ParseSweep(const std::string& spec) {
  EvaluateOptions::Sweep s;
  const size_t eq = spec.find('=');
  double a = 0, b = 0, c = 0;
  char tail = 0;
  if (eq == std::string::npos ||
      std::sscanf(spec.c_str() + eq + 1, "%lf:%lf:%lf%c", &a, &b, &c, &tail) != 3) {
    return Status::InvalidArgument("--sweep expects KNOB=FROM:TO:STEP, e.g. diversity=0:1:0.1");
  }
  s.knob = spec.substr(0, eq);
  if (s.knob == "fairness") s.knob = "fair_share";
  s.from = a, s.to = b, s.step = c;
  return s;
}

// The beyond-accuracy metric a knob trades NDCG@10 for, for the plot.
std::pair<std::string, double> PlotMetric(const std::string& knob, const EvalMetrics& m) {
  if (knob == "calibration") return {"calibration KL@10 (nats, lower is better)", m.calibration_kl_at_10};
  if (knob == "fair_share") return {"Gini of exposure@10 (lower is fairer)", m.gini_at_10};
  if (knob == "exploration") return {"coverage@10", m.coverage_at_10};
  return {"intra-list diversity@10", m.ild_at_10};
}

int EvalMain(int argc, char** argv) {
  ArgParser args("eval",
                 "Evaluate every recommender and the fused one on DIR's event log.",
                 "Protocol (docs/DESIGN.md): per user, events sorted by (time, item id); the last 20%\n"
                 "are test, users with < 5 events train-only; full ranking excluding train items.\n"
                 "With --off-policy: IPS and self-normalised IPS estimates of the fused recommender's\n"
                 "(or --recommenders', each alone; or fused+care's with a care knob) reward per slot\n"
                 "from the impressions logged with propensities (engine/eval/README.md).");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("recommenders", "LIST", "comma-separated subset (default: all)");
  args.AddFlag("threads", "N", "threads", "2");
  AddCareFlags(&args);
  args.AddFlag("seed", "N", "care: exploration seed (a care flag adds the row \"fused+care\")",
               "0");
  args.AddFlag("sweep", "KNOB=FROM:TO:STEP",
               "trade-off of one knob (diversity, calibration, fair_share, exploration)");
  args.AddFlag("svg", "PATH", "where --sweep writes its plot (default: sweep-KNOB.svg)");
  args.AddSwitch("json", "print {\"recommenders\": {\"mostpop\": {\"ndcg@10\": x, ...}}} as JSON;\n"
                         "with --sweep, {\"sweep\": [{\"KNOB\": v, \"ndcg@10\": x, ...}]}");
  AddOffPolicyFlags(&args);
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (args.Has("off-policy")) return EvalOffPolicy(args);
  auto threads = args.GetInt("threads");
  if (!threads.ok()) return UsageError("eval", threads.status());
  EvaluateOptions opts;
  opts.threads = static_cast<int>(*threads);
  opts.recommenders = SplitCommas(args.Get("recommenders"));
  CareOptions care;
  auto care_given = ReadCareFlags(args, &care);
  if (!care_given.ok()) return UsageError("eval", care_given.status());
  const bool any_care = *care_given;
  auto seed = args.GetInt("seed");
  if (!seed.ok()) return UsageError("eval", seed.status());
  care.exploration_seed = static_cast<uint64_t>(*seed);
  if (any_care) opts.care = care;
  if (args.Has("sweep")) {
    auto sweep = ParseSweep(args.Get("sweep"));
    if (!sweep.ok()) return Fail("eval", sweep.status());
    opts.sweep = *sweep;
    if (opts.recommenders.empty()) opts.recommenders = {"fused"};
    if (!any_care) opts.care.reset();
  }
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadOnly);
  if (!db.ok()) return Fail("eval", db.status());
  auto report = (*db)->Evaluate(opts);
  if (!report.ok()) return Fail("eval", report.status());
  if (opts.sweep) {
    const std::string& knob = report->sweep_knob;
    std::vector<SweepPlotPoint> points;
    std::string x_label;
    for (const auto& p : report->sweep) {
      auto [label, x] = PlotMetric(knob, p.metrics);
      x_label = label;
      points.push_back({p.value, x, p.metrics.ndcg_at_10});
    }
    const std::string svg_path = args.Has("svg") ? args.Get("svg") : "sweep-" + knob + ".svg";
    std::ofstream svg(svg_path);
    svg << SweepPlotSvg("recdb eval: NDCG@10 vs " + x_label + " as " + knob + " grows", knob,
                        x_label, points);
    if (!svg.good()) return Fail("eval", "cannot write " + svg_path);
    if (args.Has("json")) {
      nlohmann::ordered_json rows = nlohmann::ordered_json::array();
      for (const auto& p : report->sweep) {
        nlohmann::ordered_json row;
        row[knob] = p.value;
        const nlohmann::ordered_json metrics = EvalMetricsToJson(p.metrics);
        for (auto it = metrics.begin(); it != metrics.end(); ++it) row[it.key()] = it.value();
        rows.push_back(row);
      }
      nlohmann::ordered_json j;
      j["sweep"] = rows;
      j["svg"] = svg_path;
      std::cout << j.dump(2) << "\n";
    } else {
      std::printf("%lld test users; fused list re-ranked, sweeping %s\n",
                  static_cast<long long>(report->test_users), knob.c_str());
      std::printf("%-11s %8s %9s %7s %6s %8s %6s %7s %8s\n", knob.c_str(), "NDCG@10", "Recall@20",
                  "Cov@10", "ILD", "novelty", "Gini", "calKL", "longtail");
      for (const auto& p : report->sweep) {
        const EvalMetrics& m = p.metrics;
        std::printf("%-11.2f %8.4f %9.4f %7.3f %6.3f %8.2f %6.3f %7.3f %8.3f\n", p.value,
                    m.ndcg_at_10, m.recall_at_20, m.coverage_at_10, m.ild_at_10, m.novelty_at_10,
                    m.gini_at_10, m.calibration_kl_at_10, m.long_tail_share_at_10);
      }
      std::printf("plot: %s\n", svg_path.c_str());
    }
  } else if (args.Has("json")) {
    std::cout << EvaluationToJson(*report).dump(2) << "\n";  // no sweep here
  } else {
    std::printf("%lld users, %lld items, %lld test users\n", static_cast<long long>(report->users),
                static_cast<long long>(report->items), static_cast<long long>(report->test_users));
    std::printf("%-13s %8s %9s %7s %6s %8s %6s %7s %8s %8s\n", "recommender", "NDCG@10",
                "Recall@20", "Cov@10", "ILD", "novelty", "Gini", "calKL", "longtail", "train_s");
    for (const auto& [name, m] : report->recommenders) {
      std::printf("%-13s %8.4f %9.4f %7.3f %6.3f %8.2f %6.3f %7.3f %8.3f %8.2f\n", name.c_str(),
                  m.ndcg_at_10, m.recall_at_20, m.coverage_at_10, m.ild_at_10, m.novelty_at_10,
                  m.gini_at_10, m.calibration_kl_at_10, m.long_tail_share_at_10, m.train_seconds);
    }
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("eval", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("eval", EvalMain, 52, "offline quality of every recommender (docs/DESIGN.md protocol)");
}  // namespace recdb::cli
