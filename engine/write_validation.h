// Write validation: checks one record against the limits of recdb/records.h
// before anything is written. This is the one place those limits (lengths,
// counts, ranges, finiteness, well-formed UTF-8) are checked: the DB runs it
// on every write, whichever surface the record came from (C++, C API,
// Python, HTTP, importers), and the importers run it early through
// tools/import/record.h to report a bad line by its line number. (The keys
// of a record as JSON, CSV or a dict are checked by recdb/record_fields.h.)
//
// Every failure is InvalidArgument whose message starts with `where` and the
// field, e.g. "events[17].timestamp: -5 is outside [0, 253402300799]"
// (where = "events[17]") or "timestamp: ..." (where = "").
// Checks that need database state (is the event type registered, does the
// user exist) are done by the write path itself.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

#include "recdb/records.h"
#include "recdb/validation.h"  // the exported one-argument forms
#include "recdb/status.h"

namespace recdb {

// Rejects a batch of more than kMaxBatchSize records. `what` names the batch.
Status ValidateBatchSize(size_t size, const char* what);

Status ValidateItem(const Item& item, std::string_view where);
Status ValidateUser(const User& user, std::string_view where);
// Everything but the event type's registration and the user/item existence.
Status ValidateEvent(const Event& event, std::string_view where);
Status ValidateEventType(const EventType& type);

// The same for element `index` of a batch: where = "items[index]", ...
Status ValidateItem(const Item& item, size_t index);
Status ValidateUser(const User& user, size_t index);
Status ValidateEvent(const Event& event, size_t index);

}  // namespace recdb
