#include "tools/import/record_json.h"

#include <gtest/gtest.h>

namespace recdb::tools {
namespace {

StatusOr<AnyRecord> ParseLine(const std::string& line, std::optional<RecordKind> kind) {
  RECDB_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonObject(line));
  RECDB_ASSIGN_OR_RETURN(AnyRecord r, RecordFromJson(j, kind));
  RECDB_RETURN_IF_ERROR(ValidateRecord(r));
  return r;
}

std::string ErrorOf(const std::string& line, RecordKind kind) {
  auto r = ParseLine(line, kind);
  EXPECT_FALSE(r.ok()) << line;
  return r.ok() ? "" : r.status().message();
}

TEST(RecordJsonTest, ParsesTheDocumentedItem) {
  auto r = ParseLine(
      R"({"id":"i1","title":"T","description":"D","categories":["Comedy"],"creator":"c7",)"
      R"("created_at":1700000000,"available":true,)"
      R"("attributes":{"price":9.5,"tags":["a","b"],"new":true,"brand":"x"}})",
      RecordKind::kItem);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Item& item = std::get<Item>(*r);
  EXPECT_EQ(item.id, "i1");
  EXPECT_EQ(item.categories, std::vector<std::string>{"Comedy"});
  EXPECT_EQ(item.creator, "c7");
  EXPECT_EQ(item.created_at, 1700000000);
  EXPECT_EQ(std::get<double>(item.attributes.at("price")), 9.5);
  EXPECT_EQ(std::get<std::vector<std::string>>(item.attributes.at("tags")).size(), 2u);
  EXPECT_TRUE(std::get<bool>(item.attributes.at("new")));
  EXPECT_EQ(std::get<std::string>(item.attributes.at("brand")), "x");
}

TEST(RecordJsonTest, ParsesTheDocumentedUserAndEvent) {
  auto u = ParseLine(R"({"id":"u1","attributes":{"age":30},)"
                     R"("consent":{"personalization":true,"store_events":false,"training":true}})",
                     RecordKind::kUser);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_FALSE(std::get<User>(*u).consent.store_events);
  auto e = ParseLine(R"({"user":"u1","item":"i1","type":"view","ts":1700000000,"value":4.0,)"
                     R"("context":{"device":"mobile","session":"s9"}})",
                     RecordKind::kEvent);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const Event& ev = std::get<Event>(*e);
  EXPECT_TRUE(ev.has_value);
  EXPECT_EQ(ev.value, 4.0);
  EXPECT_EQ(ev.timestamp, 1700000000);
  EXPECT_EQ(ev.context.at("session"), "s9");
}

TEST(RecordJsonTest, EventTypeDefaultsToViewAndValueIsOptional) {
  auto e = ParseLine(R"({"user":"u","item":"i","ts":5})", RecordKind::kEvent);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(std::get<Event>(*e).type, "view");
  EXPECT_FALSE(std::get<Event>(*e).has_value);
}

TEST(RecordJsonTest, IntegralFloatTimestampIsAccepted) {
  auto e = ParseLine(R"({"user":"u","item":"i","ts":1.7e9})", RecordKind::kEvent);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(std::get<Event>(*e).timestamp, 1700000000);
}

TEST(RecordJsonTest, MalformedJson) {
  EXPECT_NE(ErrorOf(R"({"id":"i1",)", RecordKind::kItem).find("malformed JSON"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[1,2]", RecordKind::kItem).find("JSON object"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(100, '[') + std::string(100, ']'), RecordKind::kItem)
                .find("nested"),
            std::string::npos);
}

TEST(RecordJsonTest, MissingRequiredFieldIsNamed) {
  EXPECT_NE(ErrorOf(R"({"title":"x"})", RecordKind::kItem).find("'id'"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"user":"u","ts":1})", RecordKind::kEvent).find("'item'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"user":"u","item":"i"})", RecordKind::kEvent).find("'ts'"),
            std::string::npos);
}

TEST(RecordJsonTest, WrongTypeIsNamed) {
  EXPECT_NE(ErrorOf(R"({"user":"u","item":"i","ts":"yesterday"})", RecordKind::kEvent)
                .find("ts: expected integer, got string"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"id":7})", RecordKind::kItem).find("id: expected string"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"id":"i","categories":"Comedy"})", RecordKind::kItem).find("categories"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"id":"i","attributes":{"x":{"y":1}}})", RecordKind::kItem)
                .find("attributes.x"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"id":"u","consent":{"training":"yes"}})", RecordKind::kUser)
                .find("consent.training"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"user":"u","item":"i","ts":1.5})", RecordKind::kEvent).find("ts"),
            std::string::npos);
}

TEST(RecordJsonTest, UnknownFieldIsAnError) {
  EXPECT_NE(ErrorOf(R"({"user":"u","item":"i","time":1})", RecordKind::kEvent)
                .find("unknown event field 'time'"),
            std::string::npos);
  // "timestamp" is the other spelling of "ts" on every surface
  // (recdb/record_fields.h); both at once is an error.
  auto alias = ParseLine(R"({"user":"u","item":"i","timestamp":7})", RecordKind::kEvent);
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_EQ(std::get<Event>(*alias).timestamp, 7);
  EXPECT_NE(ErrorOf(R"({"user":"u","item":"i","ts":1,"timestamp":1})", RecordKind::kEvent)
                .find("given twice"),
            std::string::npos);
}

TEST(RecordJsonTest, LimitsAreCheckedBeforeTheDB) {
  EXPECT_NE(ErrorOf(R"({"id":""})", RecordKind::kItem).find("id"), std::string::npos);
  EXPECT_NE(ErrorOf("{\"id\":\"" + std::string(300, 'x') + "\"}", RecordKind::kItem).find("id"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"user":"u","item":"i","ts":-5})", RecordKind::kEvent)
                .find("timestamp: -5 is outside"),
            std::string::npos);
}

TEST(RecordJsonTest, KindMustMatchOrBePresentInADump) {
  EXPECT_FALSE(ParseLine(R"({"kind":"user","id":"u"})", RecordKind::kItem).ok());
  EXPECT_FALSE(ParseLine(R"({"id":"u"})", std::nullopt).ok());
  auto r = ParseLine(R"({"kind":"user","id":"u"})", std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(KindOf(*r), RecordKind::kUser);
}

TEST(RecordJsonTest, DumpJsonRoundTrips) {
  Item item;
  item.id = "i1";
  item.title = "Misérables";
  item.categories = {"Drama", "Musical"};
  item.created_at = 788918400;
  item.available = false;
  item.attributes = {{"price", 9.5}, {"tags", std::vector<std::string>{"a"}}, {"new", true},
                     {"brand", std::string("x")}};
  Event e;
  e.user = "u1";
  e.item = "i1";
  e.type = "rating";
  e.value = 0.1;
  e.has_value = true;
  e.timestamp = 123;
  e.context = {{"device", "tv"}};
  User u;
  u.id = "u1";
  u.consent.training = false;
  for (const AnyRecord& rec : {AnyRecord(item), AnyRecord(e), AnyRecord(u),
                               AnyRecord(EventType{"share", -2.5})}) {
    std::string line = JsonLine(ToDumpJson(rec));
    EXPECT_EQ(line.rfind("{\"kind\":", 0), 0u) << line;
    auto back = ParseLine(line, std::nullopt);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << " " << line;
    EXPECT_TRUE(*back == rec) << line;
  }
}

}  // namespace
}  // namespace recdb::tools
