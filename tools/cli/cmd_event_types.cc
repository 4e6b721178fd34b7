// recdb event-types DIR [--add NAME --weight W]: list or register event types.
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"

namespace recdb::cli {
namespace {

int EventTypesMain(int argc, char** argv) {
  ArgParser args("event-types", "List the registered event types, or register one.",
                 "Models weigh each event by its type's weight (purchase 5, view 1, dislike -1).\n"
                 "--add registers a new type or changes an existing type's weight.");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("add", "NAME", "register (or re-weigh) the event type NAME");
  args.AddFlag("weight", "W", "weight for --add (finite; negative = negative signal)", "1");
  args.AddSwitch("json", "print the list as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (args.Has("weight") && !args.Has("add")) {
    std::cerr << "recdb event-types: --weight needs --add NAME\n";
    return kExitUsage;
  }
  const bool adding = args.Has("add");
  auto db = OpenDatabase(args.Positional("DIR"), adding ? OpenMode::kReadWrite : OpenMode::kReadOnly);
  if (!db.ok()) return Fail("event-types", db.status());
  if (adding) {
    auto weight = args.GetDouble("weight");
    if (!weight.ok()) return UsageError("event-types", weight.status());
    Status s = (*db)->RegisterEventType(EventType{args.Get("add"), *weight});
    if (!s.ok()) return Fail("event-types", s);
  }
  auto types = (*db)->ListEventTypes();
  if (!types.ok()) return Fail("event-types", types.status());
  if (args.Has("json")) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& t : *types) list.push_back({{"name", t.name}, {"weight", t.weight}});
    std::cout << nlohmann::ordered_json{{"event_types", list}}.dump(2) << "\n";
  } else {
    if (adding) {
      std::cout << "Registered '" << args.Get("add") << "' with weight "
                << FormatNumber(*args.GetDouble("weight")) << "\n\n";
    }
    std::cout << "name          weight\n";
    for (const auto& t : *types) {
      std::string name = t.name;
      if (name.size() < 13) name.resize(13, ' ');
      std::cout << name << " " << FormatNumber(t.weight) << "\n";
    }
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("event-types", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("event-types", EventTypesMain, 70, "list or register event types");
}  // namespace recdb::cli
