#include "tools/import/record_json.h"

#include <cmath>
#include <string>

namespace recdb::tools {

using nlohmann::json;

namespace {

constexpr int kMaxJsonDepth = 32;

// nlohmann's parser is iterative, but a bound keeps hostile input from
// building huge nested values; this scan is cheaper than the parse.
bool DepthWithin(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

const char* TypeName(const json& j) { return j.type_name(); }

Status WrongType(std::string_view field, const char* want, const json& got) {
  return Status::InvalidArgument(std::string(field) + ": expected " + want + ", got " +
                                 TypeName(got));
}

Status WrongType(std::string_view field, FieldType want, const json& got) {
  return WrongTypeError(field, want, TypeName(got));
}

// The keys of `j` against the one field table (recdb/record_fields.h):
// unknown, doubled (name and alias) and missing fields.
Status CheckKeys(RecordKind kind, const json& j) {
  std::vector<std::string> keys;
  keys.reserve(j.size());
  for (const auto& [key, v] : j.items()) keys.push_back(key);
  return CheckRecordKeys(kind, keys);
}

Status GetString(const json& j, std::string_view field, std::string* out) {
  if (!j.is_string()) return WrongType(field, FieldType::kString, j);
  *out = j.get_ref<const std::string&>();
  return Status::OK();
}

Status GetBool(const json& j, std::string_view field, bool* out) {
  if (!j.is_boolean()) return WrongType(field, FieldType::kBool, j);
  *out = j.get<bool>();
  return Status::OK();
}

Status GetNumber(const json& j, std::string_view field, double* out) {
  if (!j.is_number()) return WrongType(field, FieldType::kNumber, j);
  *out = j.get<double>();
  if (!std::isfinite(*out)) {
    return Status::InvalidArgument(std::string(field) + ": not a finite number");
  }
  return Status::OK();
}

// An integer; a float is accepted only if it is integral (1.7e9 in JSON
// written by some tools).
Status GetInt64(const json& j, std::string_view field, int64_t* out) {
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    *out = j.get<int64_t>();
    return Status::OK();
  }
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      return Status::InvalidArgument(std::string(field) + ": out of range");
    }
    *out = static_cast<int64_t>(u);
    return Status::OK();
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      *out = static_cast<int64_t>(d);
      return Status::OK();
    }
    return Status::InvalidArgument(std::string(field) + ": expected integer, got " +
                                   json(d).dump());
  }
  return WrongType(field, FieldType::kInteger, j);
}

Status GetStringList(const json& j, std::string_view field, std::vector<std::string>* out) {
  if (!j.is_array()) return WrongType(field, FieldType::kStringList, j);
  out->clear();
  out->reserve(j.size());
  for (const auto& e : j) {
    if (!e.is_string()) {
      return WrongType(std::string(field) + "[" + std::to_string(out->size()) + "]", "string", e);
    }
    out->push_back(e.get_ref<const std::string&>());
  }
  return Status::OK();
}

Status GetAttributes(const json& j, std::string_view field, Attributes* out) {
  if (!j.is_object()) return WrongType(field, "object", j);
  for (const auto& [key, value] : j.items()) {
    RECDB_ASSIGN_OR_RETURN(AttributeValue v,
                           AttributeValueFromJson(value, std::string(field) + "." + key));
    (*out)[key] = std::move(v);
  }
  return Status::OK();
}


}  // namespace

StatusOr<json> ParseJsonObject(std::string_view line) {
  if (!DepthWithin(line, kMaxJsonDepth)) {
    return Status::InvalidArgument("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels");
  }
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("malformed JSON");
  if (!j.is_object()) return WrongType("line", "JSON object", j);
  return j;
}

StatusOr<AttributeValue> AttributeValueFromJson(const json& j, std::string_view field) {
  if (j.is_string()) return AttributeValue(j.get<std::string>());
  if (j.is_boolean()) return AttributeValue(j.get<bool>());
  if (j.is_number()) {
    double d = 0;
    RECDB_RETURN_IF_ERROR(GetNumber(j, field, &d));
    return AttributeValue(d);
  }
  if (j.is_array()) {
    std::vector<std::string> list;
    RECDB_RETURN_IF_ERROR(GetStringList(j, field, &list));
    return AttributeValue(std::move(list));
  }
  return WrongType(field, "string, number, boolean or array of strings", j);
}

StatusOr<Item> ItemFromJson(const json& j) {
  if (!j.is_object()) return WrongType("item", "object", j);
  RECDB_RETURN_IF_ERROR(CheckKeys(RecordKind::kItem, j));
  Item item;
  for (const auto& [key, v] : j.items()) {
    if (key == "id") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &item.id));
    } else if (key == "title") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &item.title));
    } else if (key == "description") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &item.description));
    } else if (key == "categories") {
      RECDB_RETURN_IF_ERROR(GetStringList(v, key, &item.categories));
    } else if (key == "creator") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &item.creator));
    } else if (key == "created_at") {
      RECDB_RETURN_IF_ERROR(GetInt64(v, key, &item.created_at));
    } else if (key == "available") {
      RECDB_RETURN_IF_ERROR(GetBool(v, key, &item.available));
    } else if (key == "attributes") {
      RECDB_RETURN_IF_ERROR(GetAttributes(v, key, &item.attributes));
    }
  }
  return item;
}

StatusOr<User> UserFromJson(const json& j) {
  if (!j.is_object()) return WrongType("user", "object", j);
  RECDB_RETURN_IF_ERROR(CheckKeys(RecordKind::kUser, j));
  User user;
  for (const auto& [key, v] : j.items()) {
    if (key == "id") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &user.id));
    } else if (key == "attributes") {
      RECDB_RETURN_IF_ERROR(GetAttributes(v, key, &user.attributes));
    } else if (key == "consent") {
      if (!v.is_object()) return WrongType(key, FieldType::kConsent, v);
      for (const auto& [ck, cv] : v.items()) {
        const std::string field = "consent." + ck;
        if (ck == "personalization") {
          RECDB_RETURN_IF_ERROR(GetBool(cv, field, &user.consent.personalization));
        } else if (ck == "store_events") {
          RECDB_RETURN_IF_ERROR(GetBool(cv, field, &user.consent.store_events));
        } else if (ck == "training") {
          RECDB_RETURN_IF_ERROR(GetBool(cv, field, &user.consent.training));
        } else {
          return Status::InvalidArgument("unknown consent field '" + ck +
                                         "' (allowed: personalization, store_events, training)");
        }
      }
    }
  }
  return user;
}

StatusOr<Event> EventFromJson(const json& j) {
  if (!j.is_object()) return WrongType("event", "object", j);
  RECDB_RETURN_IF_ERROR(CheckKeys(RecordKind::kEvent, j));
  Event e;
  for (const auto& [key, v] : j.items()) {
    if (key == "user") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &e.user));
    } else if (key == "item") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &e.item));
    } else if (key == "type") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &e.type));
    } else if (key == "ts" || key == "timestamp") {
      RECDB_RETURN_IF_ERROR(GetInt64(v, key, &e.timestamp));
    } else if (key == "value") {
      if (!v.is_null()) {
        RECDB_RETURN_IF_ERROR(GetNumber(v, key, &e.value));
        e.has_value = true;
      }
    } else if (key == "context") {
      if (!v.is_object()) return WrongType(key, FieldType::kStringMap, v);
      for (const auto& [ck, cv] : v.items()) {
        std::string s;
        RECDB_RETURN_IF_ERROR(GetString(cv, "context." + ck, &s));
        e.context[ck] = std::move(s);
      }
    }
  }
  return e;
}

StatusOr<EventType> EventTypeFromJson(const json& j) {
  if (!j.is_object()) return WrongType("event_type", "object", j);
  RECDB_RETURN_IF_ERROR(CheckKeys(RecordKind::kEventType, j));
  EventType t;
  for (const auto& [key, v] : j.items()) {
    if (key == "name") {
      RECDB_RETURN_IF_ERROR(GetString(v, key, &t.name));
    } else if (key == "weight") {
      RECDB_RETURN_IF_ERROR(GetNumber(v, key, &t.weight));
    }
  }
  return t;
}

StatusOr<AnyRecord> RecordFromJson(const json& j, std::optional<RecordKind> expected) {
  if (!j.is_object()) return WrongType("record", "object", j);
  std::optional<RecordKind> kind;
  if (auto it = j.find("kind"); it != j.end()) {
    if (!it->is_string()) return WrongType("kind", "string", *it);
    const auto& name = it->get_ref<const std::string&>();
    for (RecordKind k : {RecordKind::kItem, RecordKind::kUser, RecordKind::kEvent,
                         RecordKind::kEventType}) {
      if (name == RecordKindName(k)) kind = k;
    }
    if (!kind) {
      return Status::InvalidArgument("kind: unknown kind '" + name +
                                     "' (allowed: item, user, event, event_type)");
    }
    if (expected && *kind != *expected) {
      return Status::InvalidArgument("kind: '" + name + "' in a file of " +
                                     RecordKindName(*expected) + " records");
    }
  } else if (expected) {
    kind = expected;
  } else {
    return Status::InvalidArgument("missing required field 'kind'");
  }
  switch (*kind) {
    case RecordKind::kItem: {
      RECDB_ASSIGN_OR_RETURN(Item r, ItemFromJson(j));
      return AnyRecord(std::move(r));
    }
    case RecordKind::kUser: {
      RECDB_ASSIGN_OR_RETURN(User r, UserFromJson(j));
      return AnyRecord(std::move(r));
    }
    case RecordKind::kEvent: {
      RECDB_ASSIGN_OR_RETURN(Event r, EventFromJson(j));
      return AnyRecord(std::move(r));
    }
    case RecordKind::kEventType: {
      RECDB_ASSIGN_OR_RETURN(EventType r, EventTypeFromJson(j));
      return AnyRecord(std::move(r));
    }
  }
  return Status::Internal("unknown record kind");
}

OutJson ToJson(const AttributeValue& value) {
  return std::visit([](const auto& v) { return OutJson(v); }, value);
}

OutJson ToJson(const Attributes& attributes) {
  OutJson j = OutJson::object();
  for (const auto& [k, v] : attributes) j[k] = ToJson(v);
  return j;
}

OutJson ToJson(const Item& item) {
  OutJson j = OutJson::object();
  j["id"] = item.id;
  j["title"] = item.title;
  j["description"] = item.description;
  j["categories"] = item.categories;
  j["creator"] = item.creator;
  j["created_at"] = item.created_at;
  j["available"] = item.available;
  j["attributes"] = ToJson(item.attributes);
  return j;
}

OutJson ToJson(const User& user) {
  OutJson j = OutJson::object();
  j["id"] = user.id;
  j["attributes"] = ToJson(user.attributes);
  j["consent"] = {{"personalization", user.consent.personalization},
                  {"store_events", user.consent.store_events},
                  {"training", user.consent.training}};
  return j;
}

OutJson ToJson(const Event& e) {
  OutJson j = OutJson::object();
  j["user"] = e.user;
  j["item"] = e.item;
  j["type"] = e.type;
  j["ts"] = e.timestamp;
  if (e.has_value) j["value"] = e.value;
  if (!e.context.empty()) j["context"] = e.context;
  return j;
}

OutJson ToJson(const EventType& t) { return OutJson{{"name", t.name}, {"weight", t.weight}}; }

OutJson ToDumpJson(const AnyRecord& record) {
  OutJson j = OutJson::object();
  j["kind"] = RecordKindName(KindOf(record));
  OutJson body = std::visit([](const auto& r) { return ToJson(r); }, record);
  for (auto& [k, v] : body.items()) j[k] = std::move(v);
  return j;
}

std::string JsonLine(const OutJson& j) {
  return j.dump(-1, ' ', false, OutJson::error_handler_t::replace);
}

}  // namespace recdb::tools
