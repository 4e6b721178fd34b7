// Write validation: checks one record against the limits of recdb/records.h
// before anything is written. Every failure is InvalidArgument whose message
// names the batch, the record's index and the field, e.g.
//   "events[17].timestamp: -5 is outside [0, 253402300799]".
// Checks that need database state (is the event type registered, does the
// user exist) are done by the write path itself.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>

#include "recdb/records.h"
#include "recdb/status.h"

namespace recdb {

// Rejects a batch of more than kMaxBatchSize records. `what` names the batch.
Status ValidateBatchSize(size_t size, const char* what);

Status ValidateItem(const Item& item, size_t index);
Status ValidateUser(const User& user, size_t index);
// Everything but the event type's registration and the user/item existence.
Status ValidateEvent(const Event& event, size_t index);
Status ValidateEventType(const EventType& type);

}  // namespace recdb
