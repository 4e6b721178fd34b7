// Benchmark programs reachable as `recdb bench NAME [flags]`.
//
// Each benchmark lives in tools/bench/NAME.cc and registers itself with
// RECDB_REGISTER_BENCH; the CLI dispatches to it. Every benchmark measures
// recdb against an anchor in the same run (raw RocksDB, raw hnswlib, brute
// force) and prints the ratio; `--json` prints one JSON object.
#pragma once

#include <map>
#include <string>

namespace recdb::bench {

// argv[0] is the benchmark name; returns the process exit code.
using BenchMain = int (*)(int argc, char** argv);

struct BenchInfo {
  BenchMain main;
  std::string summary;  // one line, for `recdb bench --help`
};

std::map<std::string, BenchInfo>& Registry();

struct Registrar {
  Registrar(const char* name, BenchMain fn, const char* summary) {
    Registry()[name] = BenchInfo{fn, summary};
  }
};

}  // namespace recdb::bench

#define RECDB_REGISTER_BENCH(name, fn, summary) \
  static ::recdb::bench::Registrar recdb_bench_registrar_##fn(name, fn, summary)
