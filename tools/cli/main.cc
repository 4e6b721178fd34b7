// `recdb`: the admin CLI. Dispatches to the commands registered in
// tools/cli/cmd_*.cc (see args.h).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "recdb/process.h"
#include "tools/cli/args.h"

namespace {

// Keep in step with project(recdb VERSION ...) in the top-level CMakeLists.txt.
constexpr const char* kVersion = "0.1.0";

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "recdb %s: admin tool for recdb, an embedded recommendation database\n\n"
               "Usage: recdb [--options FILE] COMMAND [ARGS] [flags]\n\n"
               "--options FILE: open databases with the options in FILE (JSON, recdb/options_file.h;\n"
               "  'recdb options' prints one); the same as RECDB_OPTIONS_FILE=FILE.\n\nCommands:\n",
               kVersion);
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [name, info] : recdb::cli::Commands()) order.emplace_back(info.order, name);
  std::sort(order.begin(), order.end());
  for (const auto& [_, name] : order) {
    std::fprintf(out, "  %-14s %s\n", name.c_str(),
                 recdb::cli::Commands().at(name).summary.c_str());
  }
  std::fprintf(out,
               "\nRun 'recdb COMMAND --help' for a command's arguments and flags.\n"
               "Most commands print human-readable text; --json prints one JSON document.\n"
               "Exit status: 0 success, 1 failure, 2 bad command line.\n");
}

}  // namespace

int main(int argc, char** argv) {
  // This process is recdb's own: train and serve may fit the seq component.
  recdb::TuneAllocatorForTraining();
  // The global flag: `recdb --options FILE COMMAND ...` (or --options=FILE).
  if (argc >= 2 && std::strncmp(argv[1], "--options", 9) == 0 &&
      (argv[1][9] == '\0' || argv[1][9] == '=')) {
    const char* file = argv[1][9] == '=' ? argv[1] + 10 : (argc >= 3 ? argv[2] : nullptr);
    if (file == nullptr || *file == '\0') {
      std::fprintf(stderr, "recdb: --options needs a FILE\n");
      return recdb::cli::kExitUsage;
    }
    ::setenv("RECDB_OPTIONS_FILE", file, 1);
    const int shift = argv[1][9] == '=' ? 1 : 2;
    argv[shift] = argv[0];
    argv += shift;
    argc -= shift;
  }
  if (argc < 2) {
    PrintUsage(stderr);
    return recdb::cli::kExitUsage;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    if (cmd == "help" && argc > 2) {
      auto it = recdb::cli::Commands().find(argv[2]);
      if (it != recdb::cli::Commands().end()) {
        char help_flag[] = "--help";
        char* sub[] = {argv[2], help_flag, nullptr};
        return it->second.main(2, sub);
      }
    }
    PrintUsage(stdout);
    return recdb::cli::kExitOk;
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("recdb %s\n", kVersion);
    return recdb::cli::kExitOk;
  }
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "--json") == 0) recdb::cli::SetJsonErrors(true);
  }
  auto it = recdb::cli::Commands().find(cmd);
  if (it == recdb::cli::Commands().end()) {
    std::fprintf(stderr, "recdb: unknown command '%s'\n\n", cmd.c_str());
    PrintUsage(stderr);
    return recdb::cli::kExitUsage;
  }
  return it->second.main(argc - 1, argv + 1);
}
