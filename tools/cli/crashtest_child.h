// The crash test's two halves: the child that writes until it is killed
// (crashtest_child.cc) and the verifier the parent runs after each kill
// (crashtest_verify.cc). cmd_crashtest.cc drives them.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace recdb::cli::crashtest {

struct ChildConfig {
  std::string db_path;   // the recdb directory
  std::string log_path;  // the expected-state log (crashtest_model.h)
  uint64_t seed = 1;
  int64_t cycle = 0;
  bool sync = false;       // WriteOptions::sync of every write
  int64_t max_ops = 5000;  // then Close and exit 0
  // fdatasync the expected-state log after every line. A SIGKILL cannot lose
  // a line write(2) has returned for, so only a power-loss test needs it;
  // unit tests turn it off for speed.
  bool sync_log = true;
  // Options::background_threads; 0 (fault-injection tests) makes the I/O
  // sequence repeatable, as far as RocksDB's own threads allow.
  int background_threads = 2;
};

// Runs the child's workload. Returns the process exit code: 0 after max_ops
// and a clean Close, 3 on any error (printed to stderr).
int RunChild(const ChildConfig& cfg);

struct VerifyResult {
  int64_t acknowledged = 0;  // ops with an "A" line in the log
  int64_t in_flight = 0;     // ops with an intent only (may or may not be stored)
  std::set<std::string> lost;              // acknowledged ops whose effect is missing
  std::vector<std::string> inconsistencies;  // storage / derived state disagreements
  std::vector<std::string> lost_details;     // one line per lost op, for the report
};

// Opens the database read-only (so the check itself changes nothing the next
// cycle recovers from) and checks it against the expected-state log: every
// acknowledged op is present; nothing is present that was never attempted;
// stats counts equal scanned counts; per-item counts equal the events;
// stored vectors are searchable and the space's counts match them.
// `open_error` is set if the database cannot be opened at all.
VerifyResult Verify(const std::string& db_path, const std::string& log_path,
                    std::string* open_error);

}  // namespace recdb::cli::crashtest
