// tools/serve/request.h: routing, query parameters and JSON bodies, with no
// socket and no database.
#include "tools/serve/request.h"

#include <gtest/gtest.h>

namespace recdb::serve {
namespace {

TEST(RequestTest, RoutesEachEndpointToItsCall) {
  EXPECT_TRUE(std::holds_alternative<HealthCall>(ParseRequest("GET", "/v1/health", "").call));
  EXPECT_TRUE(std::holds_alternative<StatsCall>(ParseRequest("GET", "/v1/stats", "").call));
  EXPECT_TRUE(std::holds_alternative<ModelCall>(ParseRequest("GET", "/v1/model", "").call));
  EXPECT_EQ(ParseRequest("GET", "/v1/model/x", "").http_status, 404);
  auto rec = ParseRequest("GET", "/v1/recommend?user=1&k=5", "");
  ASSERT_TRUE(rec.ok()) << rec.message;
  const auto& rc = std::get<RecommendCall>(rec.call);
  EXPECT_EQ(rc.request.user, "1");
  EXPECT_EQ(rc.request.k, 5u);
  EXPECT_FALSE(rc.explain);
  auto sim = ParseRequest("GET", "/v1/similar?item=50&k=3&explain=true", "");
  ASSERT_TRUE(sim.ok()) << sim.message;
  EXPECT_EQ(std::get<SimilarCall>(sim.call).item, "50");
  EXPECT_TRUE(std::get<SimilarCall>(sim.call).explain);
  auto exp = ParseRequest("GET", "/v1/users/a%2Fb%20c/export", "");
  ASSERT_TRUE(exp.ok()) << exp.message;
  EXPECT_EQ(std::get<ExportUserCall>(exp.call).user, "a/b c");  // %2F is data, not a separator
  EXPECT_TRUE(std::holds_alternative<TrainCall>(ParseRequest("POST", "/v1/train", "").call));
  EXPECT_TRUE(std::holds_alternative<SnapshotCall>(ParseRequest("POST", "/v1/snapshots", "").call));
}

TEST(RequestTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  for (const char* t : {"/", "/v1", "/v1/", "/v2/stats", "/v1/nope", "/v1/stats/", "/v1/users/1/nope",
                        "/v1/users/1/export/x", "/v1/users//export"}) {
    auto p = ParseRequest("GET", t, "");
    EXPECT_EQ(p.http_status, 404) << t;
    EXPECT_FALSE(p.message.empty());
  }
  auto p = ParseRequest("GET", "/v1/events", "");
  EXPECT_EQ(p.http_status, 405);
  EXPECT_EQ(p.allow, "POST");
  p = ParseRequest("POST", "/v1/recommend?user=1", "");
  EXPECT_EQ(p.http_status, 405);
  EXPECT_EQ(p.allow, "GET, HEAD");
  EXPECT_EQ(ParseRequest("DELETE", "/v1/users/1/export", "").http_status, 405);
  EXPECT_EQ(ParseRequest("HEAD", "/v1/events", "").http_status, 405);  // HEAD of a POST route
}

// #19: HEAD on a GET route is that GET (the server drops the body); it
// was 405.
TEST(RequestTest, HeadOfAGetRouteParsesAsTheGet) {
  for (const char* t : {"/v1/health", "/v1/stats", "/v1/recommend?user=1&k=3", "/v1/items/i1"}) {
    ParsedRequest get = ParseRequest("GET", t, "");
    ParsedRequest head = ParseRequest("HEAD", t, "");
    ASSERT_TRUE(get.ok()) << t << ": " << get.message;
    EXPECT_TRUE(head.ok()) << t << ": " << head.message;
    EXPECT_EQ(head.call.index(), get.call.index()) << t;
  }
  // Bad parameters are the same 400 as for GET.
  EXPECT_EQ(ParseRequest("HEAD", "/v1/recommend?user=1&user=2", "").http_status, 400);
}

TEST(RequestTest, RecommendParametersMirrorTheCliFlags) {
  auto p = ParseRequest(
      "GET",
      "/v1/recommend?user=u%201&k=7&context=device=mobile&context=hour%3D3&weight=ials=0.5"
      "&now=1700000000&include_seen&diversity=0.3&calibration_recent_items=10&seed=9&pin=i1"
      "&boost=i2=1.5&bury=i3"
      "&category=Comedy&category=Drama&include_unavailable=1&explain=1&session=i9",
      "");
  ASSERT_TRUE(p.ok()) << p.message;
  const auto& c = std::get<RecommendCall>(p.call);
  EXPECT_EQ(c.request.user, "u 1");
  EXPECT_EQ(c.request.k, 7u);
  EXPECT_EQ(c.request.context.at("device"), "mobile");
  EXPECT_EQ(c.request.context.at("hour"), "3");
  EXPECT_DOUBLE_EQ(c.request.weights.at("ials"), 0.5);
  EXPECT_EQ(c.request.now, 1700000000);
  EXPECT_FALSE(c.request.exclude_seen);
  ASSERT_TRUE(c.request.care.has_value());
  EXPECT_DOUBLE_EQ(c.request.care->diversity, 0.3);
  EXPECT_EQ(c.request.care->calibration_recent_items, 10u);
  EXPECT_EQ(c.request.care->exploration_seed, 9u);
  EXPECT_EQ(c.request.rules.pin, std::vector<std::string>{"i1"});
  EXPECT_DOUBLE_EQ(c.request.rules.boost.at("i2"), 1.5);
  EXPECT_EQ(c.request.rules.bury, std::vector<std::string>{"i3"});
  EXPECT_EQ(c.request.filter.categories_any, (std::vector<std::string>{"Comedy", "Drama"}));
  EXPECT_FALSE(c.request.filter.available_only);
  EXPECT_EQ(c.request.session_items, std::vector<std::string>{"i9"});
  EXPECT_TRUE(c.explain);

  // Defaults are the CLI's: k 10, exclude seen, available only, no care.
  auto d = ParseRequest("GET", "/v1/recommend?user=1", "");
  ASSERT_TRUE(d.ok());
  const auto& dc = std::get<RecommendCall>(d.call);
  EXPECT_EQ(dc.request.k, 10u);
  EXPECT_TRUE(dc.request.exclude_seen);
  EXPECT_TRUE(dc.request.filter.available_only);
  EXPECT_FALSE(dc.request.care.has_value());
}

TEST(RequestTest, BadParametersAre400NamingTheParameter) {
  struct Case {
    const char* target;
    const char* needle;
  };
  for (const Case& c : {Case{"/v1/recommend", "user=ID"},
                        Case{"/v1/recommend?user=1&k=ten", "k"},
                        Case{"/v1/recommend?user=1&k=-1", "k"},
                        Case{"/v1/recommend?user=1&kk=3", "unknown query parameter 'kk'"},
                        Case{"/v1/recommend?user=1&explain=maybe", "explain"},
                        Case{"/v1/recommend?user=1&context=nokey", "context"},
                        Case{"/v1/recommend?user=1&weight=ials=x", "weight ials"},
                        Case{"/v1/recommend?user=1&diversity=nan", "diversity"},
                        Case{"/v1/recommend?user=1&calibration_recent_items=-1",
                             "calibration_recent_items"},
                        Case{"/v1/recommend?user=%zz", "%-escape"},
                        Case{"/v1/recommend?user=%4", "%-escape"},
                        Case{"/v1/recommend?user=a%00b", "NUL"},
                        Case{"/v1/similar?k=3", "item=ID"},
                        Case{"/v1/stats?x=1", "unknown query parameter 'x'"},
                        Case{"v1/stats", "must start with '/'"}}) {
    auto p = ParseRequest("GET", c.target, "");
    EXPECT_EQ(p.http_status, 400) << c.target;
    EXPECT_NE(p.message.find(c.needle), std::string::npos) << c.target << ": " << p.message;
  }
  auto p = ParseRequest("POST", "/v1/train?threads=2", "");
  EXPECT_EQ(p.http_status, 400);
}

TEST(RequestTest, RecordBodiesUseTheImportFormat) {
  auto p = ParseRequest("POST", "/v1/events",
                        R"({"events":[{"user":"u1","item":"i1","ts":1700000000,"type":"like",)"
                        R"("value":4,"context":{"device":"tv"}},{"user":"u2","item":"i1","ts":5}]})");
  ASSERT_TRUE(p.ok()) << p.message;
  const auto& ev = std::get<EventsCall>(p.call).events;
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, "like");
  EXPECT_TRUE(ev[0].has_value);
  EXPECT_EQ(ev[0].context.at("device"), "tv");
  EXPECT_EQ(ev[1].type, "view");

  p = ParseRequest("POST", "/v1/items",
                   R"({"items":[{"id":"i1","title":"T","categories":["A"],"attributes":{"p":1.5}}]})");
  ASSERT_TRUE(p.ok()) << p.message;
  EXPECT_EQ(std::get<ItemsCall>(p.call).items[0].title, "T");

  p = ParseRequest("POST", "/v1/users", R"({"users":[{"id":"u1","consent":{"training":false}}]})");
  ASSERT_TRUE(p.ok()) << p.message;
  EXPECT_FALSE(std::get<UsersCall>(p.call).users[0].consent.training);

  p = ParseRequest("POST", "/v1/forget", R"({"user":"u1","retrain":true})");
  ASSERT_TRUE(p.ok()) << p.message;
  EXPECT_EQ(std::get<ForgetCall>(p.call).user, "u1");
  EXPECT_TRUE(std::get<ForgetCall>(p.call).options.retrain);
  EXPECT_FALSE(std::get<ForgetCall>(p.call).options.wait_for_physical_erasure);

  p = ParseRequest("POST", "/v1/train", R"({"threads":1,"reuse_stored_weights":true})");
  ASSERT_TRUE(p.ok()) << p.message;
  EXPECT_EQ(std::get<TrainCall>(p.call).options.threads, 1);
  EXPECT_TRUE(std::get<TrainCall>(p.call).options.reuse_stored_weights);
}

TEST(RequestTest, MalformedBodiesAre400WithAMessageThatSaysWhere) {
  struct Case {
    const char* target;
    const char* body;
    const char* needle;
  };
  const std::string deep(100, '[');
  for (const Case& c : {
           Case{"/v1/events", R"({"events":[{"user":"u1")", "parse error at line 1, column"},
           Case{"/v1/events", "", "JSON object body"},
           Case{"/v1/events", "[1,2]", "object"},
           Case{"/v1/events", R"({"event":[]})", "unknown field 'event'"},
           Case{"/v1/events", R"({"events":[]})", "empty array"},
           Case{"/v1/events", R"({"events":{}})", "expected an array"},
           Case{"/v1/events", R"({"events":[{"user":"u1","item":"i1"}]})", "events[0]"},
           Case{"/v1/events", R"({"events":[{"user":"u1","item":"i1","ts":1,"colour":2}]})",
                "colour"},
           Case{"/v1/events", R"({"events":[{"user":"","item":"i1","ts":1}]})", "events[0]"},
           Case{"/v1/items", R"({"items":[{"title":"no id"}]})", "items[0]"},
           Case{"/v1/users", R"({"users":[{"id":"u","consent":{"x":true}}]})", "users[0]"},
           Case{"/v1/forget", R"({})", "user"},
           Case{"/v1/forget", R"({"user":7})", "user"},
           Case{"/v1/forget", R"({"user":"u","sweep":true})", "unknown field 'sweep'"},
           Case{"/v1/train", R"({"threads":0})", "threads"},
           Case{"/v1/train", R"({"threads":"2"})", "threads"},
           Case{"/v1/train", R"({"threads":18446744073709551615})", "threads"},
           Case{"/v1/train", "{", "malformed JSON"},
           Case{"/v1/snapshots", R"({"link_files":1})", "link_files"},
           Case{"/v1/items", deep.c_str(), "deeper"},
       }) {
    auto p = ParseRequest("POST", c.target, c.body);
    EXPECT_EQ(p.http_status, 400) << c.target << " " << c.body;
    EXPECT_NE(p.message.find(c.needle), std::string::npos)
        << c.target << " " << c.body << ": " << p.message;
  }
}

TEST(RequestTest, OnlyHealthIsOpenWithoutAToken) {
  EXPECT_FALSE(RequiresAuth("/v1/health"));
  EXPECT_TRUE(RequiresAuth("/v1/health/"));
  EXPECT_TRUE(RequiresAuth("/v1/stats"));
  EXPECT_TRUE(RequiresAuth("/v1/nope"));
  EXPECT_TRUE(RequiresAuth("/v1/%68ealth"));  // auth is decided on the raw path
}

}  // namespace
}  // namespace recdb::serve
