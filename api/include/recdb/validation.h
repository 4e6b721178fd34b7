// The record checks every write applies, callable without writing: an
// importer validates a row and reports it with its line number before it
// batches it (tools/import). The rules are those of recdb/records.h (ids,
// sizes, attribute limits, UTF-8); the write calls apply the same ones.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "recdb/export.h"
#include "recdb/records.h"
#include "recdb/status.h"

namespace recdb {

// OK, or InvalidArgument naming the field that breaks a rule.
RECDB_EXPORT Status ValidateItem(const Item& item);
RECDB_EXPORT Status ValidateUser(const User& user);
RECDB_EXPORT Status ValidateEvent(const Event& event);
RECDB_EXPORT Status ValidateEventType(const EventType& type);

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, at
// most U+10FFFF): what records.h requires of every id and text field.
RECDB_EXPORT bool IsValidUtf8(std::string_view s);

}  // namespace recdb
