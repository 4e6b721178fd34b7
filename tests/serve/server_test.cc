// tools/serve/http_server.h over real sockets: an in-process server on a
// random port in front of a real database, called with HttpClient and with
// hand-written bytes.
#include "tools/serve/http_server.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <boost/asio.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tools/import/record_json.h"
#include "tools/import/synthetic_world.h"
#include "tools/serve/http_client.h"

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
    Options o;
    o.create_if_missing = true;
    o.background_threads = 0;
    auto db = DB::Open(o, dir_.Sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    tools::SyntheticWorldOptions wo;
    wo.users = 40;
    wo.items = 60;
    wo.events = 1200;
    tools::SyntheticWorld world(wo);
    std::vector<Item> items;
    ASSERT_TRUE(world.ForEachItem([&](const Item& i) {
      items.push_back(i);
      return Status::OK();
    }).ok());
    ASSERT_TRUE(db_->UpsertItems({}, items).ok());
    std::vector<Event> events;
    ASSERT_TRUE(world.ForEachEvent([&](const Event& e) {
      events.push_back(e);
      return Status::OK();
    }).ok());
    ASSERT_TRUE(db_->RecordEvents({}, events).ok());
    TrainOptions t;
    t.learn_weights = false;
    t.ials_iterations = 3;
    auto trained = db_->Train(t);
    ASSERT_TRUE(trained.ok()) << trained.status().ToString();
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
      {"GET", "/v1/recommend?user=u1&k=5", ""},
      {"GET", "/v1/similar?item=i1&k=5", ""},
      {"POST", "/v1/events", R"({"events":[{"user":"u1","item":"i2","ts":1700000000}]})"},
      {"POST", "/v1/items", R"({"items":[{"id":"new-item"}]})"},
      {"POST", "/v1/users", R"({"users":[{"id":"new-user"}]})"},
      {"POST", "/v1/train", R"({"learn_weights":false})"},
      {"POST", "/v1/forget", R"({"user":"u1"})"},
      {"GET", "/v1/users/u1/export", ""},
      {"POST", "/v1/snapshots", ""},
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

}  // namespace
}  // namespace recdb::serve
