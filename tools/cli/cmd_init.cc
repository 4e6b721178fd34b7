// recdb init DIR: creates an empty database.
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

int InitMain(int argc, char** argv) {
  ArgParser args("init", "Create an empty recdb database in DIR.",
                 "DIR is created if needed; it must not already hold a database.");
  args.AddPositional("DIR", "database directory");
  args.AddSwitch("json", "print the result as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  const std::string dir = args.Positional("DIR");
  auto db = OpenDatabase(dir, OpenMode::kCreate);
  if (!db.ok()) return Fail("init", db.status());
  auto types = (*db)->ListEventTypes();
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("init", closed);
  if (args.Has("json")) {
    std::cout << nlohmann::ordered_json{{"created", dir}}.dump(2) << "\n";
  } else {
    std::cout << "Created an empty recdb database in " << dir << "\n";
    if (types.ok()) {
      std::cout << "Event types: ";
      for (size_t i = 0; i < types->size(); ++i) {
        std::cout << (i ? ", " : "") << (*types)[i].name;
      }
      std::cout << "\n";
    }
    std::cout << "Next: recdb import " << dir << " --items FILE --users FILE --events FILE\n";
  }
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("init", InitMain, 10, "create an empty database");
}  // namespace recdb::cli
