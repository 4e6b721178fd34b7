// recdb bench NAME [flags]: runs a benchmark from tools/bench (bench.h).
#include <cstdio>
#include <cstring>

#include "tools/bench/bench.h"
#include "tools/cli/args.h"

namespace recdb::cli {
namespace {

void ListBenchmarks(std::FILE* out) {
  std::fprintf(out,
               "Usage: recdb bench NAME [flags]\n\n"
               "Run a benchmark. Each compares recdb with an anchor (raw RocksDB, raw\n"
               "hnswlib, brute force) in the same run and reports the ratio; --json prints\n"
               "one JSON object. 'recdb bench NAME --help' shows a benchmark's flags.\n\n"
               "Benchmarks:\n");
  if (bench::Registry().empty()) std::fprintf(out, "  (none registered in this build)\n");
  for (const auto& [name, info] : bench::Registry()) {
    std::fprintf(out, "  %-12s %s\n", name.c_str(), info.summary.c_str());
  }
}

int BenchMain(int argc, char** argv) {
  if (argc < 2) {
    ListBenchmarks(stderr);
    return kExitUsage;
  }
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    ListBenchmarks(stdout);
    return kExitOk;
  }
  auto it = bench::Registry().find(argv[1]);
  if (it == bench::Registry().end()) {
    std::fprintf(stderr, "recdb bench: unknown benchmark '%s'\n\n", argv[1]);
    ListBenchmarks(stderr);
    return kExitUsage;
  }
  // The benchmark sees argv[0] = its name, then its own flags.
  return it->second.main(argc - 1, argv + 1);
}

}  // namespace
RECDB_REGISTER_COMMAND("bench", BenchMain, 90, "run a benchmark (recdb bench --help lists them)");
}  // namespace recdb::cli
