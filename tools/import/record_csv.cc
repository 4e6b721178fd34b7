#include "tools/import/record_csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "tools/import/record_json.h"
#include "tools/import/text_encoding.h"

namespace recdb::tools {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

StatusOr<bool> ParseBoolText(const std::string& s, const std::string& field) {
  std::string l = Lower(s);
  if (l == "true" || l == "1" || l == "yes") return true;
  if (l == "false" || l == "0" || l == "no") return false;
  return Status::InvalidArgument(field + ": expected true or false, got '" + s + "'");
}

StatusOr<double> ParseDoubleText(const std::string& s, const std::string& field) {
  double d = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, d);
  if (s.empty() || ec != std::errc() || ptr != end || !std::isfinite(d)) {
    return Status::InvalidArgument(field + ": expected a number, got '" + s + "'");
  }
  return d;
}

StatusOr<int64_t> ParseInt64Text(const std::string& s, const std::string& field) {
  int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end) {
    return Status::InvalidArgument(field + ": expected an integer, got '" + s + "'");
  }
  return v;
}

std::vector<std::string> SplitList(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

StatusOr<CsvRecordMapper> CsvRecordMapper::Create(RecordKind kind,
                                                  const std::vector<std::string>& header) {
  std::vector<Column> columns;
  std::set<std::string> seen;
  std::set<std::string> canonical;  // the fields the plain columns name
  for (std::string name : header) {
    // Tolerate a UTF-8 byte-order mark and surrounding spaces in the header.
    if (columns.empty() && name.rfind("\xEF\xBB\xBF", 0) == 0) name = name.substr(3);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("header: duplicate column '" + name + "'");
    }
    Column col;
    col.name = name;
    if (const RecordField* f = FindRecordField(kind, name)) {
      col.field = f->name;  // "timestamp" is the column "ts"
      if (!canonical.insert(col.field).second) {
        return Status::InvalidArgument("header: column '" + col.field + "' given twice (as '" +
                                       col.field + "' and '" + name + "')");
      }
      if (col.field == "attributes" || col.field == "context" || col.field == "consent") {
        col.type = ValueType::kJsonObject;
      }
      columns.push_back(col);
      continue;
    }
    size_t dot = name.find('.');
    std::string prefix = dot == std::string::npos ? "" : name.substr(0, dot);
    bool prefix_ok = (prefix == "attributes" && kind != RecordKind::kEvent &&
                      kind != RecordKind::kEventType) ||
                     (prefix == "context" && kind == RecordKind::kEvent) ||
                     (prefix == "consent" && kind == RecordKind::kUser);
    if (!prefix_ok || dot + 1 >= name.size()) {
      std::string also;
      if (kind == RecordKind::kItem || kind == RecordKind::kUser) also += ", attributes.KEY";
      if (kind == RecordKind::kEvent) also += ", context.KEY";
      if (kind == RecordKind::kUser) also += ", consent.KEY";
      // The same words as every other surface (recdb/record_fields.h).
      std::string msg = UnknownFieldError(kind, name).message();
      if (!also.empty()) msg.insert(msg.size() - 1, also);
      return Status::InvalidArgument("header: " + msg);
    }
    col.field = prefix;
    col.key = name.substr(dot + 1);
    if (prefix == "attributes") {
      size_t colon = col.key.rfind(':');
      if (colon != std::string::npos) {
        std::string type = col.key.substr(colon + 1);
        col.key = col.key.substr(0, colon);
        if (type == "number") {
          col.type = ValueType::kNumber;
        } else if (type == "bool") {
          col.type = ValueType::kBool;
        } else if (type == "list") {
          col.type = ValueType::kList;
        } else if (type != "string") {
          return Status::InvalidArgument("header: column '" + name + "': unknown type '" +
                                         type + "' (allowed: string, number, bool, list)");
        }
      }
    } else if (prefix == "consent") {
      if (col.key != "personalization" && col.key != "store_events" && col.key != "training") {
        return Status::InvalidArgument("header: unknown consent column '" + name +
                                       "' (allowed: personalization, store_events, training)");
      }
      col.type = ValueType::kBool;
    }
    columns.push_back(col);
  }
  for (const RecordField& f : RecordFields(kind)) {
    if (f.required && !canonical.count(f.name)) {
      return Status::InvalidArgument("header: " + MissingFieldError(kind, f.name).message());
    }
  }
  return CsvRecordMapper(kind, std::move(columns));
}

StatusOr<AnyRecord> CsvRecordMapper::Map(const std::vector<std::string>& row) const {
  if (row.size() != columns_.size()) {
    return Status::InvalidArgument("expected " + std::to_string(columns_.size()) +
                                   " fields, got " + std::to_string(row.size()));
  }
  Item item;
  User user;
  Event event;
  EventType type;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& col = columns_[i];
    const std::string& cell = row[i];
    const std::string& f = col.field;
    // Required text fields keep an empty cell (validation then names it);
    // every other empty cell means "default".
    bool required_text = f == "id" || f == "user" || f == "item" || f == "name";
    if (cell.empty() && !required_text) continue;
    if (col.type == ValueType::kJsonObject) {
      // The JSON parser rejects invalid UTF-8 as malformed: name the column.
      // Plain cells are checked with every other field by the write validator.
      if (!IsValidUtf8(cell)) return Status::InvalidArgument(col.name + ": not valid UTF-8");
      RECDB_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonObject(cell));
      if (f == "attributes") {
        for (const auto& [k, v] : j.items()) {
          RECDB_ASSIGN_OR_RETURN(AttributeValue av, AttributeValueFromJson(v, "attributes." + k));
          (kind_ == RecordKind::kItem ? item.attributes : user.attributes)[k] = std::move(av);
        }
      } else if (f == "context") {
        for (const auto& [k, v] : j.items()) {
          if (!v.is_string()) {
            return Status::InvalidArgument("context." + k + ": expected string, got " +
                                           v.type_name());
          }
          event.context[k] = v.get<std::string>();
        }
      } else {  // consent
        nlohmann::json wrapped = {{"id", "x"}, {"consent", j}};
        RECDB_ASSIGN_OR_RETURN(User u, UserFromJson(wrapped));
        user.consent = u.consent;
      }
      continue;
    }
    if (f == "attributes") {
      AttributeValue v;
      switch (col.type) {
        case ValueType::kNumber: {
          RECDB_ASSIGN_OR_RETURN(double d, ParseDoubleText(cell, col.name));
          v = d;
          break;
        }
        case ValueType::kBool: {
          RECDB_ASSIGN_OR_RETURN(bool b, ParseBoolText(cell, col.name));
          v = b;
          break;
        }
        case ValueType::kList:
          v = SplitList(cell);
          break;
        default:
          v = cell;
      }
      (kind_ == RecordKind::kItem ? item.attributes : user.attributes)[col.key] = std::move(v);
    } else if (f == "context") {
      event.context[col.key] = cell;
    } else if (f == "consent") {
      RECDB_ASSIGN_OR_RETURN(bool b, ParseBoolText(cell, col.name));
      if (col.key == "personalization") user.consent.personalization = b;
      if (col.key == "store_events") user.consent.store_events = b;
      if (col.key == "training") user.consent.training = b;
    } else if (f == "id") {
      item.id = cell;
      user.id = cell;
    } else if (f == "title") {
      item.title = cell;
    } else if (f == "description") {
      item.description = cell;
    } else if (f == "categories") {
      item.categories = SplitList(cell);
    } else if (f == "creator") {
      item.creator = cell;
    } else if (f == "created_at") {
      RECDB_ASSIGN_OR_RETURN(item.created_at, ParseInt64Text(cell, col.name));
    } else if (f == "available") {
      RECDB_ASSIGN_OR_RETURN(item.available, ParseBoolText(cell, col.name));
    } else if (f == "user") {
      event.user = cell;
    } else if (f == "item") {
      event.item = cell;
    } else if (f == "type") {
      event.type = cell;
    } else if (f == "ts") {
      RECDB_ASSIGN_OR_RETURN(event.timestamp, ParseInt64Text(cell, col.name));
    } else if (f == "value") {
      RECDB_ASSIGN_OR_RETURN(event.value, ParseDoubleText(cell, col.name));
      event.has_value = true;
    } else if (f == "name") {
      type.name = cell;
    } else if (f == "weight") {
      RECDB_ASSIGN_OR_RETURN(type.weight, ParseDoubleText(cell, col.name));
    }
  }
  switch (kind_) {
    case RecordKind::kItem:
      return AnyRecord(std::move(item));
    case RecordKind::kUser:
      return AnyRecord(std::move(user));
    case RecordKind::kEvent:
      return AnyRecord(std::move(event));
    case RecordKind::kEventType:
      return AnyRecord(std::move(type));
  }
  return Status::Internal("unknown record kind");
}

}  // namespace recdb::tools
