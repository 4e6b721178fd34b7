// The web console's static files (tools/serve/console.h) and the JSON routes
// it added (GET /v1/users/{id}/history, /v1/users/{id}, /v1/items/{id}), over a
// real in-process server. The browser-side behaviour is tested by
// console/e2e (ctest label "browser").
#include "tools/serve/console.h"

#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "serve/synthetic_db.h"
#include "tools/serve/http_client.h"
#include "tools/serve/http_server.h"
#include "tools/serve/request.h"

namespace recdb::serve {
namespace {

using json = nlohmann::json;
constexpr const char* kToken = "console-token";

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::SyntheticDbOptions world;
    world.users = 20;
    world.items = 30;
    world.events = 400;
    world.train = false;
    auto db = test::OpenSyntheticDb(dir_.Sub("db"), world);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ServerOptions so;
    so.token = kToken;
    auto s = HttpServer::Start(db_.get(), so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
  }
  void TearDown() override {
    server_.reset();
    if (db_) {
      ASSERT_TRUE(db_->Close().ok());
    }
  }

  HttpResponse Send(const std::string& method, const std::string& target,
                    const std::string& token = kToken) {
    auto c = HttpClient::Connect("127.0.0.1", server_->port());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return {};
    auto r = (*c)->Send(method, target, "", token);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpResponse{};
  }

  test::TempDir dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ConsoleTest, AssetsAreServedWithoutATokenWithTheirTypeAndAStrictPolicy) {
  ASSERT_GE(kConsoleAssetCount, 3u);
  for (const auto& [target, type] :
       {std::pair<std::string, std::string>{"/console/", "text/html; charset=utf-8"},
        {"/console/index.html", "text/html; charset=utf-8"},
        {"/console/app.js", "text/javascript; charset=utf-8"},
        {"/console/style.css", "text/css; charset=utf-8"}}) {
    HttpResponse r = Send("GET", target, /*token=*/"");
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.headers["content-type"], type) << target;
    EXPECT_EQ(r.headers["content-security-policy"], kConsoleCsp) << target;
    EXPECT_EQ(r.headers["x-content-type-options"], "nosniff") << target;
    EXPECT_FALSE(r.body.empty()) << target;
  }
  // The policy: only this origin, no inline script or style, no framing.
  const std::string csp(kConsoleCsp);
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  EXPECT_EQ(csp.find("http"), std::string::npos);
  // Every embedded file is served byte for byte.
  for (size_t i = 0; i < kConsoleAssetCount; ++i) {
    HttpResponse r = Send("GET", std::string("/console/") + kConsoleAssets[i].path, "");
    EXPECT_EQ(r.status, 200) << kConsoleAssets[i].path;
    EXPECT_EQ(r.body, std::string(reinterpret_cast<const char*>(kConsoleAssets[i].data),
                                  kConsoleAssets[i].size));
  }
  HttpResponse redirect = Send("GET", "/console", "");
  EXPECT_EQ(redirect.status, 308);
  EXPECT_EQ(redirect.headers["location"], "/console/");
  EXPECT_EQ(Send("GET", "/console/nope.js", "").status, 404);
  HttpResponse post = Send("POST", "/console/", "");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");
}

TEST_F(ConsoleTest, ThePageHasNoInlineScriptAndLoadsOnlyItsOwnFiles) {
  std::string html = Send("GET", "/console/", "").body;
  // Every <script> has a src; no inline handlers or style attributes; no
  // absolute URL anywhere in the page.
  std::regex script("<script([^>]*)>");
  int scripts = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), script);
       it != std::sregex_iterator(); ++it) {
    ++scripts;
    EXPECT_NE((*it)[1].str().find("src=\"app.js\""), std::string::npos) << (*it)[0].str();
  }
  EXPECT_EQ(scripts, 1);
  EXPECT_FALSE(std::regex_search(html, std::regex("\\son[a-z]+\\s*=")));
  EXPECT_FALSE(std::regex_search(html, std::regex("\\sstyle\\s*=")));
  EXPECT_EQ(html.find("//"), std::string::npos);
  // The script never builds HTML from strings nor puts the token in a URL.
  std::string js = Send("GET", "/console/app.js", "").body;
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function"}) {
    EXPECT_EQ(js.find(sink), std::string::npos) << sink;
  }
  // The one absolute URL is the SVG namespace, an identifier never fetched.
  js = std::regex_replace(js, std::regex("'http://www\\.w3\\.org/2000/svg'"), "");
  EXPECT_EQ(js.find("http://"), std::string::npos);
  EXPECT_EQ(js.find("https://"), std::string::npos);
  EXPECT_NE(js.find("sessionStorage"), std::string::npos);
}

TEST_F(ConsoleTest, TheConsolePrefixOpensNoApiRoute) {
  for (const std::string target :
       {"/console/../v1/stats", "/console/%2e%2e/v1/stats", "/console/..%2fv1%2fstats",
        "/console//v1/stats", "/console/?/v1/stats"}) {
    HttpResponse r = Send("GET", target, "");
    EXPECT_NE(r.headers["content-type"], "application/json") << target;
    EXPECT_EQ(r.body.find("\"users\""), std::string::npos) << target;
  }
  EXPECT_EQ(Send("GET", "/consolex", "").status, 401);
  EXPECT_EQ(Send("GET", "/v1/stats", "").status, 401);
  EXPECT_EQ(Send("GET", "/v1/console/", "").status, 401);
}

TEST_F(ConsoleTest, HistoryRouteIsTheCliHistory) {
  // The most active user of the synthetic world.
  std::string user;
  std::vector<Event> want_events;
  for (int u = 0; u < 20; ++u) {
    auto h = db_->GetUserHistory(tools::SyntheticWorld::UserId(u));
    if (h.ok() && h->size() > want_events.size()) {
      user = tools::SyntheticWorld::UserId(u);
      want_events = *h;
    }
  }
  const std::vector<Event>* want = &want_events;
  ASSERT_GE(want->size(), 3u);
  const std::string base = "/v1/users/" + user + "/history";
  HttpResponse r = Send("GET", base);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["user"], user);
  EXPECT_EQ(j["count"], want->size());
  ASSERT_EQ(j["events"].size(), want->size());
  EXPECT_EQ(j["events"][0]["item"], (*want)[0].item);
  EXPECT_EQ(j["events"][0]["ts"], (*want)[0].timestamp);

  j = json::parse(Send("GET", base + "?limit=2").body);
  EXPECT_EQ(j["count"], 2);
  const int64_t from = (*want)[1].timestamp;
  j = json::parse(Send("GET", base + "?from=" + std::to_string(from)).body);
  for (const auto& e : j["events"]) EXPECT_GE(e["ts"].get<int64_t>(), from);

  EXPECT_EQ(Send("GET", "/v1/users/nobody/history").status, 404);
  EXPECT_EQ(Send("GET", base + "?limit=-1").status, 400);
  EXPECT_EQ(Send("GET", base + "?limt=2").status, 400);
  EXPECT_EQ(Send("POST", base).status, 405);
  EXPECT_EQ(Send("GET", base, "").status, 401);
}

TEST_F(ConsoleTest, ItemRouteIsTheCliGetItem) {
  auto counts = db_->GetItemCounts("i1");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  HttpResponse r = Send("GET", "/v1/items/i1");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["id"], "i1");
  EXPECT_EQ(j["counts"]["total"], counts->total);
  EXPECT_EQ(Send("GET", "/v1/items/no-such-item").status, 404);
  EXPECT_EQ(Send("GET", "/v1/items/i1?x=1").status, 400);
  EXPECT_EQ(Send("DELETE", "/v1/items/i1").status, 405);
  EXPECT_EQ(Send("GET", "/v1/items/i1", "").status, 401);
}

TEST_F(ConsoleTest, UserRouteIsTheCliGetUser) {
  User u;
  u.id = "with consent";
  u.consent.training = false;
  ASSERT_TRUE(db_->UpsertUsers({}, {u}).ok());
  HttpResponse r = Send("GET", "/v1/users/with%20consent");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["id"], "with consent");
  EXPECT_EQ(j["consent"]["training"], false);
  EXPECT_EQ(j["consent"]["personalization"], true);
  EXPECT_EQ(Send("GET", "/v1/users/nobody").status, 404);
  EXPECT_EQ(Send("GET", "/v1/users/with%20consent?x=1").status, 400);
  EXPECT_EQ(Send("GET", "/v1/users/with%20consent", "").status, 401);
  // POST /v1/users is still the upsert route, GET of it still 405.
  EXPECT_EQ(Send("GET", "/v1/users").status, 405);
}

TEST(ConsoleRequestTest, ParsesTheNewRoutes) {
  ParsedRequest p = ParseRequest("GET", "/v1/users/a%2Fb/history?limit=5&from=10&to=20", "");
  ASSERT_TRUE(p.ok()) << p.message;
  const auto& h = std::get<HistoryCall>(p.call);
  EXPECT_EQ(h.user, "a/b");
  EXPECT_EQ(h.range.limit, 5u);
  EXPECT_EQ(h.range.start, 10);
  EXPECT_EQ(h.range.end, 20);
  p = ParseRequest("GET", "/v1/items/x%20y", "");
  ASSERT_TRUE(p.ok()) << p.message;
  EXPECT_EQ(std::get<GetItemCall>(p.call).item, "x y");
  p = ParseRequest("GET", "/v1/users/x%20y", "");
  ASSERT_TRUE(p.ok()) << p.message;
  EXPECT_EQ(std::get<GetUserCall>(p.call).user, "x y");
  EXPECT_EQ(ParseRequest("GET", "/v1/items/", "").http_status, 404);
  EXPECT_EQ(ParseRequest("GET", "/v1/users//history", "").http_status, 404);
  EXPECT_EQ(ParseRequest("GET", "/v1/users/u/history?limit=x", "").http_status, 400);
}

}  // namespace
}  // namespace recdb::serve
