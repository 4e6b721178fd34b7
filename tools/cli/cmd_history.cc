// recdb history DIR --user ID: a user's events in time order.
#include <iostream>
#include <map>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"
#include "tools/import/record_json.h"

namespace recdb::cli {
namespace {

int HistoryMain(int argc, char** argv) {
  ArgParser args("history", "Show a user's events, oldest first.",
                 "--from and --to select timestamps in [FROM, TO) (seconds since epoch).");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("user", "ID", "the user's id (required)");
  args.AddFlag("from", "TS", "first timestamp included");
  args.AddFlag("to", "TS", "first timestamp excluded");
  args.AddFlag("limit", "N", "at most N events (the oldest of the range); 0 = all", "0");
  args.AddSwitch("json", "print {\"user\":..., \"events\":[...]} as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (!args.Has("user")) {
    std::cerr << "recdb history: --user ID is required\n";
    return kExitUsage;
  }
  HistoryRange range;
  if (args.Has("from")) {
    auto v = args.GetInt("from");
    if (!v.ok()) return UsageError("history", v.status());
    range.start = *v;
  }
  if (args.Has("to")) {
    auto v = args.GetInt("to");
    if (!v.ok()) return UsageError("history", v.status());
    range.end = *v;
  }
  auto limit = args.GetInt("limit");
  if (!limit.ok()) return UsageError("history", limit.status());
  if (*limit < 0) return UsageError("history", "--limit: must be >= 0");
  range.limit = static_cast<size_t>(*limit);
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadOnly);
  if (!db.ok()) return Fail("history", db.status());
  const std::string user = args.Get("user");
  auto history = (*db)->GetUserHistory(user, range);
  if (!history.ok()) return Fail("history", history.status());
  if (args.Has("json")) {
    tools::OutJson events = tools::OutJson::array();
    for (const auto& e : *history) events.push_back(tools::ToJson(e));
    tools::OutJson j = {{"user", user}, {"count", history->size()}, {"events", events}};
    std::cout << j.dump(-1, ' ', false, tools::OutJson::error_handler_t::replace) << "\n";
  } else {
    std::cout << "user " << user << ": " << FormatCount(static_cast<int64_t>(history->size()))
              << " events\n";
    std::map<std::string, std::string> titles;  // item id -> title ("" if none)
    for (const auto& e : *history) {
      auto t = titles.find(e.item);
      if (t == titles.end()) {
        auto item = (*db)->GetItem(e.item);
        t = titles.emplace(e.item, item.ok() ? item->title : std::string()).first;
      }
      std::cout << "  " << DescribeEvent(e, false, t->second) << "\n";
    }
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("history", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("history", HistoryMain, 40, "a user's events in time order");
}  // namespace recdb::cli
