// Issue 10's bar over HTTP: import ml-100k, train, recommend for user 1,
// forget user 2 (and recommend again) through `/v1/` gives the same items as
// the same steps through the C++ API (same ids, bit-identical scores).
// Skips when ml-100k is absent.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "recdb/db.h"
#include "test_util.h"
#include "tools/import/importer.h"
#include "tools/import/record_json.h"
#include "tools/serve/http_client.h"
#include "tools/serve/http_server.h"

namespace recdb::serve {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::unique_ptr<DB> OpenFresh(const std::string& path) {
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;
  auto db = DB::Open(o, path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

std::vector<std::pair<std::string, double>> Items(const RecommendResponse& r) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& rec : r.items) out.emplace_back(rec.id, rec.score);
  return out;
}

std::vector<std::pair<std::string, double>> Items(const std::string& body) {
  std::vector<std::pair<std::string, double>> out;
  json j = json::parse(body);
  for (const auto& it : j["items"]) out.emplace_back(it["id"], it["score"]);
  return out;
}

TEST(ServeScenarioTest, Ml100kOverHttpMatchesTheCppApi) {
  RECDB_REQUIRE_ML100K(data);
  test::TempDir dir;

  // The C++ API: import, train, recommend for 1, forget 2, recommend again.
  std::unique_ptr<DB> api = OpenFresh(dir.Sub("api"));
  ASSERT_TRUE(api);
  {
    tools::ImportOptions io;
    tools::Importer importer(api.get(), io);
    ASSERT_TRUE(importer.ImportMovieLens(data).ok());
  }
  // The records as JSON bodies, in the order they were created.
  std::vector<std::string> item_bodies, user_bodies, event_bodies;
  auto batcher = [](std::vector<std::string>* bodies, const char* key, size_t per) {
    return [bodies, key, per, batch = ojson::array()](const ojson* j) mutable {
      if (j) batch.push_back(*j);
      if ((!j && !batch.empty()) || batch.size() >= per) {
        bodies->push_back(tools::JsonLine(ojson{{key, batch}}));
        batch = ojson::array();
      }
      return Status::OK();
    };
  };
  auto add_item = batcher(&item_bodies, "items", 2000);
  ASSERT_TRUE(api->ForEachItem([&](const Item& i) {
    auto j = tools::ToJson(i);
    return add_item(&j);
  }).ok());
  ASSERT_TRUE(add_item(nullptr).ok());
  auto add_user = batcher(&user_bodies, "users", 2000);
  ASSERT_TRUE(api->ForEachUser([&](const User& u) {
    auto j = tools::ToJson(u);
    return add_user(&j);
  }).ok());
  ASSERT_TRUE(add_user(nullptr).ok());
  auto add_event = batcher(&event_bodies, "events", 5000);
  ASSERT_TRUE(api->ForEachEvent([&](const Event& e) {
    auto j = tools::ToJson(e);
    return add_event(&j);
  }).ok());
  ASSERT_TRUE(add_event(nullptr).ok());

  ASSERT_TRUE(api->Train().ok());
  RecommendRequest req;
  req.user = "1";
  req.k = 10;
  auto api_before = api->Recommend(req);
  ASSERT_TRUE(api_before.ok()) << api_before.status().ToString();
  ForgetOptions fo;
  fo.retrain = true;
  auto receipt = api->ForgetUser("2", fo);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  auto api_after = api->Recommend(req);
  ASSERT_TRUE(api_after.ok());
  ASSERT_TRUE(api->Close().ok());

  // The same over HTTP, into an empty database.
  std::unique_ptr<DB> db = OpenFresh(dir.Sub("http"));
  ASSERT_TRUE(db);
  ServerOptions so;
  so.token = "scenario";
  auto server = HttpServer::Start(db.get(), so);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = HttpClient::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok());
  auto post = [&](const std::string& target, const std::string& body) {
    auto r = (*client)->Send("POST", target, body, "scenario");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << target << ": " << r->body.substr(0, 300);
    return r.ok() ? r->body : "";
  };
  for (const auto& b : item_bodies) post("/v1/items", b);
  for (const auto& b : user_bodies) post("/v1/users", b);
  for (const auto& b : event_bodies) post("/v1/events", b);
  auto stats = (*client)->Send("GET", "/v1/stats", "", "scenario");
  ASSERT_TRUE(stats.ok());
  json sj = json::parse(stats->body);
  EXPECT_EQ(sj["users"], 943);
  EXPECT_EQ(sj["items"], 1682);
  EXPECT_EQ(sj["events"], 100000);

  post("/v1/train", "{}");
  auto before = (*client)->Send("GET", "/v1/recommend?user=1&k=10", "", "scenario");
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->status, 200) << before->body;
  std::string forgot = post("/v1/forget", R"({"user":"2","retrain":true})");
  json fj = json::parse(forgot);
  EXPECT_EQ(fj["events_removed"], receipt->events_removed);
  EXPECT_EQ(fj["model_retrained"], true);
  auto after = (*client)->Send("GET", "/v1/recommend?user=1&k=10", "", "scenario");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->status, 200) << after->body;
  EXPECT_EQ((*client)->Send("GET", "/v1/users/2/export", "", "scenario").value().status, 404);

  auto expect_same = [](const auto& http, const auto& cpp, const char* when) {
    ASSERT_EQ(http.size(), cpp.size()) << when;
    for (size_t i = 0; i < http.size(); ++i) {
      EXPECT_EQ(http[i].first, cpp[i].first) << when << " rank " << i;
      // JSON carries doubles in round-trip form: the scores are bit-identical.
      EXPECT_EQ(http[i].second, cpp[i].second) << when << " rank " << i;
    }
  };
  expect_same(Items(before->body), Items(*api_before), "before forget");
  expect_same(Items(after->body), Items(*api_after), "after forget");
  EXPECT_EQ(Items(before->body).size(), 10u);

  (*server)->Shutdown();
  (*server)->Wait();
  server->reset();
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace
}  // namespace recdb::serve
