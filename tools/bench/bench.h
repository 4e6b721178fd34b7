// Benchmark programs reachable as `recdb bench NAME [flags]`.
//
// Each benchmark lives in tools/bench/NAME.cc and registers itself with
// RECDB_REGISTER_BENCH; the CLI dispatches to it. Every benchmark measures
// recdb against an anchor in the same run (raw RocksDB, raw hnswlib, brute
// force) and prints the ratio; `--json` prints one JSON object.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "tools/cli/args.h"

namespace recdb::bench {

// A benchmark's command line, parsed by the CLI's ArgParser ("recdb bench
// NAME --flag V", "--flag=V", --help): an unknown flag, a missing value or a
// value that is not a number is a usage error (exit 2), never a silent 0.
//
//   Flags f("two-stage");
//   f.args().AddFlag("items", "N", "catalog size", "100000");
//   if (!f.Parse(argc, argv)) return f.exit_code();
//   const int64_t items = f.Int("items", 1);
//   if (!f.ok()) return f.exit_code();
class Flags {
 public:
  // `bench` as registered (its summary heads --help).
  explicit Flags(const std::string& bench, std::string description = "");
  cli::ArgParser& args() { return args_; }
  // False when the benchmark should return exit_code() (--help, bad flags).
  bool Parse(int argc, char** argv);
  // A flag's value (its default when absent). A value that is not a number,
  // or below `min`, prints a usage error and makes ok() false (the first one
  // is reported); the return value is then 0.
  int64_t Int(const std::string& name, int64_t min = 0);
  double Double(const std::string& name, double min = -std::numeric_limits<double>::infinity());
  std::string Str(const std::string& name) const { return args_.Get(name); }
  bool Has(const std::string& name) const { return args_.Has(name); }
  bool ok() const { return exit_code_ == 0; }
  int exit_code() const { return exit_code_; }
  // Declares --items, --users and --events, the sizes of a synthetic world
  // (tools/import/synthetic_world.h), with these defaults.
  void AddWorldSizeFlags(int64_t items, int64_t users, int64_t events);

 private:
  void Bad(const std::string& message);
  cli::ArgParser args_;
  int exit_code_ = 0;
};

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
