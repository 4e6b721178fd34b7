// EmbeddingsClient against a real loopback HTTP server that speaks the
// OpenAI-compatible /v1/embeddings protocol.
#include "engine/embed/embeddings_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <thread>

namespace recdb {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Answers each request with `respond(request body, request number)`.
class FakeEmbeddingsServer {
 public:
  using Responder = std::function<std::pair<int, std::string>(const std::string&, int)>;
  explicit FakeEmbeddingsServer(Responder respond)
      : respond_(std::move(respond)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeEmbeddingsServer() {
    stop_ = true;
    beast::error_code ec;
    // Wake the blocking accept with one last connection.
    tcp::socket s(io_);
    s.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  std::string last_auth() const { return last_auth_; }

 private:
  void Serve() {
    while (!stop_) {
      tcp::socket sock(io_);
      beast::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) break;
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      if (ec) continue;
      last_auth_ = std::string(req[http::field::authorization]);
      int n = requests_++;
      auto [code, body] = respond_(req.body(), n);
      http::response<http::string_body> res{static_cast<http::status>(code), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = body;
      res.prepare_payload();
      http::write(sock, res, ec);
      sock.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  Responder respond_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::string last_auth_;
  std::thread thread_;
};

// A deterministic "model": [length, first byte, 1].
std::pair<int, std::string> GoodModel(const std::string& body, int) {
  auto req = nlohmann::json::parse(body);
  nlohmann::json data = nlohmann::json::array();
  int i = 0;
  for (const auto& in : req["input"]) {
    std::string s = in.get<std::string>();
    data.push_back({{"index", i++},
                    {"embedding", {double(s.size()), double(s.empty() ? 0 : s[0]), 1.0}}});
  }
  return {200, nlohmann::json{{"object", "list"}, {"data", data}, {"model", req["model"]}}.dump()};
}

EmbeddingEndpoint Endpoint(const std::string& url) {
  EmbeddingEndpoint e;
  e.url = url;
  e.model = "test-model";
  e.timeout_ms = 5000;
  e.initial_backoff_ms = 1;
  return e;
}

TEST(EmbeddingsClientTest, EmbedsABatchInOrder) {
  FakeEmbeddingsServer server(GoodModel);
  auto ep = Endpoint(server.url());
  ep.api_key = "secret";
  auto client = EmbeddingsClient::Create(ep);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ(client->target(), "/v1/embeddings");
  auto out = client->Embed({"ab", "xyz", ""});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[0], (std::vector<float>{2, 'a', 1}));
  EXPECT_EQ((*out)[1], (std::vector<float>{3, 'x', 1}));
  EXPECT_EQ((*out)[2], (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(server.last_auth(), "Bearer secret");
}

TEST(EmbeddingsClientTest, RetriesServerErrors) {
  FakeEmbeddingsServer server([](const std::string& body, int n) {
    if (n < 2) return std::pair<int, std::string>{503, "busy"};
    return GoodModel(body, n);
  });
  auto client = EmbeddingsClient::Create(Endpoint(server.url()));
  ASSERT_TRUE(client.ok());
  auto out = client->Embed({"a"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(server.requests(), 3);
}

TEST(EmbeddingsClientTest, ClientErrorsAreNotRetried) {
  FakeEmbeddingsServer server(
      [](const std::string&, int) { return std::pair<int, std::string>{400, "{\"error\":\"bad model\"}"}; });
  auto client = EmbeddingsClient::Create(Endpoint(server.url()));
  ASSERT_TRUE(client.ok());
  auto out = client->Embed({"a"});
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().IsIOError());
  EXPECT_NE(out.status().message().find("HTTP 400"), std::string::npos);
  EXPECT_EQ(server.requests(), 1);
}

TEST(EmbeddingsClientTest, MalformedResponsesAreCorruption) {
  for (std::string bad : {"not json", "{\"data\": 3}", "{\"data\": [{\"embedding\": [1]}]}",
                          "{\"data\": [{\"embedding\": [1, \"x\"]}, {\"embedding\": [1, 2]}]}",
                          "{\"data\": [{\"embedding\": [1, 2]}, {\"embedding\": [1]}]}"}) {
    FakeEmbeddingsServer server([bad](const std::string&, int) { return std::pair<int, std::string>{200, bad}; });
    auto client = EmbeddingsClient::Create(Endpoint(server.url()));
    ASSERT_TRUE(client.ok());
    auto out = client->Embed({"a", "b"});
    ASSERT_FALSE(out.ok()) << bad;
    EXPECT_TRUE(out.status().IsCorruption()) << bad << " -> " << out.status().ToString();
  }
}

TEST(EmbeddingsClientTest, UnreachableServerIsIOErrorAfterRetries) {
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  auto ep = Endpoint("http://127.0.0.1:" + std::to_string(port));
  ep.max_retries = 1;
  auto client = EmbeddingsClient::Create(ep);
  ASSERT_TRUE(client.ok());
  auto out = client->Embed({"a"});
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().IsIOError()) << out.status().ToString();
}

TEST(EmbeddingsClientTest, RejectsBadUrls) {
  EXPECT_TRUE(EmbeddingsClient::Create(Endpoint("ftp://x")).status().IsInvalidArgument());
  EXPECT_EQ(EmbeddingsClient::Create(Endpoint("https://x")).status().code(), StatusCode::kNotSupported);
  EXPECT_TRUE(EmbeddingsClient::Create(Endpoint("http://h:99999")).status().IsInvalidArgument());
  auto full = EmbeddingsClient::Create(Endpoint("http://h:8080/api/v2/embeddings/"));
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->target(), "/api/v2/embeddings");
  EXPECT_EQ(full->port(), 8080);
}

}  // namespace
}  // namespace recdb
