// cluster_bench: the write path and apply lag of recdb_cluster on a 3-server
// JetStream cluster it starts on 127.0.0.1 (R3, file storage).
//
//   cluster_bench [--events N] [--batch B] [--lag-writes W] [--queries Q] [--dir DIR]
//                 [--apply-batch A] [--apply-linger-ms L] [--bootstrap 0|1]
//
// --apply-batch: the follower's NodeOptions::apply_batch (default 1024);
// --apply-linger-ms: its NodeOptions::apply_linger_ms (default 2; 0 = none);
// --bootstrap 0: stop after step 3.
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
// 3. Recommend on the follower against a standalone DB of the same data
//    (every event of the follower copied into a plain DB::Open database,
//    both trained with the same options): Q queries (users user0..) timed on
//    each, interleaved query by query, in 3 rounds; p50/p99 of each and the
//    ratio of p99s (bar <= 1.5x). Measured with the follower idle, while it
//    applies a concurrent write stream (100-event writes, back to back,
//    through the writer node) with the standalone idle, and with the
//    standalone storing the same write stream directly.
// 4. Bootstrap: a snapshot of the follower (DB::CreateSnapshot), then
//    ClusterNode::Bootstrap into a new directory and catch-up to the
//    stream's last sequence; seconds per million events held, next to the
//    replay rate of step 2 (a node replaying the whole log).
// 5. The same through the log: PublishSnapshot of the follower (chunks in a
//    JetStream stream, manifest in KV), then BootstrapFromPublishedSnapshot
//    (fetch, verify, restore) and catch-up; seconds per million events held
//    and the ratio to replaying the log.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cluster/event_codec.h"
#include "cluster/node.h"
#include "cluster/testing/nats_cluster.h"
#include "recdb/db.h"
#include "recdb/snapshot.h"

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
  int queries = 2000;
  std::string dir;
  size_t apply_batch = 0;  // 0: NodeOptions' default
  int apply_linger_ms = -1;  // -1: NodeOptions' default
  bool bootstrap = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--events") events = std::atoi(argv[i + 1]);
    else if (a == "--batch") batch = std::atoi(argv[i + 1]);
    else if (a == "--lag-writes") lag_writes = std::atoi(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--queries") queries = std::atoi(argv[i + 1]);
    else if (a == "--apply-batch") apply_batch = static_cast<size_t>(std::atoi(argv[i + 1]));
    else if (a == "--apply-linger-ms") apply_linger_ms = std::atoi(argv[i + 1]);
    else if (a == "--bootstrap") bootstrap = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "usage: cluster_bench [--events N] [--batch B] [--lag-writes W] "
                           "[--queries Q] [--dir DIR] [--apply-batch N] [--apply-linger-ms L] "
                           "[--bootstrap 0|1]\n");
      return 2;
    }
  }
  if (events <= 0 || batch <= 0 || lag_writes <= 0 || queries <= 0) return 2;
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
  recdb::cluster::NodeOptions follower_options = opts("bench", "follower");
  if (apply_batch > 0) follower_options.apply_batch = apply_batch;
  if (apply_linger_ms >= 0) follower_options.apply_linger_ms = apply_linger_ms;
  auto follower = recdb::cluster::ClusterNode::Open(follower_options);
  if (!follower.ok() || !(*follower)->Start().ok()) {
    std::fprintf(stderr, "cluster_bench: follower: %s\n", follower.status().ToString().c_str());
    return 1;
  }
  auto t_catch = Clock::now();
  const uint64_t backlog = (*writer)->log()->Describe(5000).value().last_seq;
  if (!(*follower)->WaitForSequence(backlog, 300000).ok()) return 1;
  const double replay_rate = backlog / Seconds(t_catch);
  std::printf("follower applied the backlog of %llu events in %.2f s (%.0f events/s, %.1f s per "
              "million events)\n",
              static_cast<unsigned long long>(backlog), Seconds(t_catch), replay_rate,
              1e6 / replay_rate);
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

  // 3. Recommend p99 on the follower vs a standalone DB of the same data.
  recdb::Options so;
  so.create_if_missing = true;
  so.background_threads = 1;
  auto standalone = recdb::DB::Open(so, dir + "/standalone");
  if (!standalone.ok()) return 1;
  {
    std::vector<recdb::Event> buf;
    recdb::Status s = (*follower)->db()->ForEachEvent([&](const recdb::Event& e) {
      buf.push_back(e);
      if (buf.size() < 1000) return recdb::Status::OK();
      recdb::Status w = (*standalone)->RecordEvents({}, buf);
      buf.clear();
      return w;
    });
    if (s.ok() && !buf.empty()) s = (*standalone)->RecordEvents({}, buf);
    if (!s.ok()) {
      std::fprintf(stderr, "copy: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  recdb::TrainOptions to;
  to.learn_weights = false;
  auto t_train = Clock::now();
  auto tr1 = (*follower)->db()->Train(to);
  const double train_follower = Seconds(t_train);
  t_train = Clock::now();
  auto tr2 = (*standalone)->Train(to);
  const double train_standalone = Seconds(t_train);
  if (!tr1.ok() || !tr2.ok()) {
    std::fprintf(stderr, "train: %s %s\n", tr1.status().ToString().c_str(),
                 tr2.status().ToString().c_str());
    return 1;
  }
  std::printf("trained (learn_weights off): follower %.2f s, standalone %.2f s\n", train_follower,
              train_standalone);
  auto measure = [&](const char* label) {
    std::vector<double> ours, anchor;
    for (int round = 0; round < 3; ++round) {
      for (int q = 0; q < queries; ++q) {
        recdb::RecommendRequest rq;
        rq.user = "user" + std::to_string((q * 37 + round) % 10000);
        rq.k = 10;
        rq.now = 1700000000 + 400000;
        auto t = Clock::now();
        auto a = (*standalone)->Recommend(rq);
        anchor.push_back(Seconds(t) * 1000.0);
        t = Clock::now();
        auto b = (*follower)->db()->Recommend(rq);
        ours.push_back(Seconds(t) * 1000.0);
        if (!a.ok() || !b.ok()) {
          std::fprintf(stderr, "recommend: %s %s\n", a.status().ToString().c_str(),
                       b.status().ToString().c_str());
          std::exit(1);
        }
      }
    }
    std::sort(ours.begin(), ours.end());
    std::sort(anchor.begin(), anchor.end());
    auto pct = [](const std::vector<double>& v, int p) {
      return v[std::min(v.size() - 1, v.size() * p / 100)];
    };
    std::printf("Recommend (k=10, %zu queries) %s: follower p50 %.3f ms p99 %.3f ms; standalone "
                "p50 %.3f ms p99 %.3f ms; p99 ratio %.2f (bar <= 1.5)\n",
                ours.size(), label, pct(ours, 50), pct(ours, 99), pct(anchor, 50),
                pct(anchor, 99), pct(ours, 99) / pct(anchor, 99));
  };
  measure("follower idle");
  // Under writes: 100-event writes back to back through the writer node,
  // which the follower applies; first with the standalone idle, then with
  // the standalone storing the same events directly (the same write load
  // on both: what the log and the applier cost over a plain DB).
  for (int both = 0; both < 2; ++both) {
    std::atomic<bool> stop{false};
    std::atomic<int64_t> written{0};
    const std::string tag = both ? "load2-" : "load-";
    std::thread load([&] {
      for (int i = 0; !stop.load(); ++i) {
        auto evs = Events(i * 100, 100, tag);
        auto r = (*writer)->RecordEvents(evs);
        if (!r.ok()) continue;
        written += 100;
        if (both) {
          std::vector<recdb::Event> plain;
          for (const auto& ce : evs) plain.push_back(ce.event);
          (void)(*standalone)->RecordEvents({}, plain);
        }
      }
    });
    auto t_load = Clock::now();
    const recdb::cluster::NodeStats before = (*follower)->stats();
    measure(both ? "both taking the same writes" : "follower applying writes, standalone idle");
    stop = true;
    load.join();
    const recdb::cluster::NodeStats after = (*follower)->stats();
    const uint64_t applied = after.events_applied - before.events_applied;
    const uint64_t commits = after.batches_applied - before.batches_applied;
    // The standalone commits each 100-event write as one batch; what the
    // follower's commits hold decides its per-event write cost.
    std::printf("  (meanwhile %lld events written, %.0f events/s; the follower applied %llu in "
                "%llu commits, %.1f events per commit)\n",
                static_cast<long long>(written.load()), written.load() / Seconds(t_load),
                static_cast<unsigned long long>(applied), static_cast<unsigned long long>(commits),
                commits ? static_cast<double>(applied) / commits : 0.0);
  }
  (void)(*standalone)->Close();
  // The nodes, then the servers and the directory.
  auto finish = [&] {
    (void)(*follower)->Close();
    (void)(*writer)->Close();
    (void)(*raw)->Close();
    (void)(*raw_ids)->Close();
    nats->reset();
    std::filesystem::remove_all(dir);
    return 0;
  };
  if (!bootstrap) return finish();  // --bootstrap 0: steps 1-3 only

  // 4. Bootstrap from a snapshot of the follower plus the log after it.
  const uint64_t last = (*writer)->log()->Describe(5000).value().last_seq;
  if (!(*follower)->WaitForSequence(last, 300000).ok()) return 1;
  auto snap = (*follower)->db()->CreateSnapshot(dir + "/backup");
  if (!snap.ok()) {
    std::fprintf(stderr, "snapshot: %s\n", snap.status().ToString().c_str());
    return 1;
  }
  // Seconds for a node `make` bootstraps to start and catch up with the
  // writer's log, or a negative value once it has said why it failed.
  auto time_bootstrap = [&](const char* what, auto make) -> double {
    auto t = Clock::now();
    auto node = make();
    if (!node.ok() || !(*node)->Start().ok() ||
        !(*node)->WaitForSequence((*writer)->log()->Describe(5000).value().last_seq, 300000).ok()) {
      std::fprintf(stderr, "%s: %s\n", what, node.status().ToString().c_str());
      return -1;
    }
    const double seconds = Seconds(t);
    (void)(*node)->Close();
    return seconds;
  };
  const uint64_t held = (*follower)->stats().events_stored;
  const double boot_s = time_bootstrap("bootstrap", [&] {
    return recdb::cluster::ClusterNode::Bootstrap(snap->path, opts("bench", "bootstrapped"));
  });
  if (boot_s < 0) return 1;
  std::printf("bootstrap from snapshot (%llu files, %.1f MB) + log: %.2f s for %llu events held "
              "since this follower started: %.1f s per million events (replaying the log: %.1f s "
              "per million)\n",
              static_cast<unsigned long long>(snap->files), snap->bytes / 1e6, boot_s,
              static_cast<unsigned long long>(held), boot_s * 1e6 / std::max<uint64_t>(held, 1),
              1e6 / replay_rate);

  // 5. The same from a snapshot shipped through the log (snapshot_ship.h):
  //    publish (chunks of 512 KiB in an R3 stream, manifest in KV), then
  //    BootstrapFromPublishedSnapshot (fetch, verify, restore) and catch-up.
  auto t_pub = Clock::now();
  auto shipped = (*follower)->PublishSnapshot(dir + "/ship-backup");
  if (!shipped.ok()) {
    std::fprintf(stderr, "publish: %s\n", shipped.status().ToString().c_str());
    return 1;
  }
  const double pub_s = Seconds(t_pub);
  // The fetch alone (ordered consumer, chunk checks, every file's CRC-32C).
  auto t_fetch = Clock::now();
  recdb::Status fetched = recdb::cluster::FetchShippedSnapshot((*writer)->log(), *shipped,
                                                              dir + "/fetch-probe");
  const double fetch_s = Seconds(t_fetch);
  if (!fetched.ok()) {
    std::fprintf(stderr, "fetch: %s\n", fetched.ToString().c_str());
    return 1;
  }
  std::filesystem::remove_all(dir + "/fetch-probe");
  std::printf("fetching the published snapshot alone: %.2f s (%.0f MB/s)\n", fetch_s,
              shipped->bytes / 1e6 / fetch_s);
  const uint64_t held2 = (*follower)->stats().events_stored;
  const double boot2_s = time_bootstrap("bootstrap from the log", [&] {
    return recdb::cluster::ClusterNode::BootstrapFromPublishedSnapshot(
        opts("bench", "bootstrapped-from-log"));
  });
  if (boot2_s < 0) return 1;
  std::printf("bootstrap from a published snapshot (%llu chunks, %.1f MB; publishing it took "
              "%.2f s) + log: %.2f s for %llu events held: %.1f s per million events; ratio to "
              "replaying the log %.3f (replaying: %.1f s per million)\n",
              static_cast<unsigned long long>(shipped->chunks), shipped->bytes / 1e6, pub_s,
              boot2_s, static_cast<unsigned long long>(held2),
              boot2_s * 1e6 / std::max<uint64_t>(held2, 1),
              (boot2_s * 1e6 / std::max<uint64_t>(held2, 1)) / (1e6 / replay_rate),
              1e6 / replay_rate);
  return finish();
}
