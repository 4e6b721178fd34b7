// The operations commands (`recdb-cluster`, run as `recdb cluster ...`) and
// the served node, against a real 3-server JetStream cluster on 127.0.0.1.
// Every wait is bounded; every process is stopped by the pid this test
// started. Label "cluster".
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster/event_codec.h"
#include "cluster/node.h"
#include "cluster/testing/nats_cluster.h"
#include "cluster_fixture.h"
#include "tools/serve/http_client.h"

namespace recdb::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using testing::NatsCluster;
using json = nlohmann::json;

constexpr char kToken[] = "0123456789abcdef-ops-token";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `recdb` (the core CLI) lives next to recdb-cluster and execs it.
std::string RecdbPath() {
  return (std::filesystem::path(RECDB_CLUSTER_PATH).parent_path() / "recdb").string();
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err,
            const std::string& program = RECDB_CLUSTER_PATH) {
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

struct RunResult {
  int rc = -1;
  std::string out, err;
};

class ClusterOpsTest : public ClusterFixture {
 protected:
  ClusterOpsTest() : ClusterFixture("cluster-ops") {}

  // Runs recdb-cluster to completion (killed after 60 s).
  RunResult Run(const std::vector<std::string>& args,
               const std::string& program = RECDB_CLUSTER_PATH) {
    const std::string out = dir_ + "/run.out", err = dir_ + "/run.err";
    pid_t pid = Spawn(args, out, err, program);
    RunResult r;
    const auto start = Clock::now();
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) != pid) {
      if (Clock::now() - start > std::chrono::seconds(60)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ADD_FAILURE() << "recdb-cluster did not finish within 60 s";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadAll(out);
    r.err = ReadAll(err);
    return r;
  }

  // Starts `recdb-cluster serve` (or, with own == "router", `recdb-cluster
  // router` over the registry) and returns its port (0 on failure).
  uint16_t Serve(const std::string& name, const std::string& own, pid_t* pid_out,
                 const std::vector<std::string>& extra = {}, std::string* first_line = nullptr) {
    const std::string out = dir_ + "/" + name + ".out", err = dir_ + "/" + name + ".err";
    std::ofstream(dir_ + "/token") << kToken << "\n";
    std::vector<std::string> args = {"serve", "--servers", nats_->Urls(), "--stream", "ops",
                                     "--db", dir_ + "/" + name, "--name", name, "--own", own,
                                     "--token-file", dir_ + "/token"};
    if (own == "router") {
      // A table re-read every 200 ms without nodes silent for 3 s.
      args = {"router", "--servers", nats_->Urls(), "--stream", "ops", "--token-file",
              dir_ + "/token", "--refresh-ms", "200", "--max-report-age-ms", "3000"};
    }
    args.insert(args.end(), extra.begin(), extra.end());
    pid_t pid = Spawn(args, out, err);
    pids_.push_back(pid);
    *pid_out = pid;
    const auto start = Clock::now();
    while (Clock::now() - start < std::chrono::seconds(60)) {
      const std::string line = ReadAll(out);
      if (line.find('\n') != std::string::npos) {
        if (first_line != nullptr) *first_line = line.substr(0, line.find('\n'));
        return static_cast<uint16_t>(json::parse(line.substr(0, line.find('\n')))["port"].get<int>());
      }
      if (waitpid(pid, nullptr, WNOHANG) == pid) {
        ADD_FAILURE() << name << " exited: " << ReadAll(err);
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << name << " did not start within 60 s: " << ReadAll(err);
    return 0;
  }

  // SIGTERM, then wait (bounded) for a clean exit.
  void Stop(pid_t pid) {
    kill(pid, SIGTERM);
    int status = 0;
    const auto start = Clock::now();
    while (waitpid(pid, &status, WNOHANG) != pid) {
      ASSERT_LT(Clock::now() - start, std::chrono::seconds(30)) << "serve did not stop";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pids_.erase(std::find(pids_.begin(), pids_.end(), pid));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

};

TEST_F(ClusterOpsTest, CreateStreamStatusAndSnapshotCommands) {
  // create-stream (through `recdb cluster`, which execs recdb-cluster):
  // created, then reported, then a different count refused.
  RunResult r = Run({"cluster", "create-stream", "--servers", nats_->Urls(), "--stream", "ops",
                     "--partitions", "8"},
                    RecdbPath());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("stream ops created: partitions 8 replicas 3"), std::string::npos) << r.out;
  r = Run({"create-stream", "--servers", nats_->Urls(), "--stream", "ops", "--partitions", "8"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("exists: partitions 8"), std::string::npos) << r.out;
  r = Run({"create-stream", "--servers", nats_->Urls(), "--stream", "ops", "--partitions", "16"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("exists with 8 partitions, not 16"), std::string::npos) << r.err;
  // Clear errors: unknown stream, no server, bad usage.
  r = Run({"status", "--servers", nats_->Urls(), "--stream", "nosuch"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("no stream \"nosuch\""), std::string::npos) << r.err;
  r = Run({"status", "--servers", "nats://127.0.0.1:1", "--stream", "ops"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("No server available"), std::string::npos) << r.err;
  r = Run({"status", "--stream", "ops"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--servers URLS is required"), std::string::npos) << r.err;
  r = Run({"frobnicate"});
  EXPECT_EQ(r.rc, 2);

  // A node reporting to the registry: partitions 0-3 of 8.
  NodeOptions o;
  o.log.servers = nats_->Urls();
  o.log.stream = "ops";
  o.db_path = dir_ + "/n1";
  o.owned = {0, 1, 2, 3};
  o.name = "n1";
  o.report_interval_ms = 100;
  o.db_options.background_threads = 1;
  auto node = ClusterNode::Open(o);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ASSERT_TRUE((*node)->Start().ok());
  std::vector<ClusterEvent> events;
  for (int i = 0; i < 40; ++i) {
    ClusterEvent ce;
    ce.id = "e" + std::to_string(i);
    ce.event.user = "user" + std::to_string(i % 10);
    ce.event.item = "item" + std::to_string(i);
    ce.event.type = "view";
    ce.event.timestamp = 1500000000 + i;
    events.push_back(ce);
  }
  auto receipt = (*node)->RecordEvents(events);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  ASSERT_EQ(receipt->last_sequence, 40u);
  ASSERT_TRUE((*node)->WaitForSequence(40, 20000).ok());
  // status: the node, its partitions, applied 40, lag 0 (once it reported).
  const auto start = Clock::now();
  json st;
  for (;;) {
    r = Run({"status", "--servers", nats_->Urls(), "--stream", "ops", "--json"});
    ASSERT_EQ(r.rc, 0) << r.err;
    st = json::parse(r.out);
    if (st["nodes"].size() == 1 && st["nodes"][0]["applied"] == 40) break;
    ASSERT_LT(Clock::now() - start, std::chrono::seconds(20)) << r.out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(st["last_sequence"], 40);
  EXPECT_EQ(st["partitions"], 8);
  EXPECT_EQ(st["quorum"], true);
  EXPECT_EQ(st["uncovered"], "4-7");
  EXPECT_EQ(st["nodes"][0]["name"], "n1");
  EXPECT_EQ(st["nodes"][0]["owned"], "0-3");
  EXPECT_EQ(st["nodes"][0]["lag"], 0);
  // No trainer runs: the lock is free, nothing published, no model installed.
  EXPECT_EQ(st["trainer_lock"], "");
  EXPECT_EQ(st["models"].size(), 0u);
  EXPECT_EQ(st["nodes"][0]["model_version"], 0);
  EXPECT_EQ(st["nodes"][0]["trainer"], false);
  // The text form shows lag against the stream's last sequence: 40 more
  // events while the node is stopped.
  (*node)->Stop();
  for (auto& e : events) e.id += "-b";
  ASSERT_TRUE((*node)->RecordEvents(events).ok());
  r = Run({"status", "--servers", nats_->Urls(), "--stream", "ops"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("sequences 1..80"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("partitions no reporting node owns: 4-7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trainer lock: (free); published models: none"), std::string::npos)
      << r.out;
  const size_t row = r.out.find("\nn1 ");
  ASSERT_NE(row, std::string::npos) << r.out;
  std::istringstream fields(r.out.substr(row + 1));
  std::string name, parts;
  uint64_t applied = 0, lag = 0;
  fields >> name >> parts >> applied >> lag;
  EXPECT_EQ(parts, "0-3");
  EXPECT_EQ(applied, 40u);
  EXPECT_EQ(lag, 40u);

  // snapshot: refused while the node holds the database, then taken with
  // the applied position read back from the snapshot itself.
  r = Run({"snapshot", "--db", o.db_path, "--backup-dir", dir_ + "/bk", "--stream", "ops"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("open in another process"), std::string::npos) << r.err;
  ASSERT_TRUE((*node)->Close().ok());
  node->reset();
  r = Run({"snapshot", "--db", o.db_path, "--backup-dir", dir_ + "/bk", "--stream", "other"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("holds no position of stream \"other\""), std::string::npos) << r.err;
  r = Run({"snapshot", "--db", o.db_path, "--backup-dir", dir_ + "/bk", "--stream", "ops"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(" applied 40 "), std::string::npos) << r.out;
  // A node bootstrapped from it resumes after 40 and catches up to 80.
  const std::string snap = r.out.substr(9, r.out.find(' ', 9) - 9);
  NodeOptions o2 = o;
  o2.db_path = dir_ + "/n2";
  o2.name = "";
  auto n2 = ClusterNode::Bootstrap(snap, o2);
  ASSERT_TRUE(n2.ok()) << n2.status().ToString();
  EXPECT_EQ((*n2)->applied_sequence(), 40u);
  ASSERT_TRUE((*n2)->Start().ok());
  ASSERT_TRUE((*n2)->WaitForSequence(80, 20000).ok());
  EXPECT_EQ((*n2)->stats().messages_seen, 40u);  // only the log after the snapshot
  ASSERT_TRUE((*n2)->Close().ok());

  // snapshot --publish ships it through the log; snapshots lists it; a
  // served node started with --bootstrap on an empty directory starts from
  // it, and one owning partitions it does not hold is refused.
  r = Run({"snapshot", "--db", o.db_path, "--backup-dir", dir_ + "/bk", "--stream", "ops",
           "--own", "0-3"});
  EXPECT_EQ(r.rc, 2) << r.err;  // --own without --publish
  r = Run({"snapshot", "--db", o.db_path, "--backup-dir", dir_ + "/bk", "--stream", "ops",
           "--publish", "--servers", nats_->Urls(), "--own", "0-3", "--chunk-kib", "64"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("published p40-"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" position 40 partitions 0-3 "), std::string::npos) << r.out;
  r = Run({"snapshots", "--servers", nats_->Urls(), "--stream", "ops"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("1 published snapshots"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" position 40 partitions 0-3 "), std::string::npos) << r.out;
  std::ofstream(dir_ + "/token") << kToken << "\n";
  r = Run({"serve", "--servers", nats_->Urls(), "--stream", "ops", "--db", dir_ + "/n4",
           "--name", "n4", "--own", "4-7", "--token-file", dir_ + "/token", "--bootstrap"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("no snapshot of stream \"ops\" holding this node's partitions"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/n4"));
  pid_t n3 = 0;
  std::string line;
  ASSERT_NE(Serve("n3", "0-3", &n3, {"--bootstrap"}, &line), 0);
  const json started = json::parse(line);
  EXPECT_GE(started["applied"].get<uint64_t>(), 40u) << line;  // from the snapshot, not 0
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/n3"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/n3.bootstrap"));
  Stop(n3);

  // route, from the registry: every user to n1 or "has no node".
  r = Run({"route", "--servers", nats_->Urls(), "--stream", "ops", "user1", "user2", "user3",
           "user4", "user5"});
  for (int i = 1; i <= 5; ++i) {
    const std::string u = "user" + std::to_string(i);
    if (PartitionOf(u, 8) < 4) {
      EXPECT_NE(r.out.find(u + " partition " + std::to_string(PartitionOf(u, 8)) + " node n1"),
                std::string::npos)
          << r.out;
    } else {
      EXPECT_NE(r.err.find("user \"" + u + "\" has no node"), std::string::npos) << r.err;
      EXPECT_EQ(r.rc, 1);
    }
  }
}

TEST_F(ClusterOpsTest, ServedNodesWriteThroughOneAndReadYourWritesThroughAnother) {
  pid_t pa = 0, pb = 0;
  const uint16_t port_a = Serve("a", "0-3", &pa);  // 4 of the 64 default partitions
  ASSERT_NE(port_a, 0);
  const uint16_t port_b = Serve("b", "all", &pb);
  ASSERT_NE(port_b, 0);
  auto ca = serve::HttpClient::Connect("127.0.0.1", port_a);
  auto cb = serve::HttpClient::Connect("127.0.0.1", port_b);
  ASSERT_TRUE(ca.ok() && cb.ok());
  // A user of node a's partitions.
  std::string user;
  for (int i = 0; user.empty(); ++i) {
    if (PartitionOf("u" + std::to_string(i), 64) < 4) user = "u" + std::to_string(i);
  }
  const std::string body = R"({"events":[{"user":")" + user +
                           R"(","item":"i1","type":"view","timestamp":1500000000},)"
                           R"({"user":")" + user + R"(","item":"i2","type":"view","timestamp":1500000001}]})";
  // No request id: refused, nothing published.
  auto resp = (*ca)->Send("POST", "/v1/events", body, kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 400);
  EXPECT_NE(resp->body.find("request_id=ID is required"), std::string::npos) << resp->body;
  // Written through a: acknowledged on quorum, returns the sequence.
  resp = (*ca)->Send("POST", "/v1/events?request_id=w1", body, kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  json w = json::parse(resp->body);
  const uint64_t seq = w["sequence"];
  EXPECT_EQ(seq, 2u);
  EXPECT_EQ(w["applied"], true);
  EXPECT_EQ(w["stored"], 2);
  EXPECT_EQ(w["dropped_forgotten"], 0);
  // Read your writes through b.
  resp = (*cb)->Send("GET", "/v1/users/" + user + "/history?min_sequence=" + std::to_string(seq),
                     "", kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(json::parse(resp->body)["count"], 2);
  // A sequence not yet written: a bounded wait, then 503.
  const auto t0 = Clock::now();
  resp = (*cb)->Send("GET", "/v1/users/" + user + "/history?min_sequence=1000&wait_ms=300", "",
                     kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 503);
  EXPECT_EQ(resp->headers["retry-after"], "1");
  EXPECT_NE(resp->body.find("not_applied"), std::string::npos) << resp->body;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
  // The retried request stores nothing twice: same sequence, nothing stored.
  resp = (*ca)->Send("POST", "/v1/events?request_id=w1", body, kToken);
  ASSERT_TRUE(resp.ok());
  w = json::parse(resp->body);
  EXPECT_EQ(w["sequence"], seq);
  EXPECT_EQ(w["stored"], 0);
  // A user of another partition: node a says so (421), b serves it.
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    if (PartitionOf("x" + std::to_string(i), 64) >= 4) other = "x" + std::to_string(i);
  }
  resp = (*ca)->Send("GET", "/v1/recommend?user=" + other + "&k=3", "", kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 421);
  EXPECT_NE(resp->body.find("wrong_node"), std::string::npos) << resp->body;
  // The owner check decodes the path segment whole: "USER%2Fx" is the user
  // "USER/x" (owned by a: 404 unknown; else 421).
  resp = (*ca)->Send("GET", "/v1/users/" + user + "%2Fx/history", "", kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, PartitionOf(user + "/x", 64) < 4 ? 404 : 421) << resp->body;
  // Items, users and impressions go through the log as events do: a
  // request id is required, the answer carries the sequence, a read through
  // the other node with min_sequence sees the write.
  resp = (*ca)->Send("POST", "/v1/items", R"({"items":[{"id":"i9","title":"Nine"}]})", kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 400) << resp->body;
  resp = (*ca)->Send("POST", "/v1/items?request_id=it1",
                     R"({"items":[{"id":"i9","title":"Nine"}]})", kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  w = json::parse(resp->body);
  EXPECT_EQ(w["items"], 1);
  EXPECT_EQ(w["applied"], true);
  EXPECT_EQ(w["owned"], 1);  // items are global: a, owning 4 partitions, applies it
  EXPECT_EQ(w["upserted"], 1);
  resp = (*cb)->Send(
      "GET", "/v1/items/i9?min_sequence=" + std::to_string(w["sequence"].get<uint64_t>()), "",
      kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(json::parse(resp->body)["title"], "Nine") << resp->body;
  // A user upsert through b, read through a (which owns the user).
  resp = (*cb)->Send("POST", "/v1/users?request_id=us1",
                     R"({"users":[{"id":")" + user + R"(","attributes":{"plan":"gold"}}]})",
                     kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  w = json::parse(resp->body);
  EXPECT_EQ(w["users"], 1);
  EXPECT_EQ(w["upserted"], 1);
  resp = (*ca)->Send("GET", "/v1/users/" + user + "?min_sequence=" +
                                std::to_string(w["sequence"].get<uint64_t>()),
                     "", kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  EXPECT_NE(resp->body.find("gold"), std::string::npos) << resp->body;
  // An impression through a; retried: the same sequence, recorded once.
  const std::string shown =
      R"({"user":")" + user + R"(","items":["i1","i9"],"timestamp":1500000100})";
  resp = (*ca)->Send("POST", "/v1/impressions?request_id=im1", shown, kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  w = json::parse(resp->body);
  EXPECT_EQ(w["items"], 2);
  EXPECT_EQ(w["recorded"], 1);
  EXPECT_EQ(w["rejected"], 0);
  resp = (*ca)->Send("POST", "/v1/impressions?request_id=im1", shown, kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(json::parse(resp->body)["sequence"], w["sequence"]);
  EXPECT_EQ(json::parse(resp->body)["recorded"], 0);
  // Forget through b; a later write of the user through a reports it dropped.
  resp = (*cb)->Send("POST", "/v1/forget?request_id=f1", R"({"user":")" + user + R"("})", kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  // The user's 2 events, user upsert and impression (the retry stored none).
  EXPECT_EQ(json::parse(resp->body)["erased_messages"], 4);
  resp = (*ca)->Send("POST", "/v1/events?request_id=w2", body, kToken);
  ASSERT_TRUE(resp.ok());
  w = json::parse(resp->body);
  EXPECT_EQ(w["applied"], true);
  EXPECT_EQ(w["stored"], 0);
  EXPECT_EQ(w["dropped_forgotten"], 2);
  EXPECT_NE(w["warning"].get<std::string>().find("forget ledger"), std::string::npos);
  resp = (*cb)->Send("GET",
                     "/v1/users/" + user + "/history?min_sequence=" +
                         std::to_string(w["sequence"].get<uint64_t>()),
                     "", kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 404) << resp->body;
  // GET /v1/cluster: the node's position and lag.
  resp = (*cb)->Send("GET", "/v1/cluster", "", kToken);
  ASSERT_TRUE(resp.ok());
  json cs = json::parse(resp->body);
  EXPECT_EQ(cs["node"], "b");
  EXPECT_EQ(cs["owned"], "0-63");
  EXPECT_EQ(cs["last_sequence"], w["sequence"]);
  EXPECT_EQ(cs["model_version"], 0);
  EXPECT_EQ(cs["trainer"], false);
  // No model loop on this node (no --trainer / --follow-models).
  resp = (*cb)->Send("POST", "/v1/cluster/models", "", kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 409) << resp->body;
  EXPECT_NE(resp->body.find("no_model_loop"), std::string::npos) << resp->body;
  resp = (*cb)->Send("GET", "/v1/cluster/models", "", kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(json::parse(resp->body)["models"].size(), 0u) << resp->body;

  // The router (table from the registry: a owns 0-3, b all): a user of
  // 0-3 goes to a (first in name order), another to b; a write to a node.
  // The registry lists both nodes (each reported before it said it was ready).
  RunResult st = Run({"status", "--servers", nats_->Urls(), "--stream", "ops", "--json"});
  ASSERT_EQ(st.rc, 0) << st.err;
  ASSERT_EQ(json::parse(st.out)["nodes"].size(), 2u) << st.out;
  pid_t pr = 0;
  const uint16_t port_r = Serve("router", "router", &pr);
  ASSERT_NE(port_r, 0);
  auto cr = serve::HttpClient::Connect("127.0.0.1", port_r);
  ASSERT_TRUE(cr.ok());
  const std::string body2 = R"({"events":[{"user":")" + other +
                            R"(","item":"i3","type":"view","timestamp":1500000002}]})";
  resp = (*cr)->Send("POST", "/v1/events?request_id=w3", body2, kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(resp->headers["x-recdb-node"], "a");
  const uint64_t seq3 = json::parse(resp->body)["sequence"];
  resp = (*cr)->Send("GET", "/v1/users/" + other + "/history?min_sequence=" + std::to_string(seq3),
                     "", kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(resp->headers["x-recdb-node"], "b");
  EXPECT_EQ(json::parse(resp->body)["count"], 1);
  resp = (*cr)->Send("GET", "/v1/recommend?user=" + user + "&k=3", "", kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->headers["x-recdb-node"], "a");
  EXPECT_NE(resp->status, 421) << resp->body;
  resp = (*cr)->Send("GET", "/v1/users/" + other + "/history", "", "wrong-token-wrong-token");
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 401);

  // Failover. With a stopped, a read for a user of 0-3 goes on to b, the
  // other owner of its partition, at once.
  ca->reset();
  Stop(pa);
  resp = (*cr)->Send("GET", "/v1/recommend?user=" + user + "&k=3", "", kToken);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->headers["x-recdb-node"], "b");
  EXPECT_NE(resp->status, 502) << resp->body;
  // A write that may have reached a is not re-sent elsewhere; once a's last
  // report is 3 s old the re-read table leaves a out and writes go to b. The
  // client retries with the same request_id, as a client of a write should.
  const std::string body3 = R"({"events":[{"user":")" + other +
                            R"(","item":"i4","type":"view","timestamp":1500000003}]})";
  std::string write_node;
  const auto start = Clock::now();
  while (write_node.empty() && Clock::now() - start < std::chrono::seconds(30)) {
    resp = (*cr)->Send("POST", "/v1/events?request_id=w4", body3, kToken);
    ASSERT_TRUE(resp.ok());
    if (resp->status == 200) {
      write_node = resp->headers["x-recdb-node"];
    } else {
      EXPECT_EQ(resp->status, 502) << resp->body;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_EQ(write_node, "b");
  cr->reset();
  Stop(pr);
  cb->reset();
  Stop(pb);
}

// `serve --trainer` / `--follow-models` (trainer.h's ModelLoop run by the
// CLI): a trainer publishes, a follower installs and answers as the trainer,
// `status` shows each node's model version; the trainer killed -9, a standby
// candidate takes the lock once the lease ran out and publishes the next
// version, which the follower installs.
TEST_F(ClusterOpsTest, ServeTrainerAndFollowerThenAnotherTrainerTakesOverAfterTheLease) {
  constexpr int kLeaseMs = 5000;
  const std::vector<std::string> loop = {"--model-interval-ms", "300", "--trainer-lease-ms",
                                         std::to_string(kLeaseMs)};
  auto with = [&](std::vector<std::string> flags) {
    flags.insert(flags.end(), loop.begin(), loop.end());
    return flags;
  };
  // Refused on a half replica, and the loop's flags without a loop.
  std::ofstream(dir_ + "/token") << kToken << "\n";
  RunResult r = Run({"serve", "--servers", nats_->Urls(), "--stream", "ops", "--db", dir_ + "/h",
                     "--name", "h", "--own", "0-3", "--token-file", dir_ + "/token", "--trainer"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("need a full replica"), std::string::npos) << r.err;
  r = Run({"serve", "--servers", nats_->Urls(), "--stream", "ops", "--db", dir_ + "/h", "--name",
           "h", "--token-file", dir_ + "/token", "--train-after", "5"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("go with --trainer or --follow-models"), std::string::npos) << r.err;

  // The node's /v1/cluster document, {} when it does not answer.
  auto cluster_doc = [&](uint16_t port) {
    auto c = serve::HttpClient::Connect("127.0.0.1", port);
    if (!c.ok()) return json::object();
    auto resp = (*c)->Send("GET", "/v1/cluster", "", kToken);
    if (!resp.ok() || resp->status != 200) return json::object();
    return json::parse(resp->body);
  };
  auto wait_for = [](const std::function<bool()>& f, int ms) {
    const auto start = Clock::now();
    while (!f()) {
      if (Clock::now() - start > std::chrono::milliseconds(ms)) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  };
  // a: the trainer (it holds the lock before the standby stands).
  pid_t pa = 0, pb = 0, pc = 0;
  std::string line;
  // It trains once 1000 messages are past the newest model (none: past 0).
  const uint16_t port_a = Serve("a", "all", &pa,
                                with({"--trainer", "--follow-models", "--train-after", "1000"}),
                                &line);
  ASSERT_NE(port_a, 0);
  EXPECT_EQ(json::parse(line)["trainer"], true) << line;
  ASSERT_TRUE(wait_for([&] { return cluster_doc(port_a).value("trainer", false); }, 20000))
      << ReadAll(dir_ + "/a.err");
  // b: a follower only; c: a standby candidate that follows meanwhile.
  const uint16_t port_b = Serve("b", "all", &pb, with({"--follow-models"}), &line);
  ASSERT_NE(port_b, 0);
  EXPECT_EQ(json::parse(line)["trainer"], false) << line;
  EXPECT_EQ(json::parse(line)["follow_models"], true) << line;
  const uint16_t port_c = Serve("c", "all", &pc, with({"--trainer", "--follow-models"}));
  ASSERT_NE(port_c, 0);

  // Events of 40 users in two tastes over 30 items, written through `port`.
  auto write = [&](uint16_t port, int first, int n) -> uint64_t {
    auto c = serve::HttpClient::Connect("127.0.0.1", port);
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return 0;
    json body{{"events", json::array()}};
    for (int k = first; k < first + n; ++k) {
      const int user = k % 40;
      body["events"].push_back({{"user", "u" + std::to_string(user)},
                                {"item", (user % 2 ? "a" : "b") + std::to_string((user + k / 40) % 15)},
                                {"type", "view"},
                                {"timestamp", 1500000000 + k}});
    }
    const std::string target = "/v1/events?request_id=w" + std::to_string(first);
    for (int attempt = 0; attempt < 3; ++attempt) {  // same id: stored once
      auto resp = (*c)->Send("POST", target, body.dump(), kToken);
      if (resp.ok() && resp->status == 200) return json::parse(resp->body)["sequence"];
    }
    ADD_FAILURE() << "write " << first << " failed";
    return 0;
  };
  auto status = [&]() {
    RunResult st = Run({"status", "--servers", nats_->Urls(), "--stream", "ops", "--json"});
    return st.rc == 0 ? json::parse(st.out) : json::object();
  };
  auto node_model = [](const json& st, const std::string& name) -> uint64_t {
    for (const auto& n : st.value("nodes", json::array())) {
      if (n["name"] == name) return n["model_version"];
    }
    return 0;
  };
  uint64_t last = 0;  // the last write's sequence
  auto top = [&](uint16_t port, const std::string& user) {
    auto c = serve::HttpClient::Connect("127.0.0.1", port);
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return json();
    auto resp = (*c)->Send("GET",
                           "/v1/recommend?user=" + user + "&k=5&min_sequence=" +
                               std::to_string(last) + "&wait_ms=20000",
                           "", kToken);
    EXPECT_TRUE(resp.ok() && resp->status == 200) << (resp.ok() ? resp->body : "");
    return resp.ok() ? json::parse(resp->body)["items"] : json();
  };

  for (int i = 0; i < 3; ++i) last = write(port_a, i * 300, 300);
  ASSERT_EQ(last, 900u);
  // 900 < --train-after: a applies them and several rounds pass, no model.
  ASSERT_TRUE(wait_for([&] { return cluster_doc(port_a).value("applied", 0) == 900; }, 30000));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  json st = status();
  EXPECT_EQ(st["models"].size(), 0u) << st.dump();
  last = write(port_a, 900, 300);
  ASSERT_EQ(last, 1200u);
  // Version 1, trained by a past 1000, served by all three.
  ASSERT_TRUE(wait_for(
      [&] {
        st = status();
        return !st.value("models", json::array()).empty() && st["models"][0]["version"] == 1 &&
               node_model(st, "a") == 1 && node_model(st, "b") == 1 && node_model(st, "c") == 1;
      },
      90000))
      << st.dump() << ReadAll(dir_ + "/a.err");
  EXPECT_EQ(st["trainer_lock"], "a");
  EXPECT_EQ(st["models"][0]["trainer"], "a");
  EXPECT_GE(st["models"][0]["position"].get<uint64_t>(), 1000u);
  for (const auto& n : st["nodes"]) EXPECT_EQ(n["trainer"], n["name"] == "a") << n.dump();
  // The follower answers as the trainer.
  for (const std::string u : {"u3", "u4", "u17"}) {
    const json ta = top(port_a, u);
    EXPECT_FALSE(ta.empty()) << u;
    EXPECT_EQ(top(port_b, u), ta) << u;
  }
  // Text status: a's row shows v1*, b's v1.
  r = Run({"status", "--servers", nats_->Urls(), "--stream", "ops"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("trainer lock: a; published models: v1 (position "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(" v1*  "), std::string::npos) << r.out;
  // GET /v1/cluster/models on the follower; a round on demand installs nothing new.
  {
    auto cb = serve::HttpClient::Connect("127.0.0.1", port_b);
    ASSERT_TRUE(cb.ok());
    auto resp = (*cb)->Send("GET", "/v1/cluster/models", "", kToken);
    ASSERT_TRUE(resp.ok());
    ASSERT_EQ(resp->status, 200) << resp->body;
    json m = json::parse(resp->body);
    EXPECT_EQ(m["model_version"], 1);
    EXPECT_EQ(m["trainer_lock"], "a");
    ASSERT_EQ(m["models"].size(), 1u) << resp->body;
    EXPECT_EQ(m["models"][0]["version"], 1);
    EXPECT_EQ(m["models"][0]["files"][0], "fused.model");
    resp = (*cb)->Send("POST", "/v1/cluster/models?wait_ms=30000", "", kToken);
    ASSERT_TRUE(resp.ok());
    ASSERT_EQ(resp->status, 200) << resp->body;
    m = json::parse(resp->body);
    EXPECT_EQ(m["installed_version"], 1);
    EXPECT_EQ(m["holds_lock"], false);
    EXPECT_EQ(m["last_error"], "");
  }

  // kill -9 the trainer: its lease runs out (no release), then c takes over.
  ASSERT_EQ(kill(pa, SIGKILL), 0);
  waitpid(pa, nullptr, 0);
  pids_.erase(std::find(pids_.begin(), pids_.end(), pa));
  const auto killed = Clock::now();
  last = write(port_b, 1200, 400);
  ASSERT_EQ(last, 1600u);
  ASSERT_TRUE(wait_for([&] { return cluster_doc(port_c).value("trainer", false); }, 60000))
      << ReadAll(dir_ + "/c.err");
  const auto took_over_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count();
  // a renewed at most a round (300 ms pause + the renewal) before the kill.
  EXPECT_GE(took_over_ms, kLeaseMs - 1500);
  // c trains past 1 new message (the default): perhaps first on part of the
  // 400, then on all of them; b installs its newest.
  uint64_t v = 0;
  ASSERT_TRUE(wait_for(
      [&] {
        st = status();
        if (st.value("models", json::array()).empty()) return false;
        v = st["models"][0]["version"];
        return st["models"][0]["trainer"] == "c" &&
               st["models"][0]["position"].get<uint64_t>() >= last && node_model(st, "b") == v &&
               node_model(st, "c") == v;
      },
      90000))
      << st.dump() << ReadAll(dir_ + "/c.err");
  EXPECT_GE(v, 2u);
  EXPECT_EQ(st["trainer_lock"], "c");
  for (const std::string u : {"u3", "u4", "u17"}) {
    const json tc = top(port_c, u);
    EXPECT_FALSE(tc.empty()) << u;
    EXPECT_EQ(top(port_b, u), tc) << u;
  }
  std::fprintf(stderr, "takeover %lld ms after the kill (lease %d ms)\n",
               static_cast<long long>(took_over_ms), kLeaseMs);
  const json v_answer = top(port_c, "u3");
  // A clean stop releases the lock at once.
  Stop(pc);
  ASSERT_TRUE(wait_for([&] { return status().value("trainer_lock", "?") == ""; }, 5000))
      << status().dump();
  // b killed -9 and restarted: its first line, printed before its loop's
  // first round can have ended, already reports the version it installed
  // (recorded with the model: InstalledModelVersion), and it answers with it.
  ASSERT_EQ(kill(pb, SIGKILL), 0);
  waitpid(pb, nullptr, 0);
  pids_.erase(std::find(pids_.begin(), pids_.end(), pb));
  std::filesystem::remove(dir_ + "/b.out");  // Serve reads the new first line
  const uint16_t port_b2 = Serve("b", "all", &pb, with({"--follow-models"}), &line);
  ASSERT_NE(port_b2, 0);
  EXPECT_EQ(json::parse(line)["model_version"], v) << line;
  EXPECT_EQ(top(port_b2, "u3"), v_answer);
  Stop(pb);
}

// POST /v1/cluster/models answers 503 model_round_pending when the round it
// asked for is not done within wait_ms, and answers at wait_ms, not when the
// round ends: here every nats-server is paused (SIGSTOP), so the round waits
// on JetStream for as long as the test holds them. Once they run again, a
// round on demand answers 200. (409 on a node without a model loop:
// ServedNodesWriteThroughOneAndReadYourWritesThroughAnother.)
TEST_F(ClusterOpsTest, ModelRoundNotDoneWithinItsWaitAnswers503) {
  pid_t pb = 0;
  const uint16_t port =
      Serve("b", "all", &pb, {"--follow-models", "--model-interval-ms", "600000"});
  ASSERT_NE(port, 0);
  auto cb = serve::HttpClient::Connect("127.0.0.1", port);
  ASSERT_TRUE(cb.ok());
  // The servers running: the round (nothing published yet) is done.
  auto resp = (*cb)->Send("POST", "/v1/cluster/models?wait_ms=30000", "", kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  const int rounds = json::parse(resp->body)["rounds"].get<int>();
  EXPECT_EQ(json::parse(resp->body)["last_error"], "") << resp->body;

  // Under load a round sometimes ends with every server paused, in a few ms
  // and without an error (2 of 4 runs at load 6-8 on 2026-12-07; cause not
  // found: see cluster/README.md). Such an attempt answers 200 before wait_ms
  // and proves nothing either way, so it is retried; any other answer is
  // judged. A handler that ignores wait_ms still fails below.
  int64_t answered_ms = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    for (int i = 0; i < nats_->size(); ++i) ASSERT_TRUE(nats_->Pause(i).ok());
    const auto asked = Clock::now();
    resp = (*cb)->Send("POST", "/v1/cluster/models?wait_ms=400", "", kToken);
    answered_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - asked).count();
    // Held past the answer, so that the round cannot have finished in time.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (int i = 0; i < nats_->size(); ++i) ASSERT_TRUE(nats_->Resume(i).ok());
    ASSERT_TRUE(resp.ok());
    if (resp->status != 200 || answered_ms >= 400) break;
    std::cerr << "a round ended with every server paused (" << answered_ms
              << " ms): " << resp->body << "; retrying\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(resp->status, 503) << resp->body;
  EXPECT_NE(resp->body.find("model_round_pending"), std::string::npos) << resp->body;
  EXPECT_NE(resp->body.find("not done within 400 ms"), std::string::npos) << resp->body;
  EXPECT_GE(answered_ms, 400);
  EXPECT_LT(answered_ms, 2500) << "the answer waited for the round, not for wait_ms";

  // Running again: the held round ends (its JetStream calls time out or
  // answer late) and the next one on demand is done.
  resp = (*cb)->Send("POST", "/v1/cluster/models?wait_ms=30000", "", kToken);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200) << resp->body;
  json m = json::parse(resp->body);
  EXPECT_GE(m["rounds"].get<int>(), rounds + 2) << resp->body;
  EXPECT_EQ(m["last_error"], "") << resp->body;
  Stop(pb);
}

// ClusterNode::RecordEventsAndWait (issue #19's counts on the cluster write
// path): exact per-call counts while another writer interleaves, and the
// applier's run splitting leaves replicas identical.
TEST_F(ClusterOpsTest, RecordEventsAndWaitCountsExactlyAndReplicasAgree) {
  auto open = [&](const std::string& name) {
    NodeOptions o;
    o.log.servers = nats_->Urls();
    o.log.stream = "counts";
    o.log.partitions = 8;
    o.db_path = dir_ + "/" + name;
    o.db_options.background_threads = 1;
    o.apply_batch = 64;
    return ClusterNode::Open(o);
  };
  auto a = open("a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = open("b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE((*a)->Start().ok());
  ASSERT_TRUE((*b)->Start().ok());
  auto ev = [](const std::string& id, const std::string& user, int ts) {
    ClusterEvent ce;
    ce.id = id;
    ce.event.user = user;
    ce.event.item = "item" + std::to_string(ts % 17);
    ce.event.type = "view";
    ce.event.timestamp = 1500000000 + ts;
    return ce;
  };
  ASSERT_TRUE((*a)->RecordEvents({ev("x0", "gone", 0)}).ok());
  auto f = (*a)->ForgetUser("forget-gone", "gone");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  // b writes other users' events meanwhile, so a's watched events land in
  // batches mixed with unwatched ones.
  std::atomic<bool> stop{false};
  std::thread other([&] {
    for (int i = 0; !stop.load() && i < 400; ++i) {
      std::vector<ClusterEvent> evs;
      for (int j = 0; j < 5; ++j) {
        evs.push_back(ev("o" + std::to_string(i * 5 + j), "other" + std::to_string(j), i));
      }
      (void)(*b)->RecordEvents(evs);
    }
  });
  int64_t dropped = 0, calls_applied = 0;
  for (int c = 0; c < 20; ++c) {
    std::vector<ClusterEvent> evs;
    for (int j = 0; j < 10; ++j) {
      const bool forgotten = (c + j) % 3 == 0;
      evs.push_back(ev("c" + std::to_string(c) + "-" + std::to_string(j),
                       forgotten ? "gone" : "kept" + std::to_string(j), 100 + c * 10 + j));
      if (forgotten) ++dropped;
    }
    auto r = (*a)->RecordEventsAndWait(evs, 20000);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->applied);
    ++calls_applied;
    int64_t want_dropped = 0;
    for (const auto& e : evs) want_dropped += e.event.user == "gone";
    EXPECT_EQ(r->owned, 10);
    EXPECT_EQ(r->result.dropped_forgotten, want_dropped) << "call " << c;
    EXPECT_EQ(r->result.stored, 10 - want_dropped) << "call " << c;
    EXPECT_EQ(r->result.counted_only, 0);
    EXPECT_EQ(r->rejected, 0);
  }
  stop = true;
  other.join();
  // A re-sent call: JetStream returns the first copies; nothing applied again.
  std::vector<ClusterEvent> again = {ev("c0-1", "kept1", 101)};
  auto r = (*a)->RecordEventsAndWait(again, 20000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.stored + r->result.dropped_forgotten, 0);
  const uint64_t last = (*a)->log()->Describe(5000).value().last_seq;
  ASSERT_TRUE((*a)->WaitForSequence(last, 20000).ok());
  ASSERT_TRUE((*b)->WaitForSequence(last, 20000).ok());
  auto da = (*a)->Digest();
  auto db = (*b)->Digest();
  ASSERT_TRUE(da.ok() && db.ok());
  EXPECT_EQ(da->ToString(), db->ToString());
  EXPECT_EQ((*a)->stats().events_dropped_forgotten, (*b)->stats().events_dropped_forgotten);
  EXPECT_GE((*a)->stats().events_dropped_forgotten, static_cast<uint64_t>(dropped));
  EXPECT_EQ(calls_applied, 20);
}

}  // namespace
}  // namespace recdb::cluster
