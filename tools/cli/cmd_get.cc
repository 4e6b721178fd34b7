// recdb get DIR --item ID | --user ID: one record.
#include <iostream>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"
#include "tools/import/record_json.h"

namespace recdb::cli {
namespace {

int GetMain(int argc, char** argv) {
  ArgParser args("get", "Show one item (with its interaction counts) or one user.",
                 "Exactly one of --item and --user.");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("item", "ID", "the item's id");
  args.AddFlag("user", "ID", "the user's id");
  args.AddSwitch("json", "print the record as JSON (import format; items add \"counts\")");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (args.Has("item") == args.Has("user")) {
    std::cerr << "recdb get: give exactly one of --item ID and --user ID\n";
    return kExitUsage;
  }
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadOnly);
  if (!db.ok()) return Fail("get", db.status());
  const bool json = args.Has("json");
  if (args.Has("item")) {
    auto item = (*db)->GetItem(args.Get("item"));
    if (!item.ok()) return Fail("get", item.status());
    auto counts = (*db)->GetItemCounts(item->id);
    if (json) {
      tools::OutJson j = tools::ToJson(*item);
      if (counts.ok()) {
        j["counts"] = {{"total", counts->total}, {"by_type", counts->by_type}};
      }
      std::cout << j.dump(2, ' ', false, tools::OutJson::error_handler_t::replace) << "\n";
    } else {
      std::cout << DescribeItem(*item);
      if (counts.ok()) {
        std::cout << "  events: " << FormatCount(counts->total);
        for (const auto& [type, n] : counts->by_type) std::cout << "  " << type << "=" << n;
        std::cout << "\n";
      }
    }
  } else {
    auto user = (*db)->GetUser(args.Get("user"));
    if (!user.ok()) return Fail("get", user.status());
    if (json) {
      std::cout << tools::ToJson(*user).dump(2, ' ', false,
                                            tools::OutJson::error_handler_t::replace)
                << "\n";
    } else {
      std::cout << DescribeUser(*user);
      auto history = (*db)->GetUserHistory(user->id);
      if (history.ok()) {
        std::cout << "  events: " << FormatCount(static_cast<int64_t>(history->size()));
        if (!history->empty()) {
          std::cout << " (" << FormatTime(history->front().timestamp) << " .. "
                    << FormatTime(history->back().timestamp) << " UTC)";
        }
        std::cout << "\n";
      }
    }
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("get", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("get", GetMain, 50, "show one item or user");
}  // namespace recdb::cli
