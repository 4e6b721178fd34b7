// recdb retention DIR show|sweep [--policy FILE]: retention policies.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "tools/cli/args.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

int RetentionMain(int argc, char** argv) {
  ArgParser args("retention", "Show a retention policy or run the retention sweep now.",
                 "show: print the policy (from --policy FILE, else the options file's\n"
                 "(RECDB_OPTIONS_FILE, recdb options), else the default: keep all).\n"
                 "sweep: apply the policy and make every deletion physical: expired\n"
                 "events, users past max_events_per_user, inactive users, forgotten\n"
                 "users' ranges; flushes, compacts, rotates the WAL and MANIFEST.\n"
                 "Policy file (JSON, every field optional):\n"
                 "  {\"ttl_seconds_by_type\": {\"view\": 2592000}, \"max_events_per_user\": 0,\n"
                 "   \"delete_inactive_users_after_days\": 0, \"training_horizon_seconds\": 0,\n"
                 "   \"anonymize_after_days\": 0, \"sweep_interval_seconds\": 0}\n"
                 "A database with pseudonymous ids: set RECDB_PSEUDONYM_KEY_FILE.");
  args.AddPositional("DIR", "database directory");
  args.AddPositional("ACTION", "show | sweep");
  args.AddFlag("policy", "FILE", "retention policy JSON file");
  args.AddSwitch("json", "print the sweep report as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  const std::string action = args.Positional("ACTION");
  if (action != "show" && action != "sweep") {
    std::cerr << "recdb retention: error: ACTION must be show or sweep, not \"" << action
              << "\"\n";
    return kExitUsage;
  }
  auto base = CliOptions();
  if (!base.ok()) return Fail("retention", base.status());
  Options options = std::move(base).value();
  // --policy replaces the options file's policy.
  if (args.Has("policy")) {
    std::ifstream in(args.Get("policy"));
    if (!in) return Fail("retention", "cannot read policy file " + args.Get("policy"));
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = ParseRetentionPolicyJson(text.str());
    if (!parsed.ok()) return Fail("retention", parsed.status());
    options.retention = std::move(parsed).value();
  }
  const RetentionPolicy& policy = options.retention;
  options.create_if_missing = false;
  options.error_if_exists = false;
  options.read_only = action == "show";
  options.background_threads = 0;
  auto db = DB::Open(options, args.Positional("DIR"));
  if (!db.ok()) return Fail("retention", db.status());
  if (action == "show") {
    std::cout << RetentionPolicyToJson(policy) << "\n";
  } else {
    auto report = (*db)->SweepRetention();
    if (!report.ok()) return Fail("retention", report.status());
    if (args.Has("json")) {
      nlohmann::ordered_json j = {{"expired_events_removed", report->expired_events_removed},
                                  {"excess_events_removed", report->excess_events_removed},
                                  {"inactive_users_forgotten", report->inactive_users_forgotten},
                                  {"events_anonymized", report->events_anonymized},
                                  {"ranges_compacted", report->ranges_compacted},
                                  {"full_compaction", report->full_compaction},
                                  {"seconds", report->seconds}};
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << "expired events removed    " << report->expired_events_removed << "\n"
                << "excess events removed     " << report->excess_events_removed << "\n"
                << "inactive users forgotten  " << report->inactive_users_forgotten << "\n"
                << "events anonymized         " << report->events_anonymized << "\n"
                << "ranges compacted          " << report->ranges_compacted << "\n"
                << "seconds                   " << report->seconds << "\n";
    }
  }
  Status closed = (*db)->Close();
  if (!closed.ok()) return Fail("retention", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("retention", RetentionMain, 102,
                       "show the retention policy or run the sweep now");
}  // namespace recdb::cli
