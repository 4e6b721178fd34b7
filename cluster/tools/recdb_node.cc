// recdb-node: one cluster node as a process. Follows the stream, applies its
// partitions into --db, and either runs until SIGTERM/SIGINT or, with
// --until SEQ, exits once it has applied SEQ and prints its digest.
//
//   recdb-node --servers URLS --db DIR [--stream NAME] [--partitions N]
//              [--own P,P,...] [--apply-batch N] [--until SEQ]
//              [--timeout-ms MS] [--status-file FILE] [--name NAME]
//
// --name: report to the stream's node registry (`recdb cluster status`).
// --status-file is rewritten (atomically, by rename) with "applied <seq>"
// whenever the applied sequence moves: a test watches it to kill the node
// mid-stream. Exit status: 0 on success, 1 on error, 2 on bad usage.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "cluster/node.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int Usage() {
  std::fprintf(stderr,
               "usage: recdb-node --servers URLS --db DIR [--stream NAME] [--partitions N]\n"
               "                  [--own P,P,...] [--apply-batch N] [--until SEQ]\n"
               "                  [--timeout-ms MS] [--status-file FILE] [--name NAME]\n");
  return 2;
}

void WriteStatus(const std::string& path, uint64_t applied) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << "applied " << applied << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  recdb::cluster::NodeOptions o;
  o.db_options.background_threads = 1;
  uint64_t until = 0;
  int timeout_ms = 120000;
  std::string status_file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    const std::string v = argv[++i];
    if (a == "--servers") {
      o.log.servers = v;
    } else if (a == "--db") {
      o.db_path = v;
    } else if (a == "--stream") {
      o.log.stream = v;
    } else if (a == "--partitions") {
      o.log.partitions = static_cast<uint32_t>(std::strtoul(v.c_str(), nullptr, 10));
    } else if (a == "--own") {
      size_t start = 0;
      while (start < v.size()) {
        size_t comma = v.find(',', start);
        if (comma == std::string::npos) comma = v.size();
        o.owned.push_back(static_cast<uint32_t>(std::strtoul(v.substr(start, comma - start).c_str(), nullptr, 10)));
        start = comma + 1;
      }
    } else if (a == "--apply-batch") {
      o.apply_batch = std::strtoul(v.c_str(), nullptr, 10);
    } else if (a == "--until") {
      until = std::strtoull(v.c_str(), nullptr, 10);
    } else if (a == "--timeout-ms") {
      timeout_ms = std::atoi(v.c_str());
    } else if (a == "--status-file") {
      status_file = v;
    } else if (a == "--name") {
      o.name = v;
    } else {
      return Usage();
    }
  }
  if (o.log.servers.empty() || o.db_path.empty() || o.apply_batch == 0) return Usage();
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);

  auto node = recdb::cluster::ClusterNode::Open(o);
  if (!node.ok()) {
    std::fprintf(stderr, "recdb-node: %s\n", node.status().ToString().c_str());
    return 1;
  }
  recdb::Status s = (*node)->Start();
  if (!s.ok()) {
    std::fprintf(stderr, "recdb-node: %s\n", s.ToString().c_str());
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  uint64_t reported = UINT64_MAX;
  int rc = 0;
  for (;;) {
    const uint64_t applied = (*node)->applied_sequence();
    if (!status_file.empty() && applied != reported) {
      WriteStatus(status_file, applied);
      reported = applied;
    }
    const recdb::cluster::NodeStats st = (*node)->stats();
    if (!st.apply_error.empty()) {
      std::fprintf(stderr, "recdb-node: applier stopped: %s\n", st.apply_error.c_str());
      rc = 1;
      break;
    }
    if (g_stop) break;
    if (until > 0 && applied >= until) break;
    if (until > 0 && std::chrono::steady_clock::now() - start > std::chrono::milliseconds(timeout_ms)) {
      std::fprintf(stderr, "recdb-node: sequence %llu not applied within %d ms (applied %llu)\n",
                   static_cast<unsigned long long>(until), timeout_ms,
                   static_cast<unsigned long long>(applied));
      rc = 1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (*node)->Stop();
  auto digest = (*node)->Digest();
  const recdb::cluster::NodeStats st = (*node)->stats();
  std::printf("applied %llu events_applied %llu rejected %llu resubscribes %llu digest %s\n",
              static_cast<unsigned long long>(st.applied_sequence),
              static_cast<unsigned long long>(st.events_applied),
              static_cast<unsigned long long>(st.rejected),
              static_cast<unsigned long long>(st.resubscribes),
              digest.ok() ? digest->ToString().c_str() : digest.status().ToString().c_str());
  s = (*node)->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "recdb-node: close: %s\n", s.ToString().c_str());
    rc = 1;
  }
  return rc;
}
