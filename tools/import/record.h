// The records an import file can hold, as one tagged value, and their
// client-side validation against the limits in recdb/records.h.
//
// The importer validates every record while it builds a batch, so a bad line
// is reported with its own line number instead of failing the whole batch
// inside the DB. The checks are the DB's own (engine/write_validation.h, with
// no batch index in the message: "timestamp: ... is outside ..."), so a
// record the importer accepts is one the DB accepts, with the same message
// on every surface.
#pragma once

#include <string>
#include <variant>

#include "recdb/record_fields.h"
#include "recdb/records.h"
#include "recdb/status.h"

namespace recdb::tools {

using ::recdb::RecordKind;
using ::recdb::RecordKindName;

using AnyRecord = std::variant<Item, User, Event, EventType>;

inline RecordKind KindOf(const AnyRecord& r) { return static_cast<RecordKind>(r.index()); }

// Errors: InvalidArgument naming the field and the limit it breaks.
[[nodiscard]] Status ValidateItem(const Item& item);
[[nodiscard]] Status ValidateUser(const User& user);
// Does not check that event.type is registered; the importer does.
[[nodiscard]] Status ValidateEvent(const Event& event);
[[nodiscard]] Status ValidateEventType(const EventType& type);
[[nodiscard]] Status ValidateRecord(const AnyRecord& record);

}  // namespace recdb::tools
