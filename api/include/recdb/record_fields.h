// The fields of each record kind as every write surface spells them: JSONL
// and dump lines, CSV header columns, HTTP bodies and Python dicts. One table
// says which fields exist, their type and which are required, and one set of
// functions words the error for an unknown, missing or mistyped field, so
// every surface accepts and rejects the same record with the same message
// (tests/tools/bad_records_test.py runs one table of bad records through all
// of them). The limits of the values themselves (lengths, ranges, UTF-8) are
// checked by the DB on every write (engine/write_validation.h).
//
//   item       id*, title, description, categories, creator, created_at,
//              available, attributes
//   user       id*, attributes, consent
//   event      user*, item*, ts* (also spelt "timestamp"), type ("view"),
//              value, context
//   event_type name*, weight
//   (* required)
//
// Thread-safety: pure functions over constant tables.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "recdb/export.h"
#include "recdb/status.h"

namespace recdb {

enum class RecordKind { kItem, kUser, kEvent, kEventType };

// "item", "user", "event", "event_type".
RECDB_EXPORT const char* RecordKindName(RecordKind kind);

enum class FieldType {
  kString,      // an id or a text
  kInteger,     // a timestamp
  kNumber,      // a finite double
  kBool,
  kStringList,  // categories
  kStringMap,   // context: string -> string
  kAttributes,  // string -> string, number, bool or list of strings
  kConsent,     // {personalization, store_events, training}: booleans
};

// "string", "integer", "number", "boolean", "array of strings",
// "object of strings", "object", "object of booleans".
RECDB_EXPORT const char* FieldTypeName(FieldType type);

struct RecordField {
  const char* name;   // the canonical spelling
  FieldType type;
  bool required;
  const char* alias;  // another accepted spelling, or nullptr
};

// The fields of `kind`, in documented order.
RECDB_EXPORT const std::vector<RecordField>& RecordFields(RecordKind kind);

// The field `key` names (by name or alias), or nullptr for an unknown key.
RECDB_EXPORT const RecordField* FindRecordField(RecordKind kind, std::string_view key);

// InvalidArgument "unknown event field 'tyep' (allowed: user, item, ...)".
RECDB_EXPORT Status UnknownFieldError(RecordKind kind, std::string_view key);
// InvalidArgument "missing required event field 'ts'".
RECDB_EXPORT Status MissingFieldError(RecordKind kind, std::string_view field);
// InvalidArgument "value: expected number, got string".
RECDB_EXPORT Status WrongTypeError(std::string_view field, FieldType want, std::string_view got);

// Checks the keys of one record: each names a field of `kind` ("kind"
// itself is allowed: dump lines carry it), no field is given twice (by its
// name and its alias) and every required field is there. Returns the first
// problem, in the order above.
RECDB_EXPORT Status CheckRecordKeys(RecordKind kind, const std::vector<std::string>& keys);

}  // namespace recdb
