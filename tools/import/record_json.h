// JSON form of recdb records: the JSONL import format and the `recdb dump`
// format (the same, plus a "kind" field), so dump -> import round-trips.
//
//   item   {"id":"i1","title":"...","description":"...","categories":["Comedy"],
//           "creator":"c7","created_at":1700000000,"available":true,
//           "attributes":{"price":9.5,"tags":["a","b"],"new":true,"brand":"x"}}
//   user   {"id":"u1","attributes":{...},
//           "consent":{"personalization":true,"store_events":true,"training":true}}
//   event  {"user":"u1","item":"i1","type":"view","ts":1700000000,"value":4.0,
//           "context":{"device":"mobile","session":"s9"}}
//   event_type {"name":"share","weight":2.0}
//
// Only "id" (items, users), "user", "item" and "ts" (events) and "name"
// (event types) are required; "type" defaults to "view". Unknown fields are
// errors, so a misspelt field is never silently dropped. Attribute values are
// strings, numbers, booleans or lists of strings.
//
// Parsing never throws and never crashes: every problem is an InvalidArgument
// whose message names the field.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tools/import/record.h"

namespace recdb::tools {

// Parses one line as a JSON object. Errors: InvalidArgument for malformed
// JSON, nesting deeper than 32 levels, or a value that is not an object.
[[nodiscard]] StatusOr<nlohmann::json> ParseJsonObject(std::string_view line);

[[nodiscard]] StatusOr<Item> ItemFromJson(const nlohmann::json& j);
[[nodiscard]] StatusOr<User> UserFromJson(const nlohmann::json& j);
[[nodiscard]] StatusOr<Event> EventFromJson(const nlohmann::json& j);
[[nodiscard]] StatusOr<EventType> EventTypeFromJson(const nlohmann::json& j);

// Parses a record. With `expected`, the object is that kind and a "kind"
// field, if present, must match; without, "kind" is required (a dump line).
[[nodiscard]] StatusOr<AnyRecord> RecordFromJson(const nlohmann::json& j,
                                                 std::optional<RecordKind> expected);

// Parses an attribute value (string, number, bool, list of strings).
[[nodiscard]] StatusOr<AttributeValue> AttributeValueFromJson(const nlohmann::json& j,
                                                              std::string_view field);

// Output keeps fields in the documented order (ordered_json).
using OutJson = nlohmann::ordered_json;
OutJson ToJson(const Item& item);
OutJson ToJson(const User& user);
OutJson ToJson(const Event& event);
OutJson ToJson(const EventType& type);
OutJson ToJson(const AttributeValue& value);
OutJson ToJson(const Attributes& attributes);
// The record with "kind" first, as `recdb dump` writes it.
OutJson ToDumpJson(const AnyRecord& record);

// One-line JSON text; invalid UTF-8 (which recdb never stores from an
// importer) is replaced rather than thrown on.
std::string JsonLine(const OutJson& j);

}  // namespace recdb::tools
