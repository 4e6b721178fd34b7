// recdb bench NAME [flags]: runs a benchmark from tools/bench (bench.h).
//
// The benchmarks are the separate program `recdb-bench` (tools/bench/main.cc):
// several are white-box and link the internal libraries, which this CLI (on
// librecdb's public API only) does not. This command executes `recdb-bench`
// from the directory holding this `recdb` binary, passing the arguments on.
#include "tools/cli/args.h"

namespace recdb::cli {
namespace {

int BenchMain(int argc, char** argv) {
  return ExecSibling("bench", "recdb-bench", "recdb_bench", argc, argv);
}

}  // namespace
RECDB_REGISTER_COMMAND("bench", BenchMain, 90, "run a benchmark (recdb bench --help lists them)");
}  // namespace recdb::cli
