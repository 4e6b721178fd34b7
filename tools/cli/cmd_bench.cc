// recdb bench NAME [flags]: runs a benchmark from tools/bench (bench.h).
//
// The benchmarks are the separate program `recdb-bench` (tools/bench/main.cc):
// several are white-box and link the internal libraries, which this CLI (on
// librecdb's public API only) does not. This command executes `recdb-bench`
// from the directory holding this `recdb` binary, passing the arguments on.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "tools/cli/args.h"

namespace recdb::cli {
namespace {

constexpr const char* kBenchProgram = "recdb-bench";

int BenchMain(int argc, char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Fail("bench", "cannot locate this program: " + ec.message());
  const std::string program = (self.parent_path() / kBenchProgram).string();
  std::vector<char*> args;
  args.push_back(const_cast<char*>(program.c_str()));
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  std::cout.flush();
  ::execv(program.c_str(), args.data());
  return Fail("bench", "cannot run " + program + ": " + std::strerror(errno) +
                           " (the benchmarks are built as the `recdb_bench` target)");
}

}  // namespace
RECDB_REGISTER_COMMAND("bench", BenchMain, 90, "run a benchmark (recdb bench --help lists them)");
}  // namespace recdb::cli
