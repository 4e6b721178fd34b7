// recdb-bench NAME [flags]: the benchmark programs of tools/bench (bench.h).
//
// A separate executable from the `recdb` CLI because several benchmarks are
// white-box (they time index/, storage/ and engine/models/ directly against
// raw hnswlib and RocksDB) and so link the internal static libraries, which
// the CLI, built on librecdb's public API only, may not. `recdb bench ...`
// runs this program (tools/cli/cmd_bench.cc), so both spellings work.
#include <cstdio>
#include <cstring>

#include "recdb/process.h"
#include "tools/bench/bench.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

void ListBenchmarks(std::FILE* out) {
  std::fprintf(out,
               "Usage: recdb bench NAME [flags]\n\n"
               "Run a benchmark. Each compares recdb with an anchor (raw RocksDB, raw\n"
               "hnswlib, brute force) in the same run and reports the ratio; --json prints\n"
               "one JSON object. 'recdb bench NAME --help' shows a benchmark's flags.\n\n"
               "Benchmarks:\n");
  if (recdb::bench::Registry().empty()) std::fprintf(out, "  (none registered in this build)\n");
  for (const auto& [name, info] : recdb::bench::Registry()) {
    std::fprintf(out, "  %-12s %s\n", name.c_str(), info.summary.c_str());
  }
}

}  // namespace

// argv[0] is the program, argv[1] the benchmark's name (as `recdb bench`).
int main(int argc, char** argv) {
  recdb::TuneAllocatorForTraining();  // as the `recdb` CLI: the benchmarks fit models
  if (argc < 2) {
    ListBenchmarks(stderr);
    return kExitUsage;
  }
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    ListBenchmarks(stdout);
    return kExitOk;
  }
  auto it = recdb::bench::Registry().find(argv[1]);
  if (it == recdb::bench::Registry().end()) {
    std::fprintf(stderr, "recdb bench: unknown benchmark '%s'\n\n", argv[1]);
    ListBenchmarks(stderr);
    return kExitUsage;
  }
  // The benchmark sees argv[0] = its name, then its own flags.
  return it->second.main(argc - 1, argv + 1);
}
