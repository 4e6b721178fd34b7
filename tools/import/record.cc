#include "tools/import/record.h"

#include "recdb/validation.h"

namespace recdb::tools {

Status ValidateItem(const Item& item) { return ::recdb::ValidateItem(item); }

Status ValidateUser(const User& user) { return ::recdb::ValidateUser(user); }

Status ValidateEvent(const Event& event) { return ::recdb::ValidateEvent(event); }

Status ValidateEventType(const EventType& type) { return ::recdb::ValidateEventType(type); }

Status ValidateRecord(const AnyRecord& record) {
  switch (KindOf(record)) {
    case RecordKind::kItem:
      return tools::ValidateItem(std::get<Item>(record));
    case RecordKind::kUser:
      return tools::ValidateUser(std::get<User>(record));
    case RecordKind::kEvent:
      return tools::ValidateEvent(std::get<Event>(record));
    case RecordKind::kEventType:
      return tools::ValidateEventType(std::get<EventType>(record));
  }
  return Status::Internal("unknown record kind");
}

}  // namespace recdb::tools
