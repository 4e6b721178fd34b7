#include "engine/write_validation.h"

#include <cmath>
#include <string>
#include <string_view>

namespace recdb {
namespace {

std::string Where(const char* batch, size_t index, std::string_view field) {
  std::string s(batch);
  s += '[';
  s += std::to_string(index);
  s += "].";
  s += field;
  return s;
}

Status TooLong(const std::string& where, size_t got, size_t limit, const char* limit_name) {
  return Status::InvalidArgument(where + ": " + std::to_string(got) + " bytes exceeds " +
                                 limit_name + " (" + std::to_string(limit) + ")");
}

Status CheckId(std::string_view id, const char* batch, size_t index, const char* field) {
  if (id.empty()) return Status::InvalidArgument(Where(batch, index, field) + ": empty id");
  if (id.size() > kMaxIdBytes) {
    return TooLong(Where(batch, index, field), id.size(), kMaxIdBytes, "kMaxIdBytes");
  }
  return Status::OK();
}

Status CheckBytes(std::string_view s, size_t limit, const char* limit_name, const char* batch,
                  size_t index, std::string_view field) {
  if (s.size() > limit) return TooLong(Where(batch, index, field), s.size(), limit, limit_name);
  return Status::OK();
}

Status CheckTimestamp(int64_t ts, const char* batch, size_t index, const char* field) {
  if (ts < kMinTimestamp || ts > kMaxTimestamp) {
    return Status::InvalidArgument(Where(batch, index, field) + ": " + std::to_string(ts) +
                                   " is outside [" + std::to_string(kMinTimestamp) + ", " +
                                   std::to_string(kMaxTimestamp) + "]");
  }
  return Status::OK();
}

Status CheckAttributes(const Attributes& attrs, const char* batch, size_t index) {
  if (attrs.size() > kMaxAttributes) {
    return Status::InvalidArgument(
        Where(batch, index, "attributes") + ": " + std::to_string(attrs.size()) +
        " attributes exceed kMaxAttributes (" + std::to_string(kMaxAttributes) + ")");
  }
  for (const auto& [key, value] : attrs) {
    const std::string field = "attributes[\"" + key.substr(0, 32) + "\"]";
    if (key.empty()) {
      return Status::InvalidArgument(Where(batch, index, "attributes") + ": empty key");
    }
    RECDB_RETURN_IF_ERROR(CheckBytes(key, kMaxAttributeKeyBytes, "kMaxAttributeKeyBytes", batch,
                                     index, field + " key"));
    if (const auto* s = std::get_if<std::string>(&value)) {
      RECDB_RETURN_IF_ERROR(
          CheckBytes(*s, kMaxAttributeValueBytes, "kMaxAttributeValueBytes", batch, index, field));
    } else if (const auto* d = std::get_if<double>(&value)) {
      if (!std::isfinite(*d)) {
        return Status::InvalidArgument(Where(batch, index, field) + ": not a finite number");
      }
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      if (list->size() > kMaxListElements) {
        return Status::InvalidArgument(
            Where(batch, index, field) + ": " + std::to_string(list->size()) +
            " elements exceed kMaxListElements (" + std::to_string(kMaxListElements) + ")");
      }
      for (const std::string& e : *list) {
        RECDB_RETURN_IF_ERROR(
            CheckBytes(e, kMaxAttributeValueBytes, "kMaxAttributeValueBytes", batch, index, field));
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

Status ValidateItem(const Item& item, size_t index) {
  static constexpr const char* kBatch = "items";
  RECDB_RETURN_IF_ERROR(CheckId(item.id, kBatch, index, "id"));
  RECDB_RETURN_IF_ERROR(
      CheckBytes(item.title, kMaxTextBytes, "kMaxTextBytes", kBatch, index, "title"));
  RECDB_RETURN_IF_ERROR(
      CheckBytes(item.description, kMaxTextBytes, "kMaxTextBytes", kBatch, index, "description"));
  if (item.categories.size() > kMaxCategories) {
    return Status::InvalidArgument(
        Where(kBatch, index, "categories") + ": " + std::to_string(item.categories.size()) +
        " categories exceed kMaxCategories (" + std::to_string(kMaxCategories) + ")");
  }
  for (const std::string& c : item.categories) {
    RECDB_RETURN_IF_ERROR(CheckBytes(c, kMaxAttributeValueBytes, "kMaxAttributeValueBytes", kBatch,
                                     index, "categories"));
  }
  RECDB_RETURN_IF_ERROR(CheckBytes(item.creator, kMaxAttributeValueBytes, "kMaxAttributeValueBytes",
                                   kBatch, index, "creator"));
  RECDB_RETURN_IF_ERROR(CheckTimestamp(item.created_at, kBatch, index, "created_at"));
  return CheckAttributes(item.attributes, kBatch, index);
}

Status ValidateUser(const User& user, size_t index) {
  RECDB_RETURN_IF_ERROR(CheckId(user.id, "users", index, "id"));
  return CheckAttributes(user.attributes, "users", index);
}

Status ValidateEvent(const Event& event, size_t index) {
  static constexpr const char* kBatch = "events";
  RECDB_RETURN_IF_ERROR(CheckId(event.user, kBatch, index, "user"));
  RECDB_RETURN_IF_ERROR(CheckId(event.item, kBatch, index, "item"));
  if (event.type.empty()) {
    return Status::InvalidArgument(Where(kBatch, index, "type") + ": empty event type");
  }
  if (!std::isfinite(event.value)) {
    return Status::InvalidArgument(Where(kBatch, index, "value") + ": not a finite number");
  }
  RECDB_RETURN_IF_ERROR(CheckTimestamp(event.timestamp, kBatch, index, "timestamp"));
  if (event.context.size() > kMaxContextEntries) {
    return Status::InvalidArgument(
        Where(kBatch, index, "context") + ": " + std::to_string(event.context.size()) +
        " entries exceed kMaxContextEntries (" + std::to_string(kMaxContextEntries) + ")");
  }
  for (const auto& [k, v] : event.context) {
    if (k.empty()) return Status::InvalidArgument(Where(kBatch, index, "context") + ": empty key");
    RECDB_RETURN_IF_ERROR(CheckBytes(k, kMaxAttributeKeyBytes, "kMaxAttributeKeyBytes", kBatch,
                                     index, "context key"));
    RECDB_RETURN_IF_ERROR(CheckBytes(v, kMaxAttributeValueBytes, "kMaxAttributeValueBytes", kBatch,
                                     index, "context value"));
  }
  return Status::OK();
}

Status ValidateEventType(const EventType& type) {
  if (type.name.empty()) return Status::InvalidArgument("event type name: empty");
  if (type.name.size() > kMaxIdBytes) {
    return TooLong("event type name", type.name.size(), kMaxIdBytes, "kMaxIdBytes");
  }
  if (!std::isfinite(type.weight)) {
    return Status::InvalidArgument("event type \"" + type.name + "\" weight: not finite");
  }
  return Status::OK();
}

}  // namespace recdb
