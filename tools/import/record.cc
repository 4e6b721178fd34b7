#include "tools/import/record.h"

#include <cmath>

#include "tools/import/text_encoding.h"

namespace recdb::tools {

namespace {

Status CheckId(const std::string& id, const char* field) {
  if (id.empty()) return Status::InvalidArgument(std::string(field) + ": must not be empty");
  if (id.size() > kMaxIdBytes) {
    return Status::InvalidArgument(std::string(field) + ": longer than " +
                                   std::to_string(kMaxIdBytes) + " bytes");
  }
  if (!IsValidUtf8(id)) return Status::InvalidArgument(std::string(field) + ": not valid UTF-8");
  return Status::OK();
}

Status CheckText(const std::string& s, size_t limit, const std::string& field) {
  if (s.size() > limit) {
    return Status::InvalidArgument(field + ": longer than " + std::to_string(limit) + " bytes");
  }
  if (!IsValidUtf8(s)) return Status::InvalidArgument(field + ": not valid UTF-8");
  return Status::OK();
}

Status CheckAttributes(const Attributes& attrs) {
  if (attrs.size() > kMaxAttributes) {
    return Status::InvalidArgument("attributes: more than " + std::to_string(kMaxAttributes) +
                                   " entries");
  }
  for (const auto& [key, value] : attrs) {
    if (key.empty()) return Status::InvalidArgument("attributes: empty key");
    RECDB_RETURN_IF_ERROR(CheckText(key, kMaxAttributeKeyBytes, "attributes key"));
    const std::string field = "attributes." + key;
    if (const auto* s = std::get_if<std::string>(&value)) {
      RECDB_RETURN_IF_ERROR(CheckText(*s, kMaxAttributeValueBytes, field));
    } else if (const auto* d = std::get_if<double>(&value)) {
      if (!std::isfinite(*d)) return Status::InvalidArgument(field + ": not a finite number");
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      if (list->size() > kMaxListElements) {
        return Status::InvalidArgument(field + ": more than " +
                                       std::to_string(kMaxListElements) + " elements");
      }
      for (const auto& e : *list) {
        RECDB_RETURN_IF_ERROR(CheckText(e, kMaxAttributeValueBytes, field));
      }
    }
  }
  return Status::OK();
}

}  // namespace

const char* RecordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kItem:
      return "item";
    case RecordKind::kUser:
      return "user";
    case RecordKind::kEvent:
      return "event";
    case RecordKind::kEventType:
      return "event_type";
  }
  return "?";
}

Status ValidateItem(const Item& item) {
  RECDB_RETURN_IF_ERROR(CheckId(item.id, "id"));
  RECDB_RETURN_IF_ERROR(CheckText(item.title, kMaxTextBytes, "title"));
  RECDB_RETURN_IF_ERROR(CheckText(item.description, kMaxTextBytes, "description"));
  RECDB_RETURN_IF_ERROR(CheckText(item.creator, kMaxAttributeValueBytes, "creator"));
  if (item.categories.size() > kMaxCategories) {
    return Status::InvalidArgument("categories: more than " + std::to_string(kMaxCategories));
  }
  for (const auto& c : item.categories) {
    RECDB_RETURN_IF_ERROR(CheckText(c, kMaxAttributeValueBytes, "categories"));
  }
  if (item.created_at < kMinTimestamp || item.created_at > kMaxTimestamp) {
    return Status::InvalidArgument("created_at: outside [0, " + std::to_string(kMaxTimestamp) +
                                   "]");
  }
  return CheckAttributes(item.attributes);
}

Status ValidateUser(const User& user) {
  RECDB_RETURN_IF_ERROR(CheckId(user.id, "id"));
  return CheckAttributes(user.attributes);
}

Status ValidateEvent(const Event& event) {
  RECDB_RETURN_IF_ERROR(CheckId(event.user, "user"));
  RECDB_RETURN_IF_ERROR(CheckId(event.item, "item"));
  RECDB_RETURN_IF_ERROR(CheckId(event.type, "type"));
  if (event.has_value && !std::isfinite(event.value)) {
    return Status::InvalidArgument("value: not a finite number");
  }
  if (event.timestamp < kMinTimestamp || event.timestamp > kMaxTimestamp) {
    return Status::InvalidArgument("ts: outside [0, " + std::to_string(kMaxTimestamp) + "]");
  }
  if (event.context.size() > kMaxContextEntries) {
    return Status::InvalidArgument("context: more than " + std::to_string(kMaxContextEntries) +
                                   " entries");
  }
  for (const auto& [k, v] : event.context) {
    if (k.empty()) return Status::InvalidArgument("context: empty key");
    RECDB_RETURN_IF_ERROR(CheckText(k, kMaxAttributeKeyBytes, "context key"));
    RECDB_RETURN_IF_ERROR(CheckText(v, kMaxAttributeValueBytes, "context." + k));
  }
  return Status::OK();
}

Status ValidateEventType(const EventType& type) {
  RECDB_RETURN_IF_ERROR(CheckId(type.name, "name"));
  if (!std::isfinite(type.weight)) return Status::InvalidArgument("weight: not finite");
  return Status::OK();
}

Status ValidateRecord(const AnyRecord& record) {
  switch (KindOf(record)) {
    case RecordKind::kItem:
      return ValidateItem(std::get<Item>(record));
    case RecordKind::kUser:
      return ValidateUser(std::get<User>(record));
    case RecordKind::kEvent:
      return ValidateEvent(std::get<Event>(record));
    case RecordKind::kEventType:
      return ValidateEventType(std::get<EventType>(record));
  }
  return Status::Internal("unknown record kind");
}

}  // namespace recdb::tools
