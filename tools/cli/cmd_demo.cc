// recdb demo [DIR]: generates a synthetic world, imports it through the
// public API and shows what recdb holds.
//
// The demo is a sequence of steps (DemoStep) over one DemoContext, so later
// work (recommendations, explanations) adds a step without touching the rest.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"
#include "tools/cli/progress.h"
#include "tools/import/record_json.h"
#include "tools/import/synthetic_world.h"

namespace recdb::cli {
namespace {

struct DemoContext {
  std::string dir;
  std::unique_ptr<DB> db;
  std::unique_ptr<tools::SyntheticWorld> world;
  bool json = false;
  bool quiet = false;
  nlohmann::ordered_json report = nlohmann::ordered_json::object();  // --json output
  std::ostringstream text;                                           // human output
};

struct DemoStep {
  const char* title;
  std::function<Status(DemoContext&)> run;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status GenerateAndImport(DemoContext& ctx) {
  const tools::SyntheticWorld& w = *ctx.world;
  const double start = Now();
  int64_t items = 0, users = 0, events = 0;
  ProgressBar bar(!ctx.quiet);
  tools::LoadWorldOptions lo;
  lo.batch_size = 5000;
  lo.users = true;
  lo.on_batch = [&](const char* kind, int64_t done, int64_t total) {
    const std::string_view k(kind);
    (k == "items" ? items : k == "users" ? users : events) = done;
    bar.Update(kind, static_cast<uint64_t>(done), static_cast<uint64_t>(total), done, Now() - start);
  };
  RECDB_RETURN_IF_ERROR(tools::LoadSyntheticWorld(ctx.db.get(), w, lo));
  const double seconds = Now() - start;
  const auto& o = w.options();
  ctx.report["world"] = {{"seed", o.seed},     {"items", items},          {"users", users},
                         {"events", events},   {"days", o.days},          {"start_ts", o.start_ts},
                         {"seconds", seconds}, {"categories", tools::SyntheticWorld::Categories()}};
  char line[256];
  std::snprintf(line, sizeof(line),
                "Generated (seed %llu) and imported %s items, %s users, %s events over %lld days "
                "in %.2f s.\n",
                static_cast<unsigned long long>(o.seed), FormatCount(items).c_str(),
                FormatCount(users).c_str(), FormatCount(events).c_str(),
                static_cast<long long>(o.days), seconds);
  ctx.text << line;
  return Status::OK();
}

Status ShowStats(DemoContext& ctx) {
  RECDB_ASSIGN_OR_RETURN(DBStats s, ctx.db->GetStats());
  ctx.report["stats"] = {{"users", s.users},           {"items", s.items},
                         {"events", s.events},         {"event_types", s.event_types},
                         {"disk_bytes", s.disk_bytes}};
  ctx.text << "  users " << FormatCount(s.users) << ", items " << FormatCount(s.items)
           << ", events " << FormatCount(s.events) << ", event types " << s.event_types
           << ", disk " << FormatBytes(s.disk_bytes) << "\n";
  return Status::OK();
}

Status ShowItems(DemoContext& ctx) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  const int64_t n = std::min<int64_t>(3, ctx.world->num_items());
  for (int64_t i = 0; i < n; ++i) {
    RECDB_ASSIGN_OR_RETURN(Item item, ctx.db->GetItem(tools::SyntheticWorld::ItemId(i)));
    list.push_back(tools::ToJson(item));
    std::istringstream lines(DescribeItem(item));
    for (std::string l; std::getline(lines, l);) ctx.text << "  " << l << "\n";
  }
  ctx.report["sample_items"] = list;
  return Status::OK();
}

Status ShowUserHistory(DemoContext& ctx) {
  // The most active of the first 50 users makes the most telling history.
  std::string best;
  size_t best_size = 0;
  for (int64_t u = 0; u < std::min<int64_t>(50, ctx.world->num_users()); ++u) {
    std::string id = tools::SyntheticWorld::UserId(u);
    auto h = ctx.db->GetUserHistory(id);
    if (h.ok() && h->size() > best_size) {
      best = id;
      best_size = h->size();
    }
  }
  if (best.empty()) {
    ctx.text << "  (no user has events)\n";
    return Status::OK();
  }
  RECDB_ASSIGN_OR_RETURN(std::vector<Event> history, ctx.db->GetUserHistory(best));
  const size_t shown = std::min<size_t>(10, history.size());
  nlohmann::ordered_json recent = nlohmann::ordered_json::array();
  ctx.text << "  user " << best << ": " << history.size() << " events; the last " << shown
           << ":\n";
  for (size_t i = history.size() - shown; i < history.size(); ++i) {
    recent.push_back(tools::ToJson(history[i]));
    ctx.text << "    " << DescribeEvent(history[i], false) << "\n";
  }
  ctx.report["user_history"] = {{"user", best}, {"events", history.size()}, {"recent", recent}};
  return Status::OK();
}

Status ShowTopItems(DemoContext& ctx) {
  struct Row {
    std::string id;
    ItemCounts counts;
  };
  std::vector<Row> rows;
  RECDB_RETURN_IF_ERROR(ctx.db->ForEachItem([&](const Item& item) -> Status {
    RECDB_ASSIGN_OR_RETURN(ItemCounts c, ctx.db->GetItemCounts(item.id));
    rows.push_back(Row{item.id, std::move(c)});
    return Status::OK();
  }));
  const size_t k = std::min<size_t>(10, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + k, rows.end(), [](const Row& a, const Row& b) {
    return a.counts.total != b.counts.total ? a.counts.total > b.counts.total : a.id < b.id;
  });
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (size_t i = 0; i < k; ++i) {
    const Row& r = rows[i];
    RECDB_ASSIGN_OR_RETURN(Item item, ctx.db->GetItem(r.id));
    top.push_back({{"item", r.id},
                   {"title", item.title},
                   {"total", r.counts.total},
                   {"by_type", r.counts.by_type}});
    char line[512];
    auto count = [&r](const char* type) {
      auto it = r.counts.by_type.find(type);
      return static_cast<long long>(it == r.counts.by_type.end() ? 0 : it->second);
    };
    std::snprintf(line, sizeof(line), "  %2zu. %-6s %-44.44s %6lld events (%lld views, %lld purchases)\n",
                  i + 1, r.id.c_str(), item.title.c_str(),
                  static_cast<long long>(r.counts.total), count("view"), count("purchase"));
    ctx.text << line;
  }
  ctx.report["top_items"] = top;
  return Status::OK();
}

Status TrainModels(DemoContext& ctx) {
  RECDB_ASSIGN_OR_RETURN(TrainReport report, ctx.db->Train());
  char line[256];
  std::snprintf(line, sizeof(line),
                "  trained %zu recommenders on %lld events in %.2f s; fusion weights learned on a\n"
                "  validation split carved from the training data:\n",
                report.weights.size(), static_cast<long long>(report.events), report.seconds);
  ctx.text << line;
  for (const auto& [name, w] : report.weights) {
    std::snprintf(line, sizeof(line), "    %-16s %.2f\n", name.c_str(), w);
    ctx.text << line;
  }
  ctx.report["train"] = {{"events", report.events},
                         {"seconds", report.seconds},
                         {"weights", report.weights},
                         {"model_version", report.model_version}};
  return Status::OK();
}

Status ShowRecommendations(DemoContext& ctx) {
  nlohmann::ordered_json users = nlohmann::ordered_json::array();
  for (int64_t u : {0, 1, 2}) {
    if (u >= ctx.world->num_users()) break;
    RecommendRequest req;
    req.user = tools::SyntheticWorld::UserId(u);
    req.k = 5;
    auto res = ctx.db->Recommend(req);
    if (!res.ok()) return res.status();
    ctx.text << "  for user " << req.user << ":\n";
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Recommendation& rec : res->items) {
      auto item = ctx.db->GetItem(rec.id);
      std::string title = item.ok() && !item->title.empty() ? item->title : rec.id;
      std::string category = item.ok() && !item->categories.empty() ? item->categories[0] : "";
      char line[512];
      std::snprintf(line, sizeof(line), "    %-7s %-40.40s %-12.12s %s\n", rec.id.c_str(),
                    title.c_str(), category.c_str(), rec.explanation.sentence.c_str());
      ctx.text << line;
      list.push_back({{"id", rec.id},
                      {"title", title},
                      {"score", rec.score},
                      {"reason", rec.explanation.sentence},
                      {"contributions", rec.contributions}});
    }
    users.push_back({{"user", req.user}, {"items", list}});
  }
  ctx.report["recommendations"] = users;
  return Status::OK();
}

// The same user's list with care off and on (recdb/care.h), with the reason
// for each item: what diversity, calibration, fair exposure and exploration
// change, and how each placement is explained.
Status ShowCare(DemoContext& ctx) {
  RecommendRequest req;
  req.user = tools::SyntheticWorld::UserId(0);
  req.k = 8;
  req.care = CareOptions{};
  nlohmann::ordered_json both = nlohmann::ordered_json::object();
  for (bool on : {false, true}) {
    if (on) {
      req.care->diversity = 0.85;  // the knob's useful range is 0.8-0.9 (recdb/care.h)
      req.care->calibration = 0.2;
      req.care->fair_share = 0.25;
      req.care->exploration = 0.125;
      req.care->exploration_seed = 7;
    }
    RECDB_ASSIGN_OR_RETURN(RecommendResponse res, ctx.db->Recommend(req));
    ctx.text << (on ? "  care on (diversity 0.85, calibration 0.2, fair share 0.25, exploration 0.125):\n"
                    : "  care off, user " + req.user + ":\n");
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Recommendation& rec : res.items) {
      auto item = ctx.db->GetItem(rec.id);
      std::string title = item.ok() ? item->title : rec.id;
      std::string cats;
      if (item.ok()) {
        for (const auto& c : item->categories) cats += (cats.empty() ? "" : ",") + c;
      }
      char line[512];
      std::snprintf(line, sizeof(line), "    %-6s %-34.34s %-12.12s %s\n", rec.id.c_str(),
                    title.c_str(), cats.c_str(), rec.explanation.sentence.c_str());
      ctx.text << line;
      nlohmann::ordered_json evidence = nlohmann::ordered_json::array();
      for (const auto& e : rec.explanation.evidence) evidence.push_back({{"kind", e.kind}, {"text", e.text}});
      list.push_back({{"item", rec.id},
                      {"categories", cats},
                      {"explanation", {{"sentence", rec.explanation.sentence}, {"evidence", evidence}}}});
    }
    both[on ? "care_on" : "care_off"] = list;
  }
  ctx.report["care"] = {{"user", req.user}, {"lists", both}};
  return Status::OK();
}

// The demo, in order. Later steps (recommend, explain) append here.
const std::vector<DemoStep>& Steps() {
  static const std::vector<DemoStep> kSteps = {
      {"Generating a synthetic world and importing it", GenerateAndImport},
      {"What recdb holds", ShowStats},
      {"A few items", ShowItems},
      {"One user's recent history", ShowUserHistory},
      {"Top items by interactions", ShowTopItems},
      {"Training the recommenders", TrainModels},
      {"Recommendations, and the reason for each", ShowRecommendations},
      {"The same list with care off and on", ShowCare},
  };
  return kSteps;
}

int DemoMain(int argc, char** argv) {
  ArgParser args(
      "demo", "Generate a realistic synthetic world, import it and show what recdb holds.",
      "The world (tools/import/synthetic_world.h) is deterministic under --seed: items\n"
      "with text from per-category word lists, creators, power-law popularity, users\n"
      "with drifting tastes, sessions on mobile/desktop/tv with hour-of-day patterns,\n"
      "and view/click/add_to_cart/purchase/rating events. DIR defaults to a fresh\n"
      "temporary directory, which is printed and kept for you to explore.");
  args.AddPositional("DIR", "database directory to create", /*required=*/false);
  args.AddFlag("seed", "N", "random seed", "42");
  args.AddFlag("users", "N", "users", "2000");
  args.AddFlag("items", "N", "items", "1000");
  args.AddFlag("events", "N", "events (0 = 20 per user)", "0");
  args.AddFlag("days", "N", "simulated days", "60");
  args.AddSwitch("quiet", "no progress bar");
  args.AddSwitch("json", "print the demo's findings as one JSON object");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;

  tools::SyntheticWorldOptions wo;
  for (const char* flag : {"seed", "users", "items", "events", "days"}) {
    auto v = args.GetInt(flag);
    if (!v.ok()) return UsageError("demo", v.status());
    if (*v < 0 || (*v == 0 && std::string(flag) != "events" && std::string(flag) != "seed")) {
      return Fail("demo", std::string("--") + flag + ": must be positive");
    }
  }
  wo.seed = static_cast<uint64_t>(*args.GetInt("seed"));
  wo.users = *args.GetInt("users");
  wo.items = *args.GetInt("items");
  wo.events = *args.GetInt("events");
  wo.days = *args.GetInt("days");

  DemoContext ctx;
  ctx.json = args.Has("json");
  ctx.quiet = args.Has("quiet") || ctx.json;
  ctx.dir = args.Positional("DIR");
  if (ctx.dir.empty()) {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/recdb-demo-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return Fail("demo", "cannot create a temporary directory");
    ctx.dir = tmpl;
  }
  auto db = OpenDatabase(ctx.dir, OpenMode::kCreate);
  if (!db.ok()) return Fail("demo", db.status());
  ctx.db = std::move(db).value();
  ctx.world = std::make_unique<tools::SyntheticWorld>(wo);
  ctx.report["dir"] = ctx.dir;
  if (!ctx.json) std::cout << "recdb demo: database in " << ctx.dir << "\n";

  for (const DemoStep& step : Steps()) {
    ctx.text.str("");
    Status s = step.run(ctx);
    if (!s.ok()) {
      (void)CloseDatabase(std::move(ctx.db)).ok();
      return Fail("demo", s.WithContext(step.title));
    }
    if (!ctx.json) std::cout << "\n== " << step.title << "\n" << ctx.text.str() << std::flush;
  }
  Status closed = CloseDatabase(std::move(ctx.db));
  if (!closed.ok()) return Fail("demo", closed);
  if (ctx.json) {
    std::cout << ctx.report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << "\nExplore it: recdb stats " << ctx.dir << " | recdb history " << ctx.dir
              << " --user u0 | recdb dump " << ctx.dir << "\n";
  }
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("demo", DemoMain, 80, "generate a synthetic world and explore it");
}  // namespace recdb::cli
