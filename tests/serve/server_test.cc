// tools/serve/http_server.h over real sockets: an in-process server on a
// random port in front of a real database, called with HttpClient and with
// hand-written bytes.
#include "tools/serve/http_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/asio.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tools/import/record_json.h"
#include "serve/synthetic_db.h"
#include "tools/serve/http_client.h"
#include "tools/serve/request.h"

namespace recdb::serve {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using json = nlohmann::json;

constexpr const char* kToken = "s3cret-token";

// Sends `bytes` on a fresh connection and returns everything the server
// sends back until it closes the connection (or `timeout` passes).
std::string RawExchange(uint16_t port, const std::string& bytes,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::write(s, net::buffer(bytes));
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  s.non_blocking(true);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    size_t n = s.read_some(net::buffer(buf), ec);
    if (ec == net::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (ec) break;  // EOF or reset: the server closed
    out.append(buf, n);
  }
  return out;
}

int StatusOfRaw(const std::string& response) {
  // "HTTP/1.1 413 Payload Too Large\r\n..."
  if (response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

// What a request could change: counts, the RocksDB sequence number (any
// write moves it) and every stored record. Reads only (DB::ExportUser would
// add an audit entry, a write of its own).
struct Fingerprint {
  DBStats stats;
  std::string records;
  friend std::ostream& operator<<(std::ostream& os, const Fingerprint& f) {
    return os << "users " << f.stats.users << " items " << f.stats.items << " events "
              << f.stats.events << " types " << f.stats.event_types << " seq "
              << f.stats.sequence_number << " records " << f.records.size() << " bytes";
  }
  bool operator==(const Fingerprint& o) const {
    return stats.users == o.stats.users && stats.items == o.stats.items &&
           stats.events == o.stats.events && stats.event_types == o.stats.event_types &&
           stats.sequence_number == o.stats.sequence_number && records == o.records;
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenDb(); }
  void TearDown() override {
    server_.reset();
    if (db_) {
      ASSERT_TRUE(db_->Close().ok());
    }
  }

  void OpenDb() {
    auto db = test::OpenSyntheticDb(dir_.Sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  void StartServer(ServerOptions o = {}) {
    o.token = o.token.empty() ? kToken : o.token;
    auto s = HttpServer::Start(db_.get(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }

  std::unique_ptr<HttpClient> Client() {
    auto c = HttpClient::Connect("127.0.0.1", server_->port());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  HttpResponse Send(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& token = kToken) {
    auto c = Client();
    if (!c) return {};
    auto r = c->Send(method, target, body, token);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpResponse{};
  }

  Fingerprint Take() {
    Fingerprint f;
    auto s = db_->GetStats();
    EXPECT_TRUE(s.ok());
    if (s.ok()) f.stats = *s;
    EXPECT_TRUE(db_->ForEachItem([&](const Item& i) {
      f.records += tools::JsonLine(tools::ToJson(i)) + "\n";
      return Status::OK();
    }).ok());
    EXPECT_TRUE(db_->ForEachUser([&](const User& u) {
      f.records += tools::JsonLine(tools::ToJson(u)) + "\n";
      return Status::OK();
    }).ok());
    EXPECT_TRUE(db_->ForEachEvent([&](const Event& e) {
      f.records += tools::JsonLine(tools::ToJson(e)) + "\n";
      return Status::OK();
    }).ok());
    return f;
  }

  static std::string ErrorMessage(const HttpResponse& r) {
    auto j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return "";
    return j["error"].value("message", "");
  }

  test::TempDir dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<HttpServer> server_;
};

// Every route, as a client would call it with a well-formed request.
struct RouteCall {
  const char* method;
  const char* target;
  const char* body;
};
const std::vector<RouteCall>& AllRoutes() {
  static const std::vector<RouteCall> r = {
      {"GET", "/v1/stats", ""},
      {"GET", "/v1/model", ""},
      {"GET", "/v1/recommend?user=u1&k=5", ""},
      {"GET", "/v1/similar?item=i1&k=5", ""},
      {"POST", "/v1/events", R"({"events":[{"user":"u1","item":"i2","ts":1700000000}]})"},
      {"POST", "/v1/items", R"({"items":[{"id":"new-item"}]})"},
      {"POST", "/v1/users", R"({"users":[{"id":"new-user"}]})"},
      {"POST", "/v1/train", R"({"learn_weights":false})"},
      {"POST", "/v1/forget", R"({"user":"u1"})"},
      {"GET", "/v1/users/u1/export", ""},
      {"POST", "/v1/snapshots", ""},
      {"GET", "/v1/snapshots", ""},
      {"POST", "/v1/snapshots/snapshot-000001/verify", ""},
      {"GET", "/v1/stats/events_per_day", ""},
      {"GET", "/v1/spaces", ""},
      {"GET", "/v1/spaces/text/neighbors?item=i1", ""},
      {"POST", "/v1/eval", R"({"recommenders":["mostpop"]})"},
      {"GET", "/v1/eval", ""},
      {"POST", "/v1/eval/cancel", ""},
      {"GET", "/v1/audit", ""},
      {"GET", "/v1/users/u1/history?order=newest&limit=5", ""},
      {"GET", "/v1/items/i1/interactions", ""},
      {"POST", "/v1/impressions", R"({"user":"u1","items":["i1"]})"},
      {"GET", "/v1/nope", ""},
  };
  return r;
}

TEST_F(ServerTest, RequestsWithoutTheRightTokenGet401AndChangeNothing) {
  StartServer();
  const Fingerprint before = Take();
  for (const auto& rc : AllRoutes()) {
    for (const std::string token : {"", "wrong", "s3cret-tokeN", "s3cret-token-and-more"}) {
      HttpResponse r = Send(rc.method, rc.target, rc.body, token);
      EXPECT_EQ(r.status, 401) << rc.method << " " << rc.target << " token '" << token << "'";
      EXPECT_EQ(r.headers["www-authenticate"], "Bearer realm=\"recdb\"");
      EXPECT_FALSE(ErrorMessage(r).empty());
    }
  }
  // A non-Bearer scheme is refused too.
  std::string basic = RawExchange(server_->port(),
                                  "GET /v1/stats HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
                                      std::string(kToken) + "\r\n\r\n");
  EXPECT_EQ(StatusOfRaw(basic), 401) << basic;
  EXPECT_EQ(Take(), before);
  // Health is open; with the token every route answers.
  EXPECT_EQ(Send("GET", "/v1/health", "", "").status, 200);
  EXPECT_EQ(Send("GET", "/v1/stats").status, 200);
  EXPECT_EQ(Send("get", "/v1/stats", "", "").status, 401);
}

TEST_F(ServerTest, OversizeBodiesGet413AndChangeNothing) {
  ServerOptions o;
  o.max_body_bytes = 2048;
  StartServer(o);
  const Fingerprint before = Take();
  std::string big = R"({"events":[)";
  for (int i = 0; big.size() < 4096; ++i) {
    if (i) big += ",";
    big += R"({"user":"u1","item":"i3","ts":)" + std::to_string(1700000000 + i) + "}";
  }
  big += "]}";
  HttpResponse r = Send("POST", "/v1/events", big);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(ErrorMessage(r).find("2048"), std::string::npos) << r.body;
  // Chunked, so the size is only known while reading.
  std::string chunked = "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                        std::string(kToken) + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t off = 0; off < big.size(); off += 1000) {
    std::string part = big.substr(off, 1000);
    char hex[16];
    std::snprintf(hex, sizeof(hex), "%zx", part.size());
    chunked += std::string(hex) + "\r\n" + part + "\r\n";
  }
  chunked += "0\r\n\r\n";
  std::string raw = RawExchange(server_->port(), chunked);
  EXPECT_EQ(StatusOfRaw(raw), 413) << raw;
  // A header over the limit is 431.
  std::string huge_header = "GET /v1/stats HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                            std::string(64 * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(StatusOfRaw(RawExchange(server_->port(), huge_header)), 431);
  EXPECT_EQ(Take(), before);
  // Just under the limit is accepted.
  EXPECT_EQ(Send("POST", "/v1/events", R"({"events":[{"user":"u1","item":"i3","ts":1}]})").status,
            200);
  EXPECT_EQ(Take().stats.events, before.stats.events + 1);
}

TEST_F(ServerTest, MalformedRequestsGet400WithAMessageAndChangeNothing) {
  StartServer();
  const Fingerprint before = Take();
  struct Case {
    const char* method;
    const char* target;
    const char* body;
    const char* needle;
  };
  for (const Case& c : {
           Case{"POST", "/v1/events", R"({"events":[{"user":"u1","item":"i1","ts":5})",
                "parse error"},
           Case{"POST", "/v1/events", "not json", "malformed JSON"},
           Case{"POST", "/v1/events",
                R"({"events":[{"user":"u1","item":"i1","ts":5},{"user":"u1","item":"i1"}]})",
                "events[1]"},
           // Parses, but the DB refuses the batch (unknown event type): all of it.
           Case{"POST", "/v1/events",
                R"({"events":[{"user":"u1","item":"i1","ts":5},)"
                R"({"user":"u1","item":"i1","ts":6,"type":"teleport"}]})",
                "teleport"},
           Case{"POST", "/v1/items", R"({"items":[{"id":"x","available":"yes"}]})", "available"},
           Case{"POST", "/v1/users", R"({"users":"u9"})", "array"},
           Case{"POST", "/v1/forget", R"({"user":"u1","now":true})", "now"},
           Case{"POST", "/v1/train", R"({"threads":-3})", "threads"},
           Case{"GET", "/v1/recommend?user=u1&k=0", "", "k"},
           Case{"GET", "/v1/recommend?user=u1&k=abc", "", "k"},
           Case{"GET", "/v1/recommend?usr=u1", "", "user"},
       }) {
    HttpResponse r = Send(c.method, c.target, c.body);
    EXPECT_EQ(r.status, 400) << c.target << " " << c.body << " -> " << r.body;
    EXPECT_NE(ErrorMessage(r).find(c.needle), std::string::npos)
        << c.target << " " << c.body << " -> " << r.body;
  }
  // Malformed HTTP itself.
  std::string raw = RawExchange(server_->port(), "BLAH\r\n\r\n");
  EXPECT_EQ(StatusOfRaw(raw), 400) << raw;
  EXPECT_EQ(Take(), before);
}

TEST_F(ServerTest, UnknownRoutesGet404AndWrongMethods405AndChangeNothing) {
  StartServer();
  const Fingerprint before = Take();
  HttpResponse r = Send("GET", "/v1/nothing-here");
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(ErrorMessage(r).empty());
  EXPECT_EQ(Send("POST", "/v2/events", R"({"events":[{"user":"u1","item":"i1","ts":5}]})").status,
            404);
  r = Send("GET", "/v1/events");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "POST");
  r = Send("PUT", "/v1/events", R"({"events":[{"user":"u1","item":"i1","ts":5}]})");
  EXPECT_EQ(r.status, 405);
  r = Send("DELETE", "/v1/users/u1/export");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD");
  r = Send("POST", "/v1/forget?user=u1", R"({"user":"u1"})");  // parameters on a POST route
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Send("GET", "/v1/users/nobody/export").status, 404);
  EXPECT_EQ(Send("POST", "/v1/forget", R"({"user":"nobody"})").status, 404);
  EXPECT_EQ(Send("POST", "/v1/snapshots").status, 409);  // no --backup-dir
  EXPECT_EQ(Take(), before);
}

// #19: HEAD on a GET route answers as GET does -- status and headers,
// Content-Length included -- with no body; it was 405.
TEST_F(ServerTest, HeadAnswersLikeGetWithoutABody) {
  StartServer();
  auto header_end = [](const std::string& raw) { return raw.find("\r\n\r\n"); };
  auto content_length = [](const std::string& raw) {
    const size_t at = raw.find("Content-Length: ");
    return at == std::string::npos ? std::string("none") : raw.substr(at + 16, raw.find("\r\n", at) - at - 16);
  };
  for (const std::string target : {"/v1/health", "/v1/stats"}) {
    const std::string request = " " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                kToken + "\r\nConnection: close\r\n\r\n";
    const std::string get = RawExchange(server_->port(), "GET" + request);
    const std::string head = RawExchange(server_->port(), "HEAD" + request);
    ASSERT_EQ(StatusOfRaw(get), 200) << get;
    EXPECT_EQ(StatusOfRaw(head), 200) << head;
    ASSERT_NE(header_end(get), std::string::npos);
    ASSERT_NE(header_end(head), std::string::npos) << head;
    EXPECT_GT(get.size(), header_end(get) + 4) << "GET has a body";
    EXPECT_EQ(head.size(), header_end(head) + 4) << target << ": HEAD sent a body: " << head;
    EXPECT_EQ(content_length(head), content_length(get)) << target;
  }
  // HEAD of a POST route is still 405, and lists what is allowed.
  const std::string post_route = RawExchange(
      server_->port(), std::string("HEAD /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                           kToken + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusOfRaw(post_route), 405) << post_route;
  EXPECT_NE(post_route.find("Allow: POST\r\n"), std::string::npos) << post_route;
}

TEST_F(ServerTest, EveryOperationWorksOverHttp) {
  ServerOptions o;
  o.backup_dir = dir_.Sub("backups");
  StartServer(o);
  auto client = Client();
  ASSERT_TRUE(client);
  auto send = [&](const char* m, const std::string& t, const std::string& b = "") {
    auto r = client->Send(m, t, b, kToken);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : HttpResponse{};
  };
  // One keep-alive connection carries every request.
  HttpResponse r = send("GET", "/v1/stats");
  ASSERT_EQ(r.status, 200);
  json stats = json::parse(r.body);
  const int64_t events0 = stats["events"];
  EXPECT_EQ(stats["users"], 40);

  r = send("POST", "/v1/items", R"({"items":[{"id":"zz","title":"Zed","categories":["X"]}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["items"], 1);
  r = send("POST", "/v1/users", R"({"users":[{"id":"new user","consent":{"training":false}}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = send("POST", "/v1/events",
           R"({"events":[{"user":"new user","item":"zz","ts":1700000100,"type":"like"},)"
           R"({"user":"u1","item":"zz","ts":1700000200}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["events"], 2);
  auto item = db_->GetItem("zz");
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->title, "Zed");
  auto user = db_->GetUser("new user");
  ASSERT_TRUE(user.ok());
  EXPECT_FALSE(user->consent.training);
  EXPECT_EQ(db_->GetStats()->events, events0 + 2);

  r = send("GET", "/v1/users/new%20user/export");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(*db_->ExportUser("new user")));

  r = send("POST", "/v1/train", R"({"learn_weights":false,"ials_iterations":2})");
  ASSERT_EQ(r.status, 200) << r.body;
  const uint64_t version = json::parse(r.body)["model_version"];

  r = send("GET", "/v1/recommend?user=u2&k=4&explain=1");
  ASSERT_EQ(r.status, 200) << r.body;
  json rec = json::parse(r.body);
  EXPECT_EQ(rec["model_version"], version);
  ASSERT_EQ(rec["items"].size(), 4u);
  RecommendRequest req;
  req.user = "u2";
  req.k = 4;
  auto direct = db_->Recommend(req);
  ASSERT_TRUE(direct.ok());
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(rec["items"][i]["id"], direct->items[i].id);
    EXPECT_TRUE(rec["items"][i].contains("explanation"));
  }

  r = send("GET", "/v1/similar?item=i1&k=3");
  ASSERT_EQ(r.status, 200) << r.body;
  auto sim = db_->SimilarItems("i1", 3);
  ASSERT_TRUE(sim.ok());
  ASSERT_EQ(json::parse(r.body)["items"].size(), sim->items.size());
  for (size_t i = 0; i < sim->items.size(); ++i) {
    EXPECT_EQ(json::parse(r.body)["items"][i]["id"], sim->items[i].id);
  }

  r = send("POST", "/v1/snapshots");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(std::filesystem::is_directory(json::parse(r.body)["path"].get<std::string>()));

  r = send("POST", "/v1/forget", R"({"user":"new user","wait_for_physical_erasure":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  json receipt = json::parse(r.body);
  EXPECT_EQ(receipt["events_removed"], 1);
  EXPECT_EQ(receipt["physically_erased"], true);
  EXPECT_TRUE(db_->GetUser("new user").status().IsNotFound());
  EXPECT_EQ(send("GET", "/v1/users/new%20user/export").status, 404);
  EXPECT_EQ(send("POST", "/v1/forget", R"({"user":"new user"})").status, 409);  // in the ledger
}

TEST_F(ServerTest, ConcurrentClientsAllGetAnswers) {
  ServerOptions o;
  o.threads = 2;
  StartServer(o);
  const int64_t events0 = db_->GetStats()->events;
  constexpr int kClients = 6, kPerClient = 30;
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = HttpClient::Connect("127.0.0.1", server_->port());
      if (!client.ok()) {
        bad += kPerClient;
        return;
      }
      for (int i = 0; i < kPerClient; ++i) {
        StatusOr<HttpResponse> r = Status::Internal("not sent");
        if (i % 3 == 0) {
          r = (*client)->Send("POST", "/v1/events",
                              R"({"events":[{"user":"u)" + std::to_string(c) + R"(","item":"i)" +
                                  std::to_string(i) + R"(","ts":)" +
                                  std::to_string(1700000000 + i) + "}]}",
                              kToken);
        } else {
          r = (*client)->Send("GET", "/v1/recommend?user=u" + std::to_string((c + i) % 40) + "&k=5",
                              "", kToken);
        }
        if (r.ok() && r->status == 200) ++ok;
        else ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(ok.load(), kClients * kPerClient);
  EXPECT_EQ(db_->GetStats()->events, events0 + kClients * (kPerClient / 3));
  // The client may read a response before the server's write completes.
  for (int i = 0; i < 2000 && server_->in_flight() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server_->in_flight(), 0);
}

TEST_F(ServerTest, ShutdownFinishesTheRequestInFlightAndRefusesNewOnes) {
  StartServer();
  const uint16_t port = server_->port();
  const int64_t events0 = db_->GetStats()->events;
  // A request whose header has arrived but whose body has not.
  const std::string body = R"({"events":[{"user":"u1","item":"i7","ts":1700000300}]})";
  net::io_context ioc;
  tcp::socket busy(ioc);
  busy.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  std::string head = "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     std::string(kToken) + "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n";
  net::write(busy, net::buffer(head + body.substr(0, 10)));
  // And an idle keep-alive connection.
  auto idle = Client();
  ASSERT_TRUE(idle);
  ASSERT_EQ(idle->Send("GET", "/v1/health").value().status, 200);
  // (The health request's own count may still be settling: its response can
  // reach the client before the server's write completes.)
  for (int i = 0; i < 2000 && server_->in_flight() != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(server_->in_flight(), 1);

  std::atomic<bool> stopped{false};
  server_->Shutdown();
  std::thread waiter([&] {
    server_->Wait();
    stopped = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(stopped.load()) << "shutdown did not wait for the request in flight";
  // New connections are refused once the listener closed (the close is
  // posted to the server's threads: allow it a moment on a loaded machine).
  bool refused = false;
  for (int i = 0; i < 500 && !refused; ++i) {
    tcp::socket late(ioc);
    boost::system::error_code ec;
    late.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    refused = static_cast<bool>(ec);
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused) << "the listener stayed open during shutdown";
  // The idle connection was closed.
  EXPECT_FALSE(idle->Send("GET", "/v1/health").ok());

  // The rest of the body arrives: the request is answered and applied.
  net::write(busy, net::buffer(body.substr(10)));
  std::string response;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    size_t n = busy.read_some(net::buffer(buf), ec);
    if (ec) break;
    response.append(buf, n);
  }
  EXPECT_EQ(StatusOfRaw(response), 200) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
  waiter.join();
  EXPECT_TRUE(stopped.load());
  EXPECT_EQ(db_->GetStats()->events, events0 + 1);
}

TEST_F(ServerTest, SlowRequestsAreCutOffByTheTimeLimit) {
  ServerOptions o;
  o.request_timeout_ms = 300;
  StartServer(o);
  const auto t0 = std::chrono::steady_clock::now();
  // Half a header, then silence: the server closes within the limit.
  std::string raw = RawExchange(server_->port(), "GET /v1/stats HTTP/1.1\r\nHo",
                                std::chrono::seconds(20));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(raw.empty()) << raw;
  EXPECT_LT(s, 10.0);
  EXPECT_GE(s, 0.25);
  // A prompt request on the same server still works.
  EXPECT_EQ(Send("GET", "/v1/stats").status, 200);
}

TEST_F(ServerTest, Expect100ContinueIsHonoured) {
  StartServer();
  const std::string body = R"({"events":[{"user":"u1","item":"i8","ts":1700000400}]})";
  std::string req = "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    std::string(kToken) + "\r\nExpect: 100-continue\r\nConnection: close\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
  net::write(s, net::buffer(req));
  net::streambuf sb;
  net::read_until(s, sb, "\r\n\r\n");
  std::string interim(net::buffers_begin(sb.data()), net::buffers_end(sb.data()));
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue", 0), 0u) << interim;
  net::write(s, net::buffer(body));
  boost::system::error_code ec;
  net::read(s, sb, ec);
  std::string all(net::buffers_begin(sb.data()), net::buffers_end(sb.data()));
  EXPECT_NE(all.find("HTTP/1.1 200 OK"), std::string::npos) << all;
}

TEST_F(ServerTest, StartRefusesUnsafeOrIncompleteOptions) {
  ServerOptions o;
  o.token = "";
  EXPECT_TRUE(HttpServer::Start(db_.get(), o).status().IsInvalidArgument());
  o.token = kToken;
  o.address = "0.0.0.0";
  auto s = HttpServer::Start(db_.get(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsInvalidArgument());
  EXPECT_NE(s.status().message().find("--allow-remote"), std::string::npos);
  o.address = "not-an-ip";
  EXPECT_TRUE(HttpServer::Start(db_.get(), o).status().IsInvalidArgument());
  o.address = "::1";
  auto v6 = HttpServer::Start(db_.get(), o);  // loopback, allowed (if the host has IPv6)
  if (v6.ok()) {
    EXPECT_GT((*v6)->port(), 0);
  }
  o.address = "0.0.0.0";
  o.allow_remote = true;
  auto remote = HttpServer::Start(db_.get(), o);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  // The port is taken now: a second bind is an IOError.
  o.port = (*remote)->port();
  EXPECT_TRUE(HttpServer::Start(db_.get(), o).status().IsIOError());
}


// --- the routes the web console needs (console/README.md) -------------------

// Polls GET /v1/eval until the job leaves "running" (or 120 s pass).
json WaitForEval(const std::function<HttpResponse()>& poll) {
  for (int i = 0; i < 2400; ++i) {
    HttpResponse r = poll();
    EXPECT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || j.value("state", "") != "running") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "the eval did not finish in 120 s";
  return json();
}

TEST_F(ServerTest, EventsPerDaySumsTheDailyCountsOfEveryItem) {
  StartServer();
  HttpResponse r = Send("GET", "/v1/stats/events_per_day");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  // The same buckets computed here from the events themselves.
  std::map<int64_t, int64_t> want;
  ASSERT_TRUE(db_->ForEachEvent([&](const Event& e) {
    ++want[e.timestamp / 86400];
    return Status::OK();
  }).ok());
  std::map<int64_t, int64_t> got;
  int64_t previous = -1;
  for (const auto& d : j["days"]) {
    const int64_t day = d["day"];
    EXPECT_GT(day, previous) << "days in ascending order";
    previous = day;
    got[day] = d["events"];
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(j["total"], db_->GetStats()->events);
  ASSERT_FALSE(j["days"].empty());
  // "date" is the UTC day: day 19675 is 2023-11-14.
  r = Send("POST", "/v1/events", R"({"events":[{"user":"u1","item":"i1","ts":1700000000}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  j = json::parse(Send("GET", "/v1/stats/events_per_day").body);
  bool found = false;
  for (const auto& d : j["days"]) {
    if (d["day"] == 19675) found = d["date"] == "2023-11-14" && d["events"] == want[19675] + 1;
  }
  EXPECT_TRUE(found) << j.dump();
  EXPECT_EQ(Send("GET", "/v1/stats/events_per_day?x=1").status, 400);
  EXPECT_EQ(Send("POST", "/v1/stats/events_per_day").status, 405);
}

// The overview's time-range picker: from/to (Unix seconds, [from, to)) keep
// the days that overlap the range, whole; a reversed, empty or out-of-range
// range, or one that is not a number, is 400 (here and on the history route).
TEST_F(ServerTest, EventsPerDayAndHistoryTakeAValidatedTimeRange) {
  std::vector<Event> events;
  for (int day = 0; day < 5; ++day) {  // UTC days 25000 (2038-06-13) .. 25004, 2 events each,
                                       // after every event of the fixture
    for (int k = 0; k < 2; ++k) {
      Event e;
      e.user = "ranger", e.item = "r" + std::to_string(k), e.type = "view";
      e.timestamp = (25000 + day) * int64_t{86400} + 3600 * (1 + k);
      events.push_back(e);
    }
  }
  ASSERT_TRUE(db_->RecordEvents({}, events).ok());
  StartServer();
  auto days_of = [](const json& j) {
    std::vector<int64_t> days;
    for (const auto& d : j["days"]) days.push_back(d["day"]);
    return days;
  };
  const int64_t d1 = 25001 * int64_t{86400};
  // Two whole days: [start of 19676, start of 19678).
  HttpResponse r = Send("GET", "/v1/stats/events_per_day?from=" + std::to_string(d1) +
                                   "&to=" + std::to_string(d1 + 2 * 86400));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(days_of(j), (std::vector<int64_t>{25001, 25002})) << r.body;
  EXPECT_EQ(j["total"], 4);
  EXPECT_EQ(j["from"], d1);
  // A range inside one day keeps that whole day; from alone / to alone cut one side.
  j = json::parse(Send("GET", "/v1/stats/events_per_day?from=" + std::to_string(d1 + 10) +
                                  "&to=" + std::to_string(d1 + 20)).body);
  EXPECT_EQ(days_of(j), (std::vector<int64_t>{25001}));
  j = json::parse(Send("GET", "/v1/stats/events_per_day?from=" + std::to_string(d1 + 86400)).body);
  EXPECT_EQ(days_of(j), (std::vector<int64_t>{25002, 25003, 25004}));
  j = json::parse(Send("GET", "/v1/stats/events_per_day?to=" + std::to_string(d1)).body);
  ASSERT_FALSE(j["days"].empty());
  EXPECT_EQ(j["days"].back()["day"], 25000);  // the fixture's days and 25000, nothing later
  EXPECT_EQ(j["days"].back()["date"], "2038-06-13");
  // The history route takes the same range (its events, not days).
  j = json::parse(Send("GET", "/v1/users/ranger/history?order=newest&from=" + std::to_string(d1) +
                                  "&to=" + std::to_string(d1 + 86400)).body);
  EXPECT_EQ(j["total"], 2) << j.dump();
  // Bad ranges: reversed, empty, negative, past the last timestamp, not a number.
  for (const std::string route : {"/v1/stats/events_per_day?", "/v1/users/ranger/history?"}) {
    for (const std::string bad :
         {"from=200&to=100", "from=100&to=100", "from=-1", "to=-5", "to=253402300801",
          "from=abc", "from=1.5", "to="}) {
      r = Send("GET", route + bad);
      EXPECT_EQ(r.status, 400) << route << bad << " " << r.body;
    }
  }
  r = Send("GET", "/v1/stats/events_per_day?from=200&to=100");
  EXPECT_NE(ErrorMessage(r).find("from: must be before to"), std::string::npos) << r.body;
}

TEST_F(ServerTest, SpacesAndTheirNeighboursAreTheDbsSearch) {
  StartServer();
  HttpResponse r = Send("GET", "/v1/spaces");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["spaces"], json::array());
  SpaceOptions so;
  so.name = "tiny";
  so.dimension = 3;
  ASSERT_TRUE(db_->CreateSpace(so).ok());
  std::vector<VectorRecord> vecs;
  for (int i = 1; i <= 8; ++i) {
    vecs.push_back({"i" + std::to_string(i), {1.0f, static_cast<float>(i), 0.5f * (i % 3)}});
  }
  ASSERT_TRUE(db_->PutVectors({}, "tiny", EntityKind::kItem, vecs).ok());
  r = Send("GET", "/v1/spaces");
  ASSERT_EQ(r.status, 200) << r.body;
  json spaces = json::parse(r.body)["spaces"];
  ASSERT_EQ(spaces.size(), 1u);
  EXPECT_EQ(spaces[0]["name"], "tiny");
  EXPECT_EQ(spaces[0]["dimension"], 3);
  EXPECT_EQ(spaces[0]["metric"], "cosine");
  EXPECT_EQ(spaces[0]["item_vectors"], 8);

  r = Send("GET", "/v1/spaces/tiny/neighbors?item=i3&k=4");
  ASSERT_EQ(r.status, 200) << r.body;
  json n = json::parse(r.body);
  auto direct = db_->SearchSimilarToItem("tiny", "i3", 4);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(n["items"].size(), direct->size());
  ASSERT_EQ(direct->size(), 4u);
  for (size_t i = 0; i < direct->size(); ++i) {
    EXPECT_EQ(n["items"][i]["id"], (*direct)[i].id);
    EXPECT_FLOAT_EQ(n["items"][i]["score"].get<float>(), (*direct)[i].score);
    EXPECT_NE(n["items"][i]["id"], "i3");
  }
  EXPECT_EQ(Send("GET", "/v1/spaces/nope/neighbors?item=i3").status, 404);
  EXPECT_EQ(Send("GET", "/v1/spaces/tiny/neighbors?item=i40").status, 404);  // no vector
  EXPECT_EQ(Send("GET", "/v1/spaces/tiny/neighbors").status, 400);
  EXPECT_EQ(Send("GET", "/v1/spaces/tiny/neighbors?item=i3&color=red").status, 400);
}

TEST_F(ServerTest, AuditLogListsPrivacyOperationsNewestLast) {
  StartServer();
  HttpResponse r = Send("GET", "/v1/audit");
  ASSERT_EQ(r.status, 200) << r.body;
  const size_t before = json::parse(r.body)["entries"].size();
  ASSERT_EQ(Send("GET", "/v1/users/u1/export").status, 200);
  ASSERT_EQ(Send("POST", "/v1/forget", R"({"user":"u2"})").status, 200);
  r = Send("GET", "/v1/audit");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j["entries"].size(), before + 2);
  EXPECT_EQ(j["total"], before + 2);
  auto log = db_->ReadAuditLog();
  ASSERT_TRUE(log.ok());
  for (size_t i = 0; i < log->size(); ++i) {
    EXPECT_EQ(j["entries"][i]["sequence"], (*log)[i].sequence);
    EXPECT_EQ(j["entries"][i]["operation"], (*log)[i].operation);
    EXPECT_EQ(j["entries"][i]["subject"], (*log)[i].subject);
  }
  EXPECT_EQ(j["entries"][before]["operation"], "export");
  EXPECT_EQ(j["entries"][before + 1]["operation"], "forget");
  // No id in the log: the subject is a keyed hash.
  EXPECT_EQ(r.body.find("\"u2\""), std::string::npos);
  j = json::parse(Send("GET", "/v1/audit?limit=1").body);
  ASSERT_EQ(j["entries"].size(), 1u);
  EXPECT_EQ(j["entries"][0]["operation"], "forget");
  EXPECT_EQ(Send("GET", "/v1/audit?limit=-1").status, 400);
}

TEST_F(ServerTest, ModelIsTheServingModelsTrainingRun) {
  StartServer();
  HttpResponse r = Send("GET", "/v1/model");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  auto report = db_->GetModelReport();
  ASSERT_TRUE(report.ok());
  ASSERT_NE(report->model_version, 0u);
  EXPECT_EQ(j["model_version"], report->model_version);
  EXPECT_EQ(j["model_version"], db_->GetStats()->model_version);
  EXPECT_EQ(j["trained_at"], report->trained_at);
  EXPECT_GT(j["trained_at"].get<int64_t>(), 1600000000);  // the wall clock, not a duration
  EXPECT_DOUBLE_EQ(j["seconds"].get<double>(), report->seconds);
  EXPECT_EQ(j["events"], report->events);
  ASSERT_EQ(j["weights"].size(), report->weights.size());
  for (const auto& [name, w] : report->weights) EXPECT_DOUBLE_EQ(j["weights"][name].get<double>(), w);
  ASSERT_EQ(j["seconds_by_recommender"].size(), report->seconds_by_recommender.size());
  EXPECT_TRUE(j["seconds_by_recommender"].contains("blend"));
  EXPECT_EQ(j["validation_ndcg"], 0.0) << "SetUp trains with learn_weights off";
  // A learning Train through the API: the route follows it.
  r = Send("POST", "/v1/train", R"({"ials_iterations":2})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json trained = json::parse(r.body);
  j = json::parse(Send("GET", "/v1/model").body);
  EXPECT_EQ(j["model_version"], trained["model_version"]);
  EXPECT_GT(j["validation_ndcg"].get<double>(), 0.0);
  EXPECT_EQ(j["weights"], trained["weights"]);
  EXPECT_EQ(Send("GET", "/v1/model?x=1").status, 400);
  EXPECT_EQ(Send("POST", "/v1/model").status, 405);
}

TEST_F(ServerTest, StatsCarryTheRetentionPolicyAndTheLastSweep) {
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  Options o;
  o.background_threads = 0;
  o.retention.ttl_seconds_by_type["dislike"] = 30 * 86400;  // none here: nothing expires
  o.retention.max_events_per_user = 500;
  o.retention.sweep_interval_seconds = 3600;
  auto db = DB::Open(o, dir_.Sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = std::move(db).value();
  StartServer();
  json j = json::parse(Send("GET", "/v1/stats").body);
  EXPECT_EQ(j["retention"]["ttl_seconds_by_type"]["dislike"], 30 * 86400) << j.dump();
  EXPECT_EQ(j["retention"]["max_events_per_user"], 500);
  EXPECT_EQ(j["retention"]["sweep_interval_seconds"], 3600);
  EXPECT_EQ(j["retention"]["delete_inactive_users_after_days"], 0);
  EXPECT_EQ(j["last_retention_sweep"], 0) << "never swept";
  const int64_t before = static_cast<int64_t>(::time(nullptr));
  ASSERT_TRUE(db_->SweepRetention().ok());
  const int64_t after = static_cast<int64_t>(::time(nullptr));
  auto log = db_->ReadAuditLog();
  ASSERT_TRUE(log.ok());
  ASSERT_FALSE(log->empty());
  ASSERT_EQ(log->back().operation, "retention_sweep");
  j = json::parse(Send("GET", "/v1/stats").body);
  const int64_t swept = j["last_retention_sweep"];
  EXPECT_GE(swept, before) << j.dump();
  EXPECT_LE(swept, after);
  EXPECT_LE(std::abs(swept - log->back().timestamp), 1) << "the audit entry's time";
  EXPECT_EQ(db_->GetStats()->last_retention_sweep, swept);
  EXPECT_EQ(db_->GetStats()->retention.max_events_per_user, 500);
}

TEST_F(ServerTest, BackupsAreListedCreatedAndVerified) {
  StartServer();
  EXPECT_EQ(Send("GET", "/v1/snapshots").status, 409);  // no --backup-dir
  EXPECT_EQ(Send("POST", "/v1/snapshots/snapshot-000001/verify").status, 409);
  server_.reset();
  ServerOptions o;
  o.backup_dir = dir_.Sub("backups");
  StartServer(o);
  HttpResponse r = Send("GET", "/v1/snapshots");
  ASSERT_EQ(r.status, 200) << r.body;  // the directory does not exist yet
  EXPECT_EQ(json::parse(r.body)["snapshots"], json::array());
  r = Send("POST", "/v1/snapshots");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string name = json::parse(r.body)["name"];
  r = Send("GET", "/v1/snapshots");
  ASSERT_EQ(r.status, 200) << r.body;
  json list = json::parse(r.body)["snapshots"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], name);
  EXPECT_GT(list[0]["files"].get<int64_t>(), 0);
  r = Send("POST", "/v1/snapshots/" + name + "/verify");
  ASSERT_EQ(r.status, 200) << r.body;
  json v = json::parse(r.body);
  EXPECT_EQ(v["ok"], true) << r.body;
  EXPECT_GT(v["files"].get<int64_t>(), 0);
  // Damage one file of the snapshot: verify names it.
  std::string victim;
  for (const auto& e : std::filesystem::recursive_directory_iterator(o.backup_dir + "/" + name)) {
    if (e.is_regular_file() && e.path().extension() == ".sst") victim = e.path().string();
  }
  ASSERT_FALSE(victim.empty());
  std::filesystem::permissions(victim, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('\x5a');
    f.put('\x5b');
  }
  r = Send("POST", "/v1/snapshots/" + name + "/verify");
  ASSERT_EQ(r.status, 200) << r.body;
  v = json::parse(r.body);
  EXPECT_EQ(v["ok"], false) << r.body;
  ASSERT_FALSE(v["problems"].empty());
  EXPECT_NE(victim.find(v["problems"][0]["file"].get<std::string>()), std::string::npos) << r.body;
  EXPECT_EQ(Send("POST", "/v1/snapshots/snapshot-999999/verify").status, 404);
  EXPECT_EQ(Send("POST", "/v1/snapshots/..%2F..%2Fdb/verify").status, 400);
  EXPECT_EQ(Send("POST", "/v1/snapshots/db/verify").status, 400);
  r = Send("DELETE", "/v1/snapshots");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD, POST");
}

// A stand-in evaluation that reports progress and waits to be released, so
// the test sees the job running.
struct HeldEval {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool fail = false;
  std::atomic<int> calls{0};
  StatusOr<EvaluationReport> operator()(const EvaluateOptions& o) {
    ++calls;
    if (o.progress) o.progress("fit mostpop", 1, 3);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    release = false;
    if (fail) return Status::InvalidArgument("eval: unknown recommender 'x'");
    EvaluationReport r;
    r.users = 40;
    r.recommenders["mostpop"].ndcg_at_10 = 0.25;
    r.sweep_knob = "diversity";
    r.sweep.push_back({0.5, EvalMetrics{}});
    return r;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }
};

TEST_F(ServerTest, EvalRunsInTheBackgroundOneAtATimeWhileTheServerAnswers) {
  auto held = std::make_shared<HeldEval>();
  ServerOptions o;
  o.threads = 1;  // one request thread: an eval on it would block every request
  o.evaluate = [held](const EvaluateOptions& e) { return (*held)(e); };
  StartServer(o);
  auto poll = [&] { return Send("GET", "/v1/eval"); };
  EXPECT_EQ(json::parse(poll().body)["state"], "idle");
  HttpResponse r = Send("POST", "/v1/eval",
                        R"({"recommenders":["mostpop"],"diversity":0.2,)"
                        R"("calibration_recent_items":10})");
  ASSERT_EQ(r.status, 202) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["job"], 1);
  EXPECT_EQ(j["request"]["recommenders"], json::array({"mostpop"}));
  EXPECT_EQ(j["request"]["care"]["diversity"], 0.2);
  EXPECT_EQ(j["request"]["care"]["calibration_recent_items"], 10);
  // While it runs: other routes answer, a second start is 409, progress shows.
  EXPECT_EQ(Send("GET", "/v1/stats").status, 200);
  r = Send("POST", "/v1/eval", "");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(ErrorMessage(r).find("running"), std::string::npos);
  for (int i = 0; i < 200 && json::parse(poll().body)["steps_done"] != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  j = json::parse(poll().body);
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["step"], "fit mostpop");
  EXPECT_EQ(j["steps_done"], 1);
  EXPECT_EQ(j["steps_total"], 3);
  EXPECT_GE(j["seconds"].get<double>(), 0.0);
  held->Release();
  j = WaitForEval(poll);
  EXPECT_EQ(j["state"], "done") << j.dump();
  EXPECT_EQ(j["report"]["recommenders"]["mostpop"]["ndcg@10"], 0.25);
  EXPECT_EQ(j["report"]["sweep_knob"], "diversity");
  EXPECT_EQ(j["report"]["sweep"][0]["value"], 0.5);
  // The next job may start; a failure is reported with the DB's error.
  held->fail = true;
  ASSERT_EQ(Send("POST", "/v1/eval", R"({"recommenders":["x"]})").status, 202);
  held->Release();
  j = WaitForEval(poll);
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["job"], 2);
  EXPECT_EQ(j["error"]["code"], "invalid_argument");
  EXPECT_EQ(held->calls.load(), 2);
  // Malformed requests never start a job.
  EXPECT_EQ(Send("POST", "/v1/eval", R"({"recommender":["mostpop"]})").status, 400);
  EXPECT_EQ(Send("POST", "/v1/eval", R"({"sweep":"diversity=0:1:0.1"})").status, 400);
  EXPECT_EQ(Send("POST", "/v1/eval", R"({"sweep":{"knob":"diversity","step":"x"}})").status, 400);
  EXPECT_EQ(Send("POST", "/v1/eval", R"({"threads":0})").status, 400);
  EXPECT_EQ(Send("POST", "/v1/eval", R"({"calibration_recent_items":1001})").status, 400);
  EXPECT_EQ(Send("GET", "/v1/eval?x=1").status, 400);
  EXPECT_EQ(held->calls.load(), 2);
  r = Send("PUT", "/v1/eval");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD, POST");
}

// POST /v1/eval/cancel: the running job is asked to stop; the evaluator sees
// EvaluateOptions::cancelled at its next checkpoint, and the job reports
// "cancelled". Nothing running, or another job's number, is 409.
TEST_F(ServerTest, EvalCancelStopsTheJobAtItsNextCheckpoint) {
  // A stand-in that checks for cancellation between steps, as DB::Evaluate does.
  std::atomic<bool> in_step{false};
  std::atomic<int> steps_run{0};
  ServerOptions o;
  o.evaluate = [&](const EvaluateOptions& e) -> StatusOr<EvaluationReport> {
    for (int step = 0; step < 2000; ++step) {  // 2000 steps of 10 ms: 20 s if never cancelled
      if (e.cancelled && e.cancelled()) return Status::Aborted("eval: cancelled");
      if (e.progress) e.progress("step " + std::to_string(step), step, 2000);
      in_step = true;
      ++steps_run;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return EvaluationReport{};
  };
  StartServer(o);
  auto poll = [&] { return Send("GET", "/v1/eval"); };
  HttpResponse r = Send("POST", "/v1/eval/cancel", "");
  EXPECT_EQ(r.status, 409) << r.body;  // idle: nothing to cancel
  EXPECT_NE(ErrorMessage(r).find("no evaluation is running"), std::string::npos) << r.body;
  ASSERT_EQ(Send("POST", "/v1/eval", "").status, 202);
  for (int i = 0; i < 500 && !in_step; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(Send("POST", "/v1/eval/cancel", R"({"job":7})").status, 409);  // not the running one
  EXPECT_EQ(Send("POST", "/v1/eval/cancel", R"({"jobs":1})").status, 400);
  EXPECT_EQ(Send("POST", "/v1/eval/cancel", R"({"job":"1"})").status, 400);
  EXPECT_EQ(Send("GET", "/v1/eval/cancel").status, 405);
  const auto t0 = std::chrono::steady_clock::now();
  r = Send("POST", "/v1/eval/cancel", R"({"job":1})");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["job"], 1);
  if (j["state"] == "running") {
    EXPECT_EQ(j["cancelling"], true) << r.body;
  }
  j = WaitForEval(poll);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(j["state"], "cancelled") << j.dump();
  EXPECT_EQ(j["error"]["code"], "aborted") << j.dump();
  EXPECT_FALSE(j.contains("report"));
  EXPECT_LT(steps_run.load(), 1000) << "the evaluator ran on after the cancel";
  EXPECT_LT(waited, 5.0) << "stopped within a step, not at the end";
  EXPECT_EQ(Send("POST", "/v1/eval/cancel", "").status, 409);  // nothing runs now
  // The next job starts and runs to its end.
  ASSERT_EQ(Send("POST", "/v1/eval", "").status, 202);
  j = json::parse(poll().body);
  EXPECT_EQ(j["job"], 2);
  EXPECT_FALSE(j.contains("cancelling"));
  ASSERT_EQ(Send("POST", "/v1/eval/cancel", "").status, 200);  // no job number: the running one
  EXPECT_EQ(WaitForEval(poll)["state"], "cancelled");
}

// The real evaluator honours the checkpoint: DB::Evaluate with `cancelled`
// true from the start returns Aborted before fitting anything, and one that
// turns true after the first step stops there.
TEST_F(ServerTest, DbEvaluateStopsAtTheCheckpointWhenCancelled) {
  EvaluateOptions eo;
  eo.threads = 1;
  eo.recommenders = {"mostpop", "itemknn"};
  std::vector<std::string> steps;
  eo.progress = [&](const std::string& step, int, int) { steps.push_back(step); };
  eo.cancelled = [] { return true; };
  auto r = db_->Evaluate(eo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted) << r.status().ToString();
  EXPECT_TRUE(steps.empty());
  eo.cancelled = [&] { return !steps.empty(); };  // after the first step
  r = db_->Evaluate(eo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_EQ(steps, (std::vector<std::string>{"fit mostpop"}));
  eo.cancelled = [] { return false; };
  EXPECT_TRUE(db_->Evaluate(eo).ok());
}

TEST_F(ServerTest, EvalOverHttpIsTheDbsEvaluateWithASweep) {
  StartServer();
  const std::string body =
      R"({"recommenders":["mostpop"],"threads":1,)"
      R"("sweep":{"knob":"diversity","from":0,"to":1,"step":0.5}})";
  HttpResponse r = Send("POST", "/v1/eval", body);
  ASSERT_EQ(r.status, 202) << r.body;
  json j = WaitForEval([&] { return Send("GET", "/v1/eval"); });
  ASSERT_EQ(j["state"], "done") << j.dump();
  // mostpop, and fused (a sweep re-ranks the fused list); 3 sweep points.
  EXPECT_EQ(j["steps_total"], 2 + 3);
  EXPECT_EQ(j["steps_done"], 5);
  const json& report = j["report"];
  ASSERT_TRUE(report["recommenders"].contains("mostpop"));
  ASSERT_TRUE(report["recommenders"].contains("fused"));
  ASSERT_EQ(report["sweep"].size(), 3u);
  EXPECT_EQ(report["sweep_knob"], "diversity");
  EvaluateOptions eo;
  eo.threads = 1;
  eo.recommenders = {"mostpop"};
  eo.sweep = EvaluateOptions::Sweep{"diversity", 0, 1, 0.5};
  auto direct = db_->Evaluate(eo);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_DOUBLE_EQ(report["recommenders"]["mostpop"]["ndcg@10"].get<double>(),
                   direct->recommenders["mostpop"].ndcg_at_10);
  EXPECT_EQ(report["test_users"], direct->test_users);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(report["sweep"][i]["value"].get<double>(), direct->sweep[i].value);
    EXPECT_DOUBLE_EQ(report["sweep"][i]["ild@10"].get<double>(), direct->sweep[i].metrics.ild_at_10);
  }
  // An unknown knob is the DB's InvalidArgument, reported by the job.
  ASSERT_EQ(Send("POST", "/v1/eval", R"({"sweep":{"knob":"colour"}})").status, 202);
  j = WaitForEval([&] { return Send("GET", "/v1/eval"); });
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["error"]["code"], "invalid_argument");
}


// Every route of the router (tools/serve/request.h) has its path and
// methods in openapi.yaml, and answers something other than 404.
// The console's timeline: the history newest first, a page at a time, each
// event with its type, item, value and context.
TEST_F(ServerTest, HistoryPagesNewestFirstWithContext) {
  std::vector<Event> events;
  for (int i = 0; i < 5; ++i) {
    Event e;
    e.user = "timeline", e.item = "i" + std::to_string(i + 1), e.timestamp = 1700000000 + i * 60;
    e.type = i == 2 ? "purchase" : "view";
    e.context = {{"device", i % 2 ? "mobile" : "desktop"}};
    events.push_back(e);
  }
  ASSERT_TRUE(db_->RecordEvents({}, events).ok());
  StartServer();
  json j = json::parse(Send("GET", "/v1/users/timeline/history?order=newest&limit=2").body);
  EXPECT_EQ(j["order"], "newest");
  EXPECT_EQ(j["total"], 5);
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["offset"], 0);
  EXPECT_EQ(j["next_offset"], 2);
  ASSERT_EQ(j["events"].size(), 2u);
  EXPECT_EQ(j["events"][0]["item"], "i5");
  EXPECT_EQ(j["events"][0]["ts"], 1700000240);
  EXPECT_EQ(j["events"][0]["context"]["device"], "desktop");
  EXPECT_EQ(j["events"][1]["item"], "i4");
  j = json::parse(Send("GET", "/v1/users/timeline/history?order=newest&limit=2&offset=2").body);
  ASSERT_EQ(j["events"].size(), 2u);
  EXPECT_EQ(j["events"][0]["item"], "i3");
  EXPECT_EQ(j["events"][0]["type"], "purchase");
  EXPECT_EQ(j["next_offset"], 4);
  j = json::parse(Send("GET", "/v1/users/timeline/history?order=newest&limit=2&offset=4").body);
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["item"], "i1");
  EXPECT_FALSE(j.contains("next_offset")) << j.dump();
  // Oldest first with an offset; a range narrows the total.
  j = json::parse(Send("GET", "/v1/users/timeline/history?offset=1&limit=1&from=1700000060").body);
  EXPECT_EQ(j["order"], "oldest");
  EXPECT_EQ(j["total"], 4);
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["item"], "i3");
  // Without order or offset: the document of `recdb history --json`, unchanged.
  j = json::parse(Send("GET", "/v1/users/timeline/history").body);
  EXPECT_EQ(j.size(), 3u) << j.dump();
  EXPECT_EQ(j["events"][0]["item"], "i1");
  EXPECT_EQ(Send("GET", "/v1/users/timeline/history?order=sideways").status, 400);
  EXPECT_EQ(Send("GET", "/v1/users/timeline/history?offset=-1").status, 400);
  EXPECT_EQ(Send("GET", "/v1/users/nobody-here/history?order=newest").status, 404);
}

// Who interacts with an item: counts by type and day always; user ids only
// when the server is told aggregate privacy is off, never by default or with
// count noise on.
TEST_F(ServerTest, ItemInteractionsNameUsersOnlyWithoutAggregatePrivacy) {
  auto record = [](DB* db) {
    Item item;
    item.id = "who-item";
    ASSERT_TRUE(db->UpsertItems({}, {item}).ok());
    std::vector<Event> events;
    auto add = [&](const char* user, const char* type, int64_t ts) {
      Event e;
      e.user = user, e.item = "who-item", e.type = type, e.timestamp = ts;
      events.push_back(e);
    };
    add("who-alpha-7", "view", 1700000000);
    add("who-alpha-7", "purchase", 1700000100);
    add("who-beta-9", "view", 1700090000);  // the next UTC day, and the latest
    ASSERT_TRUE(db->RecordEvents({}, events).ok());
  };
  record(db_.get());
  auto no_ids = [](const std::string& body) {
    return body.find("who-alpha-7") == std::string::npos &&
           body.find("who-beta-9") == std::string::npos;
  };

  ServerOptions open;
  open.aggregate_privacy = false;
  StartServer(open);
  HttpResponse r = Send("GET", "/v1/items/who-item/interactions");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["aggregate_privacy"], false);
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(j["by_type"], json({{"purchase", 1}, {"view", 2}}));
  ASSERT_EQ(j["by_day"].size(), 2u) << r.body;
  EXPECT_EQ(j["by_day"][0]["date"], "2023-11-14");
  EXPECT_EQ(j["by_day"][0]["events"], 2);
  EXPECT_EQ(j["by_day"][0]["by_type"], json({{"purchase", 1}, {"view", 1}}));
  EXPECT_EQ(j["by_day"][1]["events"], 1);
  EXPECT_EQ(j["distinct_users"], 2);
  ASSERT_EQ(j["users"].size(), 2u);
  EXPECT_EQ(j["users"][0]["user"], "who-beta-9");  // latest first
  EXPECT_EQ(j["users"][1]["user"], "who-alpha-7");
  EXPECT_EQ(j["users"][1]["events"], 2);
  EXPECT_EQ(j["users"][1]["last_type"], "purchase");
  EXPECT_EQ(j["users"][1]["last_ts"], 1700000100);
  j = json::parse(Send("GET", "/v1/items/who-item/interactions?users=1").body);
  EXPECT_EQ(j["users"].size(), 1u);
  EXPECT_EQ(j["distinct_users"], 2);
  int64_t stored = 0;  // the fixture's events and these 3: all under the default budget
  ASSERT_TRUE(db_->ForEachEvent([&](const Event&) { return ++stored, Status::OK(); }).ok());
  EXPECT_EQ(j["scan_complete"], true);
  EXPECT_EQ(j["scanned_events"], stored);
  EXPECT_EQ(Send("GET", "/v1/items/who-item/interactions?users=-1").status, 400);
  EXPECT_EQ(Send("GET", "/v1/items/who-item/interactions?scan=-1").status, 400);
  EXPECT_EQ(Send("GET", "/v1/items/who-item/interactions?scan=10000001").status, 400);
  EXPECT_EQ(Send("GET", "/v1/items/who-item/interactions?user=x").status, 400);
  EXPECT_EQ(Send("GET", "/v1/items/no-such-item/interactions").status, 404);
  EXPECT_EQ(Send("POST", "/v1/items/who-item/interactions").status, 405);

  // The default (a caller that does not say): counts only.
  server_.reset();
  StartServer();
  r = Send("GET", "/v1/items/who-item/interactions");
  ASSERT_EQ(r.status, 200) << r.body;
  j = json::parse(r.body);
  EXPECT_EQ(j["aggregate_privacy"], true);
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(j["by_type"], json({{"purchase", 1}, {"view", 2}}));
  EXPECT_FALSE(j.contains("users"));
  EXPECT_FALSE(j.contains("distinct_users"));
  EXPECT_TRUE(no_ids(r.body)) << r.body;

  // A database with count noise: the counts are its (noised) GetItemCounts.
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;
  o.aggregate_privacy.popularity_epsilon = 0.5;
  o.aggregate_privacy.noise_seed = 7;
  auto noisy = DB::Open(o, dir_.Sub("noisy"));
  ASSERT_TRUE(noisy.ok()) << noisy.status().ToString();
  record(noisy->get());
  ServerOptions so;
  so.token = kToken;
  so.popularity_epsilon = 0.5;
  auto server = HttpServer::Start(noisy->get(), so);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = HttpClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok());
  auto nr = (*client)->Send("GET", "/v1/items/who-item/interactions?users=1000", "", kToken);
  ASSERT_TRUE(nr.ok());
  ASSERT_EQ(nr->status, 200) << nr->body;
  j = json::parse(nr->body);
  auto counts = (*noisy)->GetItemCounts("who-item");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(j["total"], counts->total);
  EXPECT_EQ(j["by_type"], json(counts->by_type));
  EXPECT_EQ(j["popularity_epsilon"], 0.5);
  EXPECT_FALSE(j.contains("users"));
  EXPECT_TRUE(no_ids(nr->body)) << nr->body;
  server->reset();
  ASSERT_TRUE((*noisy)->Close().ok());
}

// Without aggregate privacy the users come from a scan of the event log,
// which is keyed user first: the scan reads at most `scan` events (users in
// creation order) and says when that was not all. A full scan would find the
// last user's event; a bounded one must not, and must say it stopped.
TEST_F(ServerTest, ItemInteractionsScanReadsAtMostItsBudget) {
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) {  // user "early" is created first: its events come first
    Event e;
    e.user = "early", e.item = "filler-" + std::to_string(i), e.type = "view";
    e.timestamp = 1700000000 + i;
    events.push_back(e);
  }
  Event late;
  late.user = "late", late.item = "scan-item", late.type = "click", late.timestamp = 1700001000;
  events.push_back(late);
  ASSERT_TRUE(db_->RecordEvents({}, events).ok());
  // "late" is the newest user, so its one event is the last key of the log.
  int64_t stored = 0;
  std::string last_user;
  ASSERT_TRUE(db_->ForEachEvent([&](const Event& e) {
    ++stored, last_user = e.user;
    return Status::OK();
  }).ok());
  ASSERT_EQ(last_user, "late");
  ASSERT_GT(stored, 51);
  const std::string budget = std::to_string(stored - 1);

  ServerOptions open;
  open.aggregate_privacy = false;
  StartServer(open);
  HttpResponse r = Send("GET", "/v1/items/scan-item/interactions?scan=" + budget);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["total"], 1);  // the counters are exact whatever the budget
  EXPECT_EQ(j["scanned_events"], stored - 1);
  EXPECT_EQ(j["scan_complete"], false);
  EXPECT_EQ(j["distinct_users"], 0) << "read past the budget: " << r.body;
  EXPECT_TRUE(j["users"].empty()) << r.body;
  EXPECT_NE(j["note"].get<std::string>().find("scan=" + budget), std::string::npos) << r.body;

  j = json::parse(Send("GET", "/v1/items/scan-item/interactions?scan=" + std::to_string(stored)).body);
  EXPECT_EQ(j["scanned_events"], stored);
  EXPECT_EQ(j["scan_complete"], true);
  ASSERT_EQ(j["users"].size(), 1u) << j.dump();
  EXPECT_EQ(j["users"][0]["user"], "late");

  j = json::parse(Send("GET", "/v1/items/scan-item/interactions?scan=0").body);
  EXPECT_EQ(j["scanned_events"], 0);
  EXPECT_EQ(j["scan_complete"], false);
  EXPECT_EQ(j["total"], 1);
}

TEST_F(ServerTest, EveryRouteIsInTheOpenApiDescription) {
  std::ifstream in(std::string(RECDB_SOURCE_DIR) + "/tools/serve/openapi.yaml");
  ASSERT_TRUE(in.good());
  const std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  struct Route {
    const char* path;      // as in openapi.yaml
    const char* methods;   // lower case, as in openapi.yaml
    const char* example;   // a target reaching it
  };
  const std::vector<Route> routes = {
      {"/v1/health", "get", "/v1/health"},
      {"/v1/stats", "get", "/v1/stats"},
      {"/v1/model", "get", "/v1/model"},
      {"/v1/stats/events_per_day", "get", "/v1/stats/events_per_day"},
      {"/v1/recommend", "get", "/v1/recommend"},
      {"/v1/similar", "get", "/v1/similar"},
      {"/v1/events", "post", "/v1/events"},
      {"/v1/impressions", "post", "/v1/impressions"},
      {"/v1/items", "post", "/v1/items"},
      {"/v1/users", "post", "/v1/users"},
      {"/v1/train", "post", "/v1/train"},
      {"/v1/forget", "post", "/v1/forget"},
      {"/v1/users/{id}/export", "get", "/v1/users/x/export"},
      {"/v1/users/{id}/history", "get", "/v1/users/x/history"},
      {"/v1/users/{id}", "get", "/v1/users/x"},
      {"/v1/items/{id}", "get", "/v1/items/x"},
      {"/v1/items/{id}/interactions", "get", "/v1/items/x/interactions"},
      {"/v1/spaces", "get", "/v1/spaces"},
      {"/v1/spaces/{name}/neighbors", "get", "/v1/spaces/x/neighbors"},
      {"/v1/eval", "get post", "/v1/eval"},
      {"/v1/eval/cancel", "post", "/v1/eval/cancel"},
      {"/v1/audit", "get", "/v1/audit"},
      {"/v1/snapshots", "get post", "/v1/snapshots"},
      {"/v1/snapshots/{name}/verify", "post", "/v1/snapshots/x/verify"},
  };
  for (const auto& r : routes) {
    const std::string key = std::string("\n  ") + r.path + ":\n";
    const size_t at = yaml.find(key);
    ASSERT_NE(at, std::string::npos) << r.path << " is not in openapi.yaml";
    const size_t next = yaml.find("\n  /", at + key.size());
    const std::string block = yaml.substr(at, next == std::string::npos ? std::string::npos : next - at);
    std::istringstream methods(r.methods);
    for (std::string m; methods >> m;) {
      EXPECT_NE(block.find("\n    " + m + ":\n"), std::string::npos) << m << " " << r.path;
      // The router knows it: not "no such route" (a PUT would be 405).
      EXPECT_NE(ParseRequest(m == "get" ? "GET" : "POST", r.example, "").http_status, 404)
          << m << " " << r.example;
    }
  }
}

// POST /v1/impressions stores the list with its context and propensities
// (the export shows them); a malformed or invalid body is 400 and stores
// nothing; an unknown user is 404.
TEST_F(ServerTest, ImpressionsAreRecordedWithContextAndPropensities) {
  StartServer();
  auto impressions_of_u1 = [&] {
    HttpResponse e = Send("GET", "/v1/users/u1/export");
    EXPECT_EQ(e.status, 200) << e.body;
    return json::parse(e.body)["impressions"];
  };
  const size_t before = impressions_of_u1().size();
  HttpResponse r = Send("POST", "/v1/impressions",
                        R"({"user":"u1","items":["i1","i2"],"timestamp":1700200000,)"
                        R"("context":{"surface":"home"},"propensities":[0.5,0.25]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["items"], 2);
  json shown = impressions_of_u1();
  ASSERT_EQ(shown.size(), before + 1);
  bool found = false;
  for (const auto& imp : shown) {
    if (imp["timestamp"] != 1700200000) continue;
    found = true;
    EXPECT_EQ(imp["items"], json({"i1", "i2"}));
    EXPECT_EQ(imp["context"], json({{"surface", "home"}}));
    EXPECT_EQ(imp["propensities"], json({0.5, 0.25}));
  }
  EXPECT_TRUE(found);
  for (const char* bad : {
           R"({"user":"u1","items":["i1"],"propensities":[1.5]})",
           R"({"user":"u1","items":["i1","i2"],"propensities":[0.5]})",
           R"({"user":"u1","items":["i1"],"propensities":["x"]})",
           R"({"user":"u1","items":["no-such-item"]})",
           R"({"user":"u1","items":"i1"})",
           R"({"user":"u1"})",
           R"({"user":"u1","items":["i1"],"timestamp":"now"})",
           R"({"user":"u1","items":["i1"],"context":{"surface":1}})",
           R"({"user":"u1","items":["i1"],"propensity":[1]})",
       }) {
    HttpResponse b = Send("POST", "/v1/impressions", bad);
    EXPECT_EQ(b.status, 400) << bad << " -> " << b.body;
    EXPECT_FALSE(ErrorMessage(b).empty()) << bad;
  }
  EXPECT_EQ(impressions_of_u1().size(), before + 1);
  EXPECT_EQ(Send("POST", "/v1/impressions", R"({"user":"nobody-here","items":["i1"]})").status,
            404);
  EXPECT_EQ(Send("GET", "/v1/impressions").status, 405);
}

}  // namespace
}  // namespace recdb::serve
