// recdb stats DIR: what the database holds.
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/recommend_json.h"
#include "tools/cli/format.h"

namespace recdb::cli {
namespace {

int StatsMain(int argc, char** argv) {
  ArgParser args("stats", "Show how many users, items, events and event types DIR holds.");
  args.AddPositional("DIR", "database directory");
  args.AddSwitch("json", "print {\"users\",\"items\",\"events\",\"event_types\",...} as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadOnly);
  if (!db.ok()) return Fail("stats", db.status());
  auto stats = (*db)->GetStats();
  if (!stats.ok()) return Fail("stats", stats.status());
  if (args.Has("json")) {
    nlohmann::ordered_json j = StatsToJson(*stats);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "users        " << FormatCount(stats->users) << "\n"
              << "items        " << FormatCount(stats->items) << "\n"
              << "events       " << FormatCount(stats->events) << "\n"
              << "event types  " << FormatCount(stats->event_types) << "\n"
              << "disk         " << FormatBytes(stats->disk_bytes) << "\n"
              << "model        "
              << (stats->model_version ? "version " + std::to_string(stats->model_version) +
                                             " (trained at sequence " +
                                             std::to_string(stats->model_sequence) + ")"
                                       : std::string("none (recdb train DIR)"))
              << "\n";
    if (!stats->model_problem.empty()) std::cout << "model note   " << stats->model_problem << "\n";
    for (const BackgroundJobStats& j : stats->background_jobs) {
      std::cout << "background   " << j.name << ": " << j.runs << " runs, " << j.failures
                << " failed" << (j.last_error.empty() ? "" : "; last error: " + j.last_error)
                << (j.last_run_failed ? " (the latest run)" : "") << "\n";
    }
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("stats", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("stats", StatsMain, 30, "counts of users, items, events; disk size");
}  // namespace recdb::cli
