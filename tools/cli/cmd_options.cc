// recdb options: the options file format (recdb/options_file.h).
#include <iostream>

#include "recdb/options_file.h"
#include "tools/cli/args.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

int OptionsMain(int argc, char** argv) {
  ArgParser args("options", "Print the options every command opens a database with, as JSON.",
                 "With RECDB_OPTIONS_FILE (or recdb --options FILE) set, the file's options\n"
                 "over the defaults, checked; without, the defaults: a template to edit.\n"
                 "Fields are the C++ names of recdb/options.h, care.h and privacy.h; every\n"
                 "field is optional, unknown ones are errors. Commands other than serve\n"
                 "run without background threads whatever the file says, and set the\n"
                 "create/read-only flags themselves. Pseudonym keys are never printed or\n"
                 "read from the file: name a key file (pseudonyms.key_file).");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto options = CliOptions();
  if (!options.ok()) return Fail("options", options.status());
  std::cout << OptionsToJson(*options) << "\n";
  return kExitOk;
}

}  // namespace

RECDB_REGISTER_COMMAND("options", OptionsMain, 104, "print the options file (defaults or RECDB_OPTIONS_FILE's)");
}  // namespace recdb::cli
