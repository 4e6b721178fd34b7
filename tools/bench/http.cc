// `recdb bench http`: load test of the HTTP service (`recdb serve`) on
// ml-100k. N client threads (default 2), each on its own keep-alive
// connection, send a bounded number of GET /v1/recommend requests over
// loopback; the anchor is the same requests (same users, same k, same number
// of concurrent callers) made directly through DB::Recommend in the same
// run. The two alternate in rounds so that load from other processes hits
// both alike. Reports requests/s and p50/p99 of each, and their ratios; the
// bar (issue 10) is HTTP p99 under 10 ms with 2 concurrent clients.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "tools/bench/bench.h"
#include "tools/bench/world.h"
#include "tools/serve/http_client.h"
#include "tools/serve/http_server.h"

namespace recdb::bench {
namespace {

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench http: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Runs users[begin, end) split round-robin over `clients` threads, each
// calling `one(client, user)`; appends each latency to *ms and returns the
// wall time in seconds. `one` returns false to stop with an error.
template <typename F>
double RunRound(const std::vector<std::string>& users, size_t begin, size_t end, int clients,
                std::vector<double>* ms, F one, std::atomic<bool>* failed) {
  std::vector<std::vector<double>> per(clients);
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (size_t i = begin + c; i < end; i += clients) {
        const auto t = Clock::now();
        if (!one(c, users[i])) {
          *failed = true;
          return;
        }
        per[c].push_back(Ms(t));
      }
    });
  }
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& p : per) ms->insert(ms->end(), p.begin(), p.end());
  return wall;
}

int BenchHttpMain(int argc, char** argv) {
  Flags f("http", "N requests over loopback from --clients threads, against the same calls through\n"
          "DB::Recommend (the anchor).");
  f.args().AddFlag("data", "DIR", "the ml-100k directory", "../shared/data/ml-100k");
  f.args().AddFlag("requests", "N", "requests per round", "4000");
  f.args().AddFlag("clients", "N", "client threads (1-256)", "2");
  f.args().AddFlag("server-threads", "N", "the service's threads", "2");
  f.args().AddFlag("rounds", "N", "rounds, alternating HTTP and direct", "4");
  f.args().AddFlag("k", "N", "items per request", "10");
  f.args().AddSwitch("json", "print one JSON object");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const std::string data_dir = f.Str("data");
  const size_t requests = f.Int("requests", 1);
  const int clients = static_cast<int>(f.Int("clients", 1));
  const int server_threads = static_cast<int>(f.Int("server-threads", 1));
  const int rounds = static_cast<int>(f.Int("rounds", 1));
  const size_t k = f.Int("k", 1);
  const bool json = f.Has("json");
  if (!f.ok()) return f.exit_code();
  if (clients > 256) return cli::UsageError("bench http", "--clients must be at most 256");

  char tmpl[] = "/tmp/recdb_bench_http_XXXXXX";
  if (!mkdtemp(tmpl)) return Fail("mkdtemp", Status::IOError("cannot create temp dir"));
  const std::string dir = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};

  auto opened = OpenBenchDB(dir);
  if (!opened.ok()) return Fail("open", opened.status());
  std::unique_ptr<DB> db = std::move(opened).value();
  Status s = LoadMovieLens(db.get(), data_dir);
  if (!s.ok()) return Fail("import " + data_dir, s);
  auto trained = db->Train();
  if (!trained.ok()) return Fail("train", trained.status());
  auto listed = UserIds(db.get());
  if (!listed.ok()) return Fail("users", listed.status());
  const std::vector<std::string> user_ids = std::move(listed).value();
  auto stats = db->GetStats();
  if (!stats.ok()) return Fail("stats", stats.status());

  std::mt19937_64 rng(7);
  std::vector<std::string> users(requests);
  for (auto& u : users) u = user_ids[rng() % user_ids.size()];

  serve::ServerOptions so;
  so.token = "bench-token";
  so.threads = server_threads;
  auto server = serve::HttpServer::Start(db.get(), so);
  if (!server.ok()) return Fail("start server", server.status());
  std::vector<std::unique_ptr<serve::HttpClient>> conns;
  for (int c = 0; c < clients; ++c) {
    auto conn = serve::HttpClient::Connect((*server)->address(), (*server)->port());
    if (!conn.ok()) return Fail("connect", conn.status());
    conns.push_back(std::move(conn).value());
  }
  const std::string k_param = "&k=" + std::to_string(k);
  Status first_error;
  std::mutex error_mu;
  auto set_error = [&](Status e) {
    std::lock_guard<std::mutex> lock(error_mu);
    if (first_error.ok()) first_error = std::move(e);
  };
  auto direct = [&](int, const std::string& user) {
    RecommendRequest r;
    r.user = user;
    r.k = k;
    auto res = db->Recommend(r);
    if (!res.ok()) set_error(res.status());
    return res.ok();
  };
  auto http = [&](int c, const std::string& user) {
    auto res = conns[c]->Send("GET", "/v1/recommend?user=" + serve::UrlEncode(user) + k_param,
                              "", so.token);
    if (!res.ok()) set_error(res.status());
    else if (res->status != 200) set_error(Status::Internal("HTTP " + std::to_string(res->status) + ": " + res->body));
    return res.ok() && res->status == 200;
  };

  // The HTTP answers are the DB's answers: same ids, same order.
  size_t mismatches = 0;
  for (size_t i = 0; i < std::min<size_t>(50, user_ids.size()); ++i) {
    RecommendRequest r;
    r.user = user_ids[i];
    r.k = k;
    auto want = db->Recommend(r);
    auto got = conns[0]->Send("GET", "/v1/recommend?user=" + serve::UrlEncode(user_ids[i]) + k_param,
                              "", so.token);
    if (!want.ok() || !got.ok() || got->status != 200) return Fail("check", Status::Internal("request failed"));
    auto j = nlohmann::json::parse(got->body, nullptr, false);
    std::vector<std::string> ids;
    if (j.is_object() && j.contains("items")) {
      for (const auto& it : j["items"]) ids.push_back(it.value("id", ""));
    }
    std::vector<std::string> want_ids;
    for (const auto& rec : want->items) want_ids.push_back(rec.id);
    if (ids != want_ids) ++mismatches;
  }

  // Warm up both paths, then alternate rounds.
  std::atomic<bool> failed{false};
  std::vector<double> warm;
  const size_t nwarm = std::min<size_t>(200, requests);
  RunRound(users, 0, nwarm, clients, &warm, direct, &failed);
  RunRound(users, 0, nwarm, clients, &warm, http, &failed);
  std::vector<double> direct_ms, http_ms;
  double direct_wall = 0, http_wall = 0;
  for (int r = 0; r < rounds && !failed; ++r) {
    const size_t b = requests * r / rounds, e = requests * (r + 1) / rounds;
    direct_wall += RunRound(users, b, e, clients, &direct_ms, direct, &failed);
    http_wall += RunRound(users, b, e, clients, &http_ms, http, &failed);
  }
  if (failed) return Fail("request", first_error);
  (*server)->Shutdown();
  (*server)->Wait();
  server->reset();
  Status closed = db->Close();
  if (!closed.ok()) return Fail("close", closed);

  const Latency hl = Summarise(http_ms), dl = Summarise(direct_ms);
  const double http_rps = http_wall > 0 ? hl.n / http_wall : 0;
  const double direct_rps = direct_wall > 0 ? dl.n / direct_wall : 0;
  const bool bar = hl.p99 < 10.0;
  if (json) {
    nlohmann::ordered_json j;
    j["users"] = stats->users;
    j["items"] = stats->items;
    j["events"] = stats->events;
    j["k"] = k;
    j["clients"] = clients;
    j["server_threads"] = server_threads;
    j["requests"] = hl.n;
    j["http"] = {{"requests_per_s", http_rps}, {"p50_ms", hl.p50}, {"p99_ms", hl.p99}, {"max_ms", hl.max}};
    j["direct"] = {{"requests_per_s", direct_rps}, {"p50_ms", dl.p50}, {"p99_ms", dl.p99}, {"max_ms", dl.max}};
    j["p50_ratio"] = dl.p50 > 0 ? hl.p50 / dl.p50 : 0;
    j["p99_ratio"] = dl.p99 > 0 ? hl.p99 / dl.p99 : 0;
    j["throughput_ratio"] = direct_rps > 0 ? http_rps / direct_rps : 0;
    j["id_mismatches"] = mismatches;
    j["bar_p99_under_10ms"] = bar;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("ml-100k: %lld users, %lld items, %lld events; k=%zu, %d clients, %d server threads\n",
                static_cast<long long>(stats->users), static_cast<long long>(stats->items),
                static_cast<long long>(stats->events), k, clients, server_threads);
    std::printf("HTTP GET /v1/recommend  %zu requests: %8.0f req/s  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
                hl.n, http_rps, hl.p50, hl.p99, hl.max);
    std::printf("DB::Recommend (anchor)  %zu requests: %8.0f req/s  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
                dl.n, direct_rps, dl.p50, dl.p99, dl.max);
    std::printf("HTTP / direct: p50 %.2fx  p99 %.2fx  throughput %.2fx; ids equal on %zu/%zu checked users\n",
                dl.p50 > 0 ? hl.p50 / dl.p50 : 0, dl.p99 > 0 ? hl.p99 / dl.p99 : 0,
                direct_rps > 0 ? http_rps / direct_rps : 0,
                std::min<size_t>(50, user_ids.size()) - mismatches, std::min<size_t>(50, user_ids.size()));
    std::printf("bar: HTTP p99 < 10 ms with %d clients: %s\n", clients, bar ? "yes" : "NO");
  }
  return mismatches == 0 ? 0 : 1;
}

}  // namespace

RECDB_REGISTER_BENCH("http", BenchHttpMain,
                     "HTTP /v1/recommend req/s and p50/p99 over loopback vs DB::Recommend (ml-100k)");

}  // namespace recdb::bench
