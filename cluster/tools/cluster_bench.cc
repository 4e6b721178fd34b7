// cluster_bench: the write path and apply lag of recdb_cluster on a 3-server
// JetStream cluster it starts on 127.0.0.1 (R3, file storage).
//
//   cluster_bench [--events N] [--batch B] [--lag-writes W] [--dir DIR]
//
// 1. Throughput: N events in batches of B through ClusterNode::RecordEvents
//    (message id per event, every acknowledgement checked, stream "bench")
//    against the anchor measured in the same run: js_PublishMsgAsync of the
//    same bodies to the same subjects, then js_PublishAsyncComplete, on a
//    twin stream ("bench_raw"). Three rounds, alternating; the ratio uses the
//    best round of each (the machine is shared: the best is the least disturbed).
// 2. Lag: W writes of 100 events through one node while a second node
//    applies; for each, the time from the write call to the second node
//    having applied its sequence (p50, p99).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cluster/event_codec.h"
#include "cluster/node.h"
#include "cluster/testing/nats_cluster.h"

namespace {

using Clock = std::chrono::steady_clock;
using recdb::cluster::ClusterEvent;

double Seconds(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<ClusterEvent> Events(int first, int n, const std::string& tag) {
  std::vector<ClusterEvent> out(n);
  for (int j = 0; j < n; ++j) {
    const int k = first + j;
    out[j].id = tag + std::to_string(k);
    out[j].event.user = "user" + std::to_string(k % 10000);
    out[j].event.item = "item" + std::to_string((k * 7919) % 5000);
    out[j].event.type = "view";
    out[j].event.timestamp = 1700000000 + k;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int events = 60000;
  int batch = 1000;
  int lag_writes = 200;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--events") events = std::atoi(argv[i + 1]);
    else if (a == "--batch") batch = std::atoi(argv[i + 1]);
    else if (a == "--lag-writes") lag_writes = std::atoi(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: cluster_bench [--events N] [--batch B] [--lag-writes W] [--dir DIR]\n");
      return 2;
    }
  }
  if (events <= 0 || batch <= 0 || lag_writes <= 0) return 2;
  if (dir.empty()) {
    char tmpl[] = "/tmp/recdb-cluster-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    dir = tmpl;
  }
  auto nats = recdb::cluster::testing::NatsCluster::Start(dir + "/nats", 3, 30000);
  if (!nats.ok()) {
    std::fprintf(stderr, "cluster_bench: %s\n", nats.status().ToString().c_str());
    return 1;
  }
  auto opts = [&](const std::string& stream, const std::string& db) {
    recdb::cluster::NodeOptions o;
    o.log.servers = (*nats)->Urls();
    o.log.stream = stream;
    o.log.partitions = 64;
    o.db_path = dir + "/" + db;
    o.db_options.background_threads = 1;
    return o;
  };
  auto writer = recdb::cluster::ClusterNode::Open(opts("bench", "writer"));
  auto raw = recdb::cluster::ClusterNode::Open(opts("bench_raw", "raw"));
  auto raw_ids = recdb::cluster::ClusterNode::Open(opts("bench_raw_ids", "raw_ids"));
  if (!raw_ids.ok()) return 1;
  if (!writer.ok() || !raw.ok()) {
    std::fprintf(stderr, "cluster_bench: open: %s %s\n", writer.status().ToString().c_str(),
                 raw.status().ToString().c_str());
    return 1;
  }

  // 1. Throughput.
  double best_ours = 0, best_raw = 0, best_raw_ids = 0;
  for (int round = 0; round < 3; ++round) {
    const std::string tag = "r" + std::to_string(round) + "-";
    // Anchor: the same encoded bodies and subjects, no ids, no bookkeeping.
    std::vector<std::vector<recdb::cluster::OutMessage>> raw_batches;
    for (int i = 0; i < events; i += batch) {
      auto evs = Events(i, std::min(batch, events - i), tag);
      std::vector<recdb::cluster::OutMessage> msgs(evs.size());
      for (size_t j = 0; j < evs.size(); ++j) {
        msgs[j].partition = recdb::cluster::PartitionOf(evs[j].event.user, 64);
        msgs[j].id = "raw" + evs[j].id;
        recdb::cluster::EncodeEvent(evs[j].event, &msgs[j].body);
      }
      raw_batches.push_back(std::move(msgs));
    }
    auto t = Clock::now();
    for (const auto& msgs : raw_batches) {
      recdb::Status s = (*raw)->log()->PublishRawAsync(msgs);
      if (!s.ok()) {
        std::fprintf(stderr, "raw: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    const double raw_rate = events / Seconds(t);
    // The anchor with message ids: what JetStream's dedup costs by itself.
    t = Clock::now();
    for (const auto& msgs : raw_batches) {
      recdb::Status s = (*raw_ids)->log()->PublishRawAsync(msgs, /*with_ids=*/true);
      if (!s.ok()) {
        std::fprintf(stderr, "raw with ids: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    const double raw_ids_rate = events / Seconds(t);
    // Ours: encode, ids, per-message acknowledgement (timed from the events).
    std::vector<std::vector<ClusterEvent>> batches;
    for (int i = 0; i < events; i += batch) batches.push_back(Events(i, std::min(batch, events - i), tag));
    t = Clock::now();
    for (const auto& b : batches) {
      auto r = (*writer)->RecordEvents(b);
      if (!r.ok()) {
        std::fprintf(stderr, "ours: %s\n", r.status().ToString().c_str());
        return 1;
      }
    }
    const double our_rate = events / Seconds(t);
    std::printf("round %d: raw js_PublishMsgAsync %.0f events/s, the same with message ids "
                "%.0f events/s, RecordEvents %.0f events/s\n",
                round, raw_rate, raw_ids_rate, our_rate);
    best_raw = std::max(best_raw, raw_rate);
    best_raw_ids = std::max(best_raw_ids, raw_ids_rate);
    best_ours = std::max(best_ours, our_rate);
  }
  std::printf("publish throughput: RecordEvents %.0f events/s vs raw %.0f events/s: ratio %.2f "
              "(bar >= 0.70); vs raw with message ids %.0f events/s: ratio %.2f\n",
              best_ours, best_raw, best_ours / best_raw, best_raw_ids, best_ours / best_raw_ids);

  // 2. Publish-to-applied lag on a second node that follows the stream.
  auto follower = recdb::cluster::ClusterNode::Open(opts("bench", "follower"));
  if (!follower.ok() || !(*follower)->Start().ok()) {
    std::fprintf(stderr, "cluster_bench: follower: %s\n", follower.status().ToString().c_str());
    return 1;
  }
  auto t_catch = Clock::now();
  const uint64_t backlog = (*writer)->log()->Describe(5000).value().last_seq;
  if (!(*follower)->WaitForSequence(backlog, 300000).ok()) return 1;
  std::printf("follower applied the backlog of %llu events in %.2f s (%.0f events/s)\n",
              static_cast<unsigned long long>(backlog), Seconds(t_catch),
              backlog / Seconds(t_catch));
  std::vector<double> lags;
  for (int i = 0; i < lag_writes; ++i) {
    auto evs = Events(i * 100, 100, "lag-");
    auto t = Clock::now();
    auto r = (*writer)->RecordEvents(evs);
    if (!r.ok() || !(*follower)->WaitForSequence(r->last_sequence, 30000).ok()) {
      std::fprintf(stderr, "lag write %d failed\n", i);
      return 1;
    }
    lags.push_back(Seconds(t) * 1000.0);
  }
  std::sort(lags.begin(), lags.end());
  std::printf("write-to-applied lag (100-event writes, follower node): p50 %.2f ms, p99 %.2f ms "
              "over %d writes\n",
              lags[lags.size() / 2], lags[std::min(lags.size() - 1, lags.size() * 99 / 100)],
              lag_writes);
  (void)(*follower)->Close();
  (void)(*writer)->Close();
  (void)(*raw)->Close();
  (void)(*raw_ids)->Close();
  nats->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
