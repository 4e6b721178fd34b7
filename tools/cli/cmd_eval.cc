// recdb eval DIR: offline quality of every recommender with the DESIGN.md
// protocol, accuracy and beyond-accuracy metrics side by side.
#include <cstdio>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

int EvalMain(int argc, char** argv) {
  ArgParser args("eval",
                 "Evaluate every recommender and the fused one on DIR's event log.",
                 "Protocol (DESIGN.md): per user, events sorted by (time, item id); the last 20%\n"
                 "are test, users with < 5 events train-only; full ranking excluding train items.");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("recommenders", "LIST", "comma-separated subset (default: all)");
  args.AddFlag("threads", "N", "threads", "2");
  args.AddSwitch("json", "print {\"recommenders\": {\"mostpop\": {\"ndcg@10\": x, ...}}} as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto threads = args.GetInt("threads");
  if (!threads.ok()) return Fail("eval", threads.status());
  EvaluateOptions opts;
  opts.threads = static_cast<int>(*threads);
  opts.recommenders = SplitCommas(args.Get("recommenders"));
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadOnly);
  if (!db.ok()) return Fail("eval", db.status());
  auto report = (*db)->Evaluate(opts);
  if (!report.ok()) return Fail("eval", report.status());
  if (args.Has("json")) {
    nlohmann::ordered_json j;
    j["users"] = report->users;
    j["items"] = report->items;
    j["test_users"] = report->test_users;
    nlohmann::ordered_json recs = nlohmann::ordered_json::object();
    for (const auto& [name, m] : report->recommenders) {
      recs[name] = {{"ndcg@10", m.ndcg_at_10},
                    {"recall@20", m.recall_at_20},
                    {"coverage@10", m.coverage_at_10},
                    {"ild@10", m.ild_at_10},
                    {"novelty@10", m.novelty_at_10},
                    {"gini@10", m.gini_at_10},
                    {"calibration_kl@10", m.calibration_kl_at_10},
                    {"long_tail_share@10", m.long_tail_share_at_10},
                    {"train_s", m.train_seconds}};
    }
    j["recommenders"] = recs;
    j["fused_weights"] = report->fused_weights;
    std::cout << j.dump(2) << "\n";
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
RECDB_REGISTER_COMMAND("eval", EvalMain, 52, "offline quality of every recommender (DESIGN.md protocol)");
}  // namespace recdb::cli
