#include "recdb/record_fields.h"

#include <algorithm>

namespace recdb {
namespace {

using F = FieldType;

const std::vector<RecordField> kItemFields = {
    {"id", F::kString, true, nullptr},          {"title", F::kString, false, nullptr},
    {"description", F::kString, false, nullptr}, {"categories", F::kStringList, false, nullptr},
    {"creator", F::kString, false, nullptr},     {"created_at", F::kInteger, false, nullptr},
    {"available", F::kBool, false, nullptr},     {"attributes", F::kAttributes, false, nullptr},
};
const std::vector<RecordField> kUserFields = {
    {"id", F::kString, true, nullptr},
    {"attributes", F::kAttributes, false, nullptr},
    {"consent", F::kConsent, false, nullptr},
};
const std::vector<RecordField> kEventFields = {
    {"user", F::kString, true, nullptr},      {"item", F::kString, true, nullptr},
    {"type", F::kString, false, nullptr},     {"ts", F::kInteger, true, "timestamp"},
    {"value", F::kNumber, false, nullptr},    {"context", F::kStringMap, false, nullptr},
};
const std::vector<RecordField> kEventTypeFields = {
    {"name", F::kString, true, nullptr},
    {"weight", F::kNumber, false, nullptr},
};

std::string Allowed(RecordKind kind) {
  std::string out;
  for (const RecordField& f : RecordFields(kind)) {
    if (!out.empty()) out += ", ";
    out += f.name;
    if (f.alias != nullptr) {
      out += " (or ";
      out += f.alias;
      out += ")";
    }
  }
  return out;
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

const char* FieldTypeName(FieldType type) {
  switch (type) {
    case F::kString:
      return "string";
    case F::kInteger:
      return "integer";
    case F::kNumber:
      return "number";
    case F::kBool:
      return "boolean";
    case F::kStringList:
      return "array of strings";
    case F::kStringMap:
      return "object of strings";
    case F::kAttributes:
      return "object";
    case F::kConsent:
      return "object of booleans";
  }
  return "?";
}

const std::vector<RecordField>& RecordFields(RecordKind kind) {
  switch (kind) {
    case RecordKind::kItem:
      return kItemFields;
    case RecordKind::kUser:
      return kUserFields;
    case RecordKind::kEvent:
      return kEventFields;
    case RecordKind::kEventType:
      return kEventTypeFields;
  }
  return kItemFields;
}

const RecordField* FindRecordField(RecordKind kind, std::string_view key) {
  for (const RecordField& f : RecordFields(kind)) {
    if (key == f.name || (f.alias != nullptr && key == f.alias)) return &f;
  }
  return nullptr;
}

Status UnknownFieldError(RecordKind kind, std::string_view key) {
  return Status::InvalidArgument("unknown " + std::string(RecordKindName(kind)) + " field '" +
                                 std::string(key.substr(0, 64)) + "' (allowed: " +
                                 Allowed(kind) + ")");
}

Status MissingFieldError(RecordKind kind, std::string_view field) {
  return Status::InvalidArgument("missing required " + std::string(RecordKindName(kind)) +
                                 " field '" + std::string(field) + "'");
}

Status WrongTypeError(std::string_view field, FieldType want, std::string_view got) {
  return Status::InvalidArgument(std::string(field) + ": expected " + FieldTypeName(want) +
                                 ", got " + std::string(got));
}

Status CheckRecordKeys(RecordKind kind, const std::vector<std::string>& keys) {
  std::vector<const RecordField*> seen;
  for (const std::string& key : keys) {
    if (key == "kind") continue;
    const RecordField* f = FindRecordField(kind, key);
    if (f == nullptr) return UnknownFieldError(kind, key);
    if (std::find(seen.begin(), seen.end(), f) != seen.end()) {
      return Status::InvalidArgument(std::string(f->name) + ": given twice" +
                                     (f->alias != nullptr ? std::string(" (as '") + f->name +
                                                                "' and '" + f->alias + "')"
                                                          : std::string()));
    }
    seen.push_back(f);
  }
  for (const RecordField& f : RecordFields(kind)) {
    if (f.required && std::find(seen.begin(), seen.end(), &f) == seen.end()) {
      return MissingFieldError(kind, f.name);
    }
  }
  return Status::OK();
}

}  // namespace recdb
