// recdb export-user DIR --user ID: everything DIR holds about a user, as JSON
// (right of access).
#include <iostream>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

int ExportUserMain(int argc, char** argv) {
  ArgParser args("export-user", "Print everything DIR holds about a user as JSON.",
                 "Record (attributes, consent), events with their context, vectors in\n"
                 "every embedding space, and impressions (with their items). The export is\n"
                 "recorded in the privacy audit log (recdb privacy audit DIR) unless the\n"
                 "database can only be opened read-only (held by another process, a snapshot).");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("user", "ID", "external id of the user (required)");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (!args.Has("user")) {
    std::cerr << "recdb export-user: error: --user ID is required\n" << args.Help();
    return kExitUsage;
  }
  // Read-write: ExportUser appends an "export" entry to the audit log. A
  // directory another process holds open, or a snapshot, is read read-only
  // (and the export is not logged).
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadWrite);
  if (!db.ok() && !db.status().IsNotFound() && !db.status().IsInvalidArgument()) {
    db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadOnly);
    if (db.ok()) {
      std::cerr << "recdb export-user: note: opened read-only, the export is not in the audit log\n";
    }
  }
  if (!db.ok()) return Fail("export-user", db.status());
  auto json = (*db)->ExportUser(args.Get("user"));
  if (!json.ok()) return Fail("export-user", json.status());
  std::cout << *json << "\n";
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("export-user", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("export-user", ExportUserMain, 101,
                       "everything held about a user, as JSON");
}  // namespace recdb::cli
