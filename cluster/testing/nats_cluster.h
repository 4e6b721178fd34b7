// NatsCluster: a JetStream cluster of nats-server processes on 127.0.0.1 for
// the cluster tests and the benchmark. Each server gets free ports (client,
// route, HTTP monitor) and its own store directory under `dir`; Start waits
// until every /healthz answers. The destructor stops (SIGTERM, then SIGKILL
// after 5 s) exactly the processes this object started, by pid.
//
// nats-server is found at $RECDB_NATS_SERVER, /usr/sbin/nats-server or
// /usr/bin/nats-server.
//
// Thread-safety: not thread-safe; one test thread drives it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "recdb/status.h"

namespace recdb::cluster::testing {

class NatsCluster {
 public:
  // Called once per start attempt with the client ports just chosen (one per
  // server), after they are released and before the servers bind them: a
  // test takes one here to prove that a start which loses a port is retried.
  using PortsChosenHook = std::function<void(const std::vector<int>& client_ports)>;

  // The nats-server binary, or "" if none is installed.
  static std::string FindServer();

  // Starts `servers` servers under `dir` (created) and waits (bounded by
  // timeout_ms) until each one's /healthz is ok.
  // Ports are random, below the kernel's ephemeral range; a start that fails
  // because a port was taken meanwhile is retried (at most 3 tries).
  // Errors: NotFound without nats-server; Aborted if a server exits or
  // does not become healthy in time (its log is DIR/nK.log).
  [[nodiscard]] static StatusOr<std::unique_ptr<NatsCluster>> Start(const std::string& dir,
                                                                    int servers = 3,
                                                                    int timeout_ms = 30000,
                                                                    const PortsChosenHook& hook = nullptr);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const { return static_cast<int>(servers_.size()); }
  // Every server's client URL, comma-separated, and one server's.
  std::string Urls() const;
  std::string Url(int i) const;
  // Server i's name ("n<i>"), and the index of a name (-1 if none).
  std::string Name(int i) const { return "n" + std::to_string(i); }
  int IndexOf(const std::string& name) const;
  bool Running(int i) const { return servers_[i].pid > 0; }

  // kill -9 server i and reap it. Errors: FailedPrecondition if not running.
  Status Kill(int i);
  // Starts server i again (same ports and store) and waits for /healthz.
  Status Restart(int i, int timeout_ms = 30000);
  // SIGSTOP / SIGCONT server i: it holds its connections but answers
  // nothing meanwhile (a test's way to hold a request in flight).
  // Errors: FailedPrecondition if not running; IOError.
  Status Pause(int i);
  Status Resume(int i);
  // Waits until server i's /healthz answers ok.
  Status WaitHealthy(int i, int timeout_ms);

 private:
  static StatusOr<std::unique_ptr<NatsCluster>> StartOnce(const std::string& dir, int servers,
                                                          int timeout_ms,
                                                          const PortsChosenHook& hook);
  struct Server {
    int client_port = 0;
    int route_port = 0;
    int http_port = 0;
    pid_t pid = -1;
    std::string conf;
    std::string log;
  };
  NatsCluster(std::string dir, std::string binary) : dir_(std::move(dir)), binary_(std::move(binary)) {}
  Status Spawn(int i);

  std::string dir_;
  std::string binary_;
  std::vector<Server> servers_;
};

}  // namespace recdb::cluster::testing
