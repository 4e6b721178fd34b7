#include "tools/bench/world.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "tools/import/importer.h"
#include "tools/import/synthetic_world.h"

namespace recdb::bench {

StatusOr<std::unique_ptr<DB>> OpenBenchDB(const std::string& dir) {
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;
  return DB::Open(o, dir);
}

Status LoadMovieLens(DB* db, const std::string& data_dir) {
  tools::ImportOptions io;
  tools::Importer importer(db, io);
  return importer.ImportMovieLens(data_dir);
}

Status LoadSynthetic(DB* db, int64_t items, int64_t users, int64_t events) {
  tools::SyntheticWorldOptions wo;
  wo.items = items;
  wo.users = users;
  wo.events = events;
  return tools::LoadSyntheticWorld(db, tools::SyntheticWorld(wo));
}

StatusOr<std::vector<std::string>> UserIds(DB* db) {
  std::vector<std::string> ids;
  RECDB_RETURN_IF_ERROR(db->ForEachUser([&](const User& u) {
    ids.push_back(u.id);
    return Status::OK();
  }));
  return ids;
}

Latency Summarise(std::vector<double> samples) {
  Latency l;
  if (samples.empty()) return l;
  std::sort(samples.begin(), samples.end());
  l.n = samples.size();
  l.p50 = samples[samples.size() / 2];
  l.p99 = samples[std::min(samples.size() - 1, static_cast<size_t>(samples.size() * 0.99))];
  l.max = samples.back();
  double sum = 0;
  for (double x : samples) sum += x;
  l.mean = sum / samples.size();
  return l;
}

double ThreadCpuMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

std::string LoadAverage() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  char buf[16] = {0};
  const bool got = std::fscanf(f, "%15s", buf) == 1;
  std::fclose(f);
  return got ? buf : "?";
}

}  // namespace recdb::bench
