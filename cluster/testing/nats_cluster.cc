#include "cluster/testing/nats_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>
#include <thread>

namespace recdb::cluster::testing {

namespace {

using Clock = std::chrono::steady_clock;

// Ports for the test servers. A port taken with bind(0) comes from the
// kernel's ephemeral range, the same range every outgoing connection (our own
// libnats clients included) draws its local port from; between choosing it and
// nats-server binding it, a connection could take it, and the server exits with
// "address already in use" (seen once in CI). So the ports are drawn at random
// below the ephemeral range, each checked by binding it, and all are held open
// until every one is chosen, so none is handed out twice.
class PortPicker {
 public:
  PortPicker() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0;
    if (range >> low && low > 20000) ephemeral_low_ = low;
    rng_.seed(static_cast<uint32_t>(getpid()) * 2654435761u ^
              static_cast<uint32_t>(Clock::now().time_since_epoch().count()));
  }
  ~PortPicker() {
    for (int fd : held_) close(fd);
  }
  // A port in [10000, ephemeral_low_) that nothing holds now; 0 if none found.
  int Take() {
    std::uniform_int_distribution<int> dist(10000, ephemeral_low_ - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
      const int port = dist(rng_);
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) return 0;
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(port));
      if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
        held_.push_back(fd);
        return port;
      }
      close(fd);
    }
    return 0;
  }

 private:
  int ephemeral_low_ = 32768;
  std::mt19937 rng_;
  std::vector<int> held_;
};

// True when a server's log says it could not bind one of its ports.
bool LostItsPort(const std::string& log) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("address already in use") != std::string::npos) return true;
  }
  return false;
}

// GET http://127.0.0.1:port/healthz; true on a 200 answer.
bool Healthy(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    const char req[] = "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, req, sizeof(req) - 1, 0) == static_cast<ssize_t>(sizeof(req) - 1)) {
      char buf[512];
      ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
      if (n > 0) {
        buf[n] = '\0';
        ok = std::string(buf).find(" 200 ") != std::string::npos;
      }
    }
  }
  close(fd);
  return ok;
}

}  // namespace

std::string NatsCluster::FindServer() {
  if (const char* env = std::getenv("RECDB_NATS_SERVER"); env != nullptr && *env != '\0') {
    return access(env, X_OK) == 0 ? env : "";
  }
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::Start(const std::string& dir, int servers,
                                                          int timeout_ms,
                                                          const PortsChosenHook& hook) {
  // A start that fails only because a port was taken meanwhile is retried
  // with new ports; any other failure is returned at once.
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
    auto c = StartOnce(dir, servers, timeout_ms, hook);
    if (c.ok() || attempt == 3) return c;
    bool port_lost = false;
    for (int i = 0; i < servers; ++i) {
      port_lost = port_lost || LostItsPort(dir + "/n" + std::to_string(i) + ".log");
    }
    if (!port_lost) return c;
  }
}

StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::StartOnce(const std::string& dir, int servers,
                                                              int timeout_ms,
                                                              const PortsChosenHook& hook) {
  const std::string binary = FindServer();
  if (binary.empty()) return Status::NotFound("nats-server is not installed");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir + ": " + ec.message());
  std::unique_ptr<NatsCluster> c(new NatsCluster(dir, binary));
  c->servers_.resize(servers);
  {
    PortPicker ports;  // releases the ports just before the servers bind them
    for (Server& s : c->servers_) {
      s.client_port = ports.Take();
      s.route_port = ports.Take();
      s.http_port = ports.Take();
      if (s.client_port == 0 || s.route_port == 0 || s.http_port == 0) {
        return Status::IOError("no free port on 127.0.0.1");
      }
    }
  }
  if (hook) {
    std::vector<int> client_ports;
    for (const Server& s : c->servers_) client_ports.push_back(s.client_port);
    hook(client_ports);
  }
  for (int i = 0; i < servers; ++i) {
    Server& s = c->servers_[i];
    s.conf = dir + "/n" + std::to_string(i) + ".conf";
    s.log = dir + "/n" + std::to_string(i) + ".log";
    std::ofstream conf(s.conf);
    conf << "server_name: n" << i << "\n"
         << "listen: 127.0.0.1:" << s.client_port << "\n"
         << "http: 127.0.0.1:" << s.http_port << "\n"
         << "jetstream { store_dir: \"" << dir << "/n" << i << "\" }\n"
         << "cluster {\n  name: recdb_test\n  listen: 127.0.0.1:" << s.route_port
         << "\n  routes: [";
    bool first = true;
    for (int j = 0; j < servers; ++j) {
      if (j == i) continue;
      conf << (first ? "" : ", ") << "nats-route://127.0.0.1:" << c->servers_[j].route_port;
      first = false;
    }
    conf << "]\n}\n";
    if (!conf.good()) return Status::IOError("write " + s.conf);
  }
  for (int i = 0; i < servers; ++i) RECDB_RETURN_IF_ERROR(c->Spawn(i));
  for (int i = 0; i < servers; ++i) RECDB_RETURN_IF_ERROR(c->WaitHealthy(i, timeout_ms));
  return c;
}

Status NatsCluster::Spawn(int i) {
  Server& s = servers_[i];
  pid_t pid = fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    int fd = open(s.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execl(binary_.c_str(), "nats-server", "-c", s.conf.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  s.pid = pid;
  return Status::OK();
}

Status NatsCluster::WaitHealthy(int i, int timeout_ms) {
  const auto start = Clock::now();
  for (int attempt = 0; attempt < 10000; ++attempt) {
    Server& s = servers_[i];
    if (s.pid <= 0) return Status::FailedPrecondition(Name(i) + " is not running");
    int status = 0;
    if (waitpid(s.pid, &status, WNOHANG) == s.pid) {
      s.pid = -1;
      return Status::Aborted(Name(i) + " exited during start; see " + s.log);
    }
    if (Healthy(s.http_port)) return Status::OK();
    if (Clock::now() - start > std::chrono::milliseconds(timeout_ms)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Aborted(Name(i) + " not healthy within " + std::to_string(timeout_ms) +
                         " ms; see " + servers_[i].log);
}

std::string NatsCluster::Url(int i) const {
  return "nats://127.0.0.1:" + std::to_string(servers_[i].client_port);
}

std::string NatsCluster::Urls() const {
  std::string out;
  for (int i = 0; i < size(); ++i) out += (i ? "," : "") + Url(i);
  return out;
}

int NatsCluster::IndexOf(const std::string& name) const {
  for (int i = 0; i < size(); ++i) {
    if (Name(i) == name) return i;
  }
  return -1;
}

Status NatsCluster::Kill(int i) {
  Server& s = servers_[i];
  if (s.pid <= 0) return Status::FailedPrecondition(Name(i) + " is not running");
  kill(s.pid, SIGKILL);
  waitpid(s.pid, nullptr, 0);
  s.pid = -1;
  return Status::OK();
}

Status NatsCluster::Restart(int i, int timeout_ms) {
  if (servers_[i].pid > 0) return Status::FailedPrecondition(Name(i) + " is running");
  RECDB_RETURN_IF_ERROR(Spawn(i));
  return WaitHealthy(i, timeout_ms);
}

Status NatsCluster::Pause(int i) {
  Server& s = servers_[i];
  if (s.pid <= 0) return Status::FailedPrecondition(Name(i) + " is not running");
  if (kill(s.pid, SIGSTOP) != 0) return Status::IOError("SIGSTOP " + Name(i) + " failed");
  return Status::OK();
}

Status NatsCluster::Resume(int i) {
  Server& s = servers_[i];
  if (s.pid <= 0) return Status::FailedPrecondition(Name(i) + " is not running");
  if (kill(s.pid, SIGCONT) != 0) return Status::IOError("SIGCONT " + Name(i) + " failed");
  return Status::OK();
}

NatsCluster::~NatsCluster() {
  for (Server& s : servers_) {
    if (s.pid <= 0) continue;
    kill(s.pid, SIGCONT);  // a paused server must run to see the SIGTERM
    kill(s.pid, SIGTERM);
  }
  for (Server& s : servers_) {
    if (s.pid <= 0) continue;
    bool gone = false;
    for (int k = 0; k < 50 && !gone; ++k) {
      gone = waitpid(s.pid, nullptr, WNOHANG) == s.pid;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!gone) {
      kill(s.pid, SIGKILL);
      waitpid(s.pid, nullptr, 0);
    }
    s.pid = -1;
  }
}

}  // namespace recdb::cluster::testing
