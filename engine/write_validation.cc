#include "engine/write_validation.h"

#include <cmath>
#include <string>

#include "common/utf8.h"

namespace recdb {
namespace {

std::string Where(std::string_view where, std::string_view field) {
  std::string s(where);
  if (!s.empty()) s += '.';
  s += field;
  return s;
}

std::string Indexed(const char* batch, size_t index) {
  return std::string(batch) + "[" + std::to_string(index) + "]";
}

Status TooLong(const std::string& where, size_t got, size_t limit, const char* limit_name) {
  return Status::InvalidArgument(where + ": " + std::to_string(got) + " bytes exceeds " +
                                 limit_name + " (" + std::to_string(limit) + ")");
}

Status CheckUtf8(std::string_view s, std::string_view where, std::string_view field) {
  if (IsValidUtf8(s)) return Status::OK();
  return Status::InvalidArgument(Where(where, field) + ": not valid UTF-8");
}

Status CheckId(std::string_view id, std::string_view where, const char* field) {
  if (id.empty()) return Status::InvalidArgument(Where(where, field) + ": empty id");
  if (id.size() > kMaxIdBytes) {
    return TooLong(Where(where, field), id.size(), kMaxIdBytes, "kMaxIdBytes");
  }
  return CheckUtf8(id, where, field);
}

Status CheckBytes(std::string_view s, size_t limit, const char* limit_name,
                  std::string_view where, std::string_view field) {
  if (s.size() > limit) return TooLong(Where(where, field), s.size(), limit, limit_name);
  return CheckUtf8(s, where, field);
}

Status CheckTimestamp(int64_t ts, std::string_view where, const char* field,
                      int64_t min = kMinTimestamp) {
  if (ts < min || ts > kMaxTimestamp) {
    return Status::InvalidArgument(Where(where, field) + ": " + std::to_string(ts) +
                                   " is outside [" + std::to_string(min) + ", " +
                                   std::to_string(kMaxTimestamp) + "]");
  }
  return Status::OK();
}

Status CheckAttributes(const Attributes& attrs, std::string_view where) {
  if (attrs.size() > kMaxAttributes) {
    return Status::InvalidArgument(
        Where(where, "attributes") + ": " + std::to_string(attrs.size()) +
        " attributes exceed kMaxAttributes (" + std::to_string(kMaxAttributes) + ")");
  }
  for (const auto& [key, value] : attrs) {
    if (key.empty()) {
      return Status::InvalidArgument(Where(where, "attributes") + ": empty key");
    }
    RECDB_RETURN_IF_ERROR(CheckBytes(key, kMaxAttributeKeyBytes, "kMaxAttributeKeyBytes", where,
                                     "attributes key"));
    const std::string field = "attributes." + key.substr(0, 32);
    if (const auto* s = std::get_if<std::string>(&value)) {
      RECDB_RETURN_IF_ERROR(
          CheckBytes(*s, kMaxAttributeValueBytes, "kMaxAttributeValueBytes", where, field));
    } else if (const auto* d = std::get_if<double>(&value)) {
      if (!std::isfinite(*d)) {
        return Status::InvalidArgument(Where(where, field) + ": not a finite number");
      }
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      if (list->size() > kMaxListElements) {
        return Status::InvalidArgument(
            Where(where, field) + ": " + std::to_string(list->size()) +
            " elements exceed kMaxListElements (" + std::to_string(kMaxListElements) + ")");
      }
      for (const std::string& e : *list) {
        RECDB_RETURN_IF_ERROR(
            CheckBytes(e, kMaxAttributeValueBytes, "kMaxAttributeValueBytes", where, field));
      }
    }
  }
  return Status::OK();
}

}  // namespace

Status ValidateBatchSize(size_t size, const char* what) {
  if (size > kMaxBatchSize) {
    return Status::InvalidArgument(std::string(what) + ": " + std::to_string(size) +
                                   " records exceed kMaxBatchSize (" +
                                   std::to_string(kMaxBatchSize) + ")");
  }
  return Status::OK();
}

Status ValidateItem(const Item& item, std::string_view where) {
  RECDB_RETURN_IF_ERROR(CheckId(item.id, where, "id"));
  RECDB_RETURN_IF_ERROR(CheckBytes(item.title, kMaxTextBytes, "kMaxTextBytes", where, "title"));
  RECDB_RETURN_IF_ERROR(
      CheckBytes(item.description, kMaxTextBytes, "kMaxTextBytes", where, "description"));
  if (item.categories.size() > kMaxCategories) {
    return Status::InvalidArgument(
        Where(where, "categories") + ": " + std::to_string(item.categories.size()) +
        " categories exceed kMaxCategories (" + std::to_string(kMaxCategories) + ")");
  }
  for (const std::string& c : item.categories) {
    RECDB_RETURN_IF_ERROR(
        CheckBytes(c, kMaxAttributeValueBytes, "kMaxAttributeValueBytes", where, "categories"));
  }
  RECDB_RETURN_IF_ERROR(CheckBytes(item.creator, kMaxAttributeValueBytes,
                                   "kMaxAttributeValueBytes", where, "creator"));
  RECDB_RETURN_IF_ERROR(CheckTimestamp(item.created_at, where, "created_at", kMinCreatedAt));
  return CheckAttributes(item.attributes, where);
}

Status ValidateUser(const User& user, std::string_view where) {
  RECDB_RETURN_IF_ERROR(CheckId(user.id, where, "id"));
  return CheckAttributes(user.attributes, where);
}

Status ValidateEvent(const Event& event, std::string_view where) {
  RECDB_RETURN_IF_ERROR(CheckId(event.user, where, "user"));
  RECDB_RETURN_IF_ERROR(CheckId(event.item, where, "item"));
  if (event.type.empty()) {
    return Status::InvalidArgument(Where(where, "type") + ": empty event type");
  }
  RECDB_RETURN_IF_ERROR(CheckId(event.type, where, "type"));
  if (!std::isfinite(event.value)) {
    return Status::InvalidArgument(Where(where, "value") + ": not a finite number");
  }
  RECDB_RETURN_IF_ERROR(CheckTimestamp(event.timestamp, where, "timestamp"));
  if (event.context.size() > kMaxContextEntries) {
    return Status::InvalidArgument(
        Where(where, "context") + ": " + std::to_string(event.context.size()) +
        " entries exceed kMaxContextEntries (" + std::to_string(kMaxContextEntries) + ")");
  }
  for (const auto& [k, v] : event.context) {
    if (k.empty()) return Status::InvalidArgument(Where(where, "context") + ": empty key");
    RECDB_RETURN_IF_ERROR(
        CheckBytes(k, kMaxAttributeKeyBytes, "kMaxAttributeKeyBytes", where, "context key"));
    RECDB_RETURN_IF_ERROR(CheckBytes(v, kMaxAttributeValueBytes, "kMaxAttributeValueBytes",
                                     where, "context." + k.substr(0, 32)));
  }
  return Status::OK();
}

Status ValidateEventType(const EventType& type) {
  if (type.name.empty()) return Status::InvalidArgument("event type name: empty");
  if (type.name.size() > kMaxIdBytes) {
    return TooLong("event type name", type.name.size(), kMaxIdBytes, "kMaxIdBytes");
  }
  RECDB_RETURN_IF_ERROR(CheckUtf8(type.name, "", "event type name"));
  if (!std::isfinite(type.weight)) {
    return Status::InvalidArgument("event type \"" + type.name + "\" weight: not finite");
  }
  return Status::OK();
}

Status ValidateItem(const Item& item, size_t index) {
  return ValidateItem(item, Indexed("items", index));
}

Status ValidateUser(const User& user, size_t index) {
  return ValidateUser(user, Indexed("users", index));
}

Status ValidateEvent(const Event& event, size_t index) {
  return ValidateEvent(event, Indexed("events", index));
}

}  // namespace recdb
