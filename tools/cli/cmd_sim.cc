// recdb sim [flags]: runs the closed-loop simulation (sim/README.md).
//
// The simulator is the separate program `recdb-sim` (sim/tools/recdb_sim.cc,
// on the public API like this CLI, but with its own library); this command
// executes it from the directory holding this `recdb` binary, passing the
// arguments on, as `recdb bench` runs `recdb-bench`.
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

constexpr const char* kSimProgram = "recdb-sim";

int SimMain(int argc, char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Fail("sim", "cannot locate this program: " + ec.message());
  const std::string program = (self.parent_path() / kSimProgram).string();
  std::vector<char*> args;
  args.push_back(const_cast<char*>(program.c_str()));
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  std::cout.flush();
  ::execv(program.c_str(), args.data());
  return Fail("sim", "cannot run " + program + ": " + std::strerror(errno) +
                         " (the simulator is built as the `recdb_sim_cli` target)");
}

}  // namespace
RECDB_REGISTER_COMMAND("sim", SimMain, 91, "closed-loop simulation of policies (recdb sim --help)");
}  // namespace recdb::cli
