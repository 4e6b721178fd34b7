// recdb sim [flags]: runs the closed-loop simulation (sim/README.md).
//
// The simulator is the separate program `recdb-sim` (sim/tools/recdb_sim.cc,
// on the public API like this CLI, but with its own library); this command
// executes it from the directory holding this `recdb` binary, passing the
// arguments on, as `recdb bench` runs `recdb-bench`.
#include "tools/cli/args.h"

namespace recdb::cli {
namespace {

int SimMain(int argc, char** argv) {
  return ExecSibling("sim", "recdb-sim", "recdb_sim_cli", argc, argv);
}

}  // namespace
RECDB_REGISTER_COMMAND("sim", SimMain, 91, "closed-loop simulation of policies (recdb sim --help)");
}  // namespace recdb::cli
