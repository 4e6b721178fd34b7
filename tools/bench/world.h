// Setup shared by the benchmarks that measure a whole database (`recdb bench
// recommend`, `snapshot`, `http`): opening a fresh DB, loading ml-100k or a
// synthetic world into it, and summarising latencies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "recdb/db.h"
#include "recdb/status.h"

namespace recdb::bench {

// Opens (creating) a database in `dir` as every DB benchmark does: no
// background threads, so that only the measured calls use the CPU.
StatusOr<std::unique_ptr<DB>> OpenBenchDB(const std::string& dir);

// Imports the ml-100k directory `data_dir` (u.item, u.user, u.data, ...).
Status LoadMovieLens(DB* db, const std::string& data_dir);

// Loads tools::SyntheticWorld (default seed) with the given sizes: its items,
// then its events, each in batches of 10,000.
Status LoadSynthetic(DB* db, int64_t items, int64_t users, int64_t events);

// The ids of every user in `db`, in DB::ForEachUser order.
StatusOr<std::vector<std::string>> UserIds(DB* db);

// p50 / p99 / max / mean of a list of latencies (any unit); n = how many.
struct Latency {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
  size_t n = 0;
};
Latency Summarise(std::vector<double> samples);

// The CPU time of the calling thread, in ms (CLOCK_THREAD_CPUTIME_ID): what
// a request costs whatever the machine's load (wall time on a shared machine
// includes the time the thread waited for a core).
double ThreadCpuMs();

// The 1-minute load average (/proc/loadavg), or "?": printed next to
// timings taken on a shared machine.
std::string LoadAverage();

}  // namespace recdb::bench
