// Embedding providers: the built-in text model and an OpenAI-compatible
// endpoint (a loopback fake server).
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/embed/text_embedder.h"
#include "spaces_test_util.h"

namespace recdb::test {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

const char* kTitles[] = {"Toy Story (1995)", "Toy Story 2 (1999)", "GoldenEye (1995)",
                         "Heat (1995)", "Sense and Sensibility (1995)", ""};
const char* kGenres[] = {"Animation", "Animation", "Action", "Action", "Drama", ""};

class SpacesEmbedTest : public SpacesTest {
 protected:
  void SetUp() override {
    OpenDb();
    std::vector<Item> items;
    for (size_t i = 0; i < std::size(kTitles); ++i) {
      Item it;
      it.id = "m" + std::to_string(i);
      it.title = kTitles[i];
      if (*kGenres[i] != '\0') it.categories = {kGenres[i]};
      items.push_back(it);
    }
    ASSERT_TRUE(db_->UpsertItems(WriteOptions{}, items).ok());
  }
};

TEST_F(SpacesEmbedTest, BuiltinTextModelEmbedsEveryItemAndStoresTheModel) {
  SpaceOptions o = Space("text", 64);
  o.model_name = "recdb-text";
  ASSERT_TRUE(db_->CreateSpace(o).ok());
  int64_t last_done = -1;
  auto report = spaces_->EmbedItemsWithTextModel(
      "text", [&](int64_t done, int64_t total) {
        EXPECT_LE(done, total);
        last_done = done;
      });
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items, 6);
  EXPECT_EQ(report->embedded, 5);
  EXPECT_EQ(report->skipped_empty, 1);  // m5 has no text
  EXPECT_EQ(last_done, 5);
  EXPECT_EQ(db_->DescribeSpace("text")->item_vectors, 5);

  // The stored model reproduces the stored vectors.
  auto bytes = spaces_->TextModelBytes("text");
  ASSERT_TRUE(bytes.ok());
  auto model = TextEmbedder::Load(*bytes);
  ASSERT_TRUE(model.ok());
  auto v = db_->GetVector("text", EntityKind::kItem, "m1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, model->Embed("Toy Story 2 (1999)\nAnimation"));

  auto similar = Api()->SearchSimilarToItem("text", "m0", 1);
  ASSERT_TRUE(similar.ok());
  ASSERT_EQ(similar->size(), 1u);
  EXPECT_EQ((*similar)[0].id, "m1");

  // The model survives a reopen; a dropped space takes it along.
  Reopen();
  EXPECT_TRUE(spaces_->TextModelBytes("text").ok());
  ASSERT_TRUE(db_->DropSpace("text").ok());
  ASSERT_TRUE(db_->CreateSpace(o).ok());
  EXPECT_TRUE(spaces_->TextModelBytes("text").status().IsNotFound());
}

TEST_F(SpacesEmbedTest, BuiltinTextModelNeedsASupportedDimension) {
  ASSERT_TRUE(db_->CreateSpace(Space("tiny", 4)).ok());
  EXPECT_TRUE(spaces_->EmbedItemsWithTextModel("tiny").status().IsInvalidArgument());
  EXPECT_TRUE(spaces_->EmbedItemsWithTextModel("nope").status().IsNotFound());
}

// Answers /v1/embeddings with [len(text), first byte, 1] per input; request
// number `fail_at` gets HTTP 400.
class FakeServer {
 public:
  explicit FakeServer(int fail_at = -1)
      : fail_at_(fail_at), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    beast::error_code ec;
    tcp::socket s(io_);
    s.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

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
      const int n = requests_++;
      http::response<http::string_body> res{http::status::ok, 11};
      if (n == fail_at_) {
        res.result(http::status::bad_request);
        res.body() = R"({"error":"no"})";
      } else {
        auto in = nlohmann::json::parse(req.body());
        nlohmann::json data = nlohmann::json::array();
        int i = 0;
        for (const auto& t : in["input"]) {
          std::string s = t.get<std::string>();
          data.push_back({{"index", i++}, {"embedding", {double(s.size()), double(s[0]), 1.0}}});
        }
        res.body() = nlohmann::json{{"data", data}}.dump();
      }
      res.set(http::field::content_type, "application/json");
      res.prepare_payload();
      http::write(sock, res, ec);
      sock.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  int fail_at_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

EndpointEmbedOptions Endpoint(const std::string& url, size_t batch) {
  EndpointEmbedOptions o;
  o.endpoint.url = url;
  o.endpoint.model = "m";
  o.endpoint.max_retries = 0;
  o.endpoint.timeout_ms = 5000;
  o.fields = {"title", "categories"};
  o.batch_size = batch;
  return o;
}

TEST_F(SpacesEmbedTest, EndpointEmbedsInBatchesWithProgress) {
  FakeServer server;
  ASSERT_TRUE(db_->CreateSpace(Space("remote", 3, Metric::kL2)).ok());
  std::vector<int64_t> progress;
  auto report = spaces_->EmbedItemsWithEndpoint(
      "remote", Endpoint(server.url(), 2), [&](int64_t done, int64_t) { progress.push_back(done); });
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->embedded, 5);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(progress, (std::vector<int64_t>{2, 4, 5}));
  const std::string text = "Heat (1995)\nAction";
  EXPECT_EQ(*db_->GetVector("remote", EntityKind::kItem, "m3"),
            (std::vector<float>{float(text.size()), float('H'), 1.0f}));
}

TEST_F(SpacesEmbedTest, EndpointErrorsAreClearAndKeepStoredBatches) {
  FakeServer server(/*fail_at=*/1);
  ASSERT_TRUE(db_->CreateSpace(Space("remote", 3, Metric::kL2)).ok());
  auto report = spaces_->EmbedItemsWithEndpoint("remote", Endpoint(server.url(), 2));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("items 3-4"), std::string::npos)
      << report.status().ToString();
  EXPECT_EQ(db_->DescribeSpace("remote")->item_vectors, 2);  // the first batch stays

  // Wrong dimension from the model: InvalidArgument, nothing of the batch stored.
  ASSERT_TRUE(db_->CreateSpace(Space("wide", 8)).ok());
  FakeServer ok_server;
  auto wide = spaces_->EmbedItemsWithEndpoint("wide", Endpoint(ok_server.url(), 2));
  EXPECT_TRUE(wide.status().IsInvalidArgument()) << wide.status().ToString();
  EXPECT_EQ(db_->DescribeSpace("wide")->item_vectors, 0);

  EndpointEmbedOptions bad = Endpoint(ok_server.url(), 2);
  bad.fields = {"title", "colour"};
  EXPECT_TRUE(spaces_->EmbedItemsWithEndpoint("remote", bad).status().IsInvalidArgument());
  bad = Endpoint(ok_server.url(), 0);
  EXPECT_TRUE(spaces_->EmbedItemsWithEndpoint("remote", bad).status().IsInvalidArgument());
  EXPECT_EQ(spaces_->EmbedItemsWithEndpoint("remote", Endpoint("http://127.0.0.1:1", 2))
                .status()
                .code(),
            StatusCode::kIOError);
}

}  // namespace
}  // namespace recdb::test
