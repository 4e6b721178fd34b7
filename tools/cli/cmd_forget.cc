// recdb forget DIR --user ID: the right to erasure, with its receipt.
#include <iostream>

#include <nlohmann/json.hpp>

#include "recdb/privacy.h"
#include "tools/cli/admin_json.h"
#include "tools/cli/args.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

int ForgetMain(int argc, char** argv) {
  ArgParser args("forget", "Forget a user: record, events, vectors, impressions, counts.",
                 "Deletes everything DIR holds about the user, adds a keyed hash of the id\n"
                 "to the forget ledger (later imports of the id are dropped), and runs the\n"
                 "retention sweep so no file in DIR still holds the user's bytes when the\n"
                 "command returns. Retrain (recdb train DIR) to refresh the models.");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("user", "ID", "external id of the user to forget (required)");
  args.AddSwitch("no-sweep", "skip the physical-erasure sweep (the next sweep does it)");
  args.AddSwitch("json", "print the erasure receipt as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (!args.Has("user")) {
    std::cerr << "recdb forget: error: --user ID is required\n" << args.Help();
    return kExitUsage;
  }
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadWrite);
  if (!db.ok()) return Fail("forget", db.status());
  ForgetOptions options;
  options.wait_for_physical_erasure = !args.Has("no-sweep");
  auto r = (*db)->ForgetUser(args.Get("user"), options);
  if (!r.ok()) return Fail("forget", r.status());
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("forget", closed);
  if (args.Has("json")) {
    const nlohmann::ordered_json j = ErasureReceiptToJson(*r);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "forgot user " << r->user << ": " << r->events_removed << " events, "
              << r->vectors_removed << " vectors, " << r->impressions_removed
              << " impressions, " << (r->had_user_record ? "1" : "0") << " user record (~"
              << r->bytes_estimate << " bytes)\n"
              << "ledger hash  " << r->ledger_hash << "\n"
              << (r->physically_erased ? "physically erased from every file in the directory\n"
                                       : "physical erasure at the next sweep\n");
  }
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("forget", ForgetMain, 100, "forget a user (erasure) and print the receipt");
}  // namespace recdb::cli
