// CSV form of the import records: a header row names the columns, the same
// fields as the JSONL format (record_json.h).
//
//   items:  id,title,description,categories,creator,created_at,available,attributes
//   users:  id,attributes,consent.personalization,consent.store_events,consent.training
//   events: user,item,type,ts,value,context
//
// Any subset of columns in any order, as long as the required ones are there
// (id; user,item,ts). `categories` is '|'-separated. `attributes`, `consent`
// and `context` cells hold a JSON object (empty cell = none). Single entries
// may also be columns of their own: `context.device`, `consent.training`,
// `attributes.brand` (a string), `attributes.price:number`,
// `attributes.new:bool`, `attributes.tags:list` ('|'-separated). An empty
// cell leaves the field at its default. Unknown columns are an error.
#pragma once

#include <string>
#include <vector>

#include "tools/import/record.h"

namespace recdb::tools {

class CsvRecordMapper {
 public:
  // Errors: InvalidArgument for an unknown or duplicate column or a missing
  // required one.
  [[nodiscard]] static StatusOr<CsvRecordMapper> Create(RecordKind kind,
                                                        const std::vector<std::string>& header);

  // Errors: InvalidArgument naming the column (wrong field count, bad number
  // or boolean, malformed JSON cell, invalid UTF-8).
  [[nodiscard]] StatusOr<AnyRecord> Map(const std::vector<std::string>& row) const;

 private:
  enum class ValueType { kString, kNumber, kBool, kList, kJsonObject };
  struct Column {
    std::string name;    // as in the header
    std::string field;   // "id", "attributes", "context", "consent", ...
    std::string key;     // for "attributes.KEY" / "context.KEY" / "consent.KEY"
    ValueType type = ValueType::kString;
  };
  CsvRecordMapper(RecordKind kind, std::vector<Column> columns)
      : kind_(kind), columns_(std::move(columns)) {}

  RecordKind kind_;
  std::vector<Column> columns_;
};

// Parses "true"/"false"/"1"/"0"/"yes"/"no" (any case).
[[nodiscard]] StatusOr<bool> ParseBoolText(const std::string& s, const std::string& field);
// Parses a whole string as a finite double / an int64.
[[nodiscard]] StatusOr<double> ParseDoubleText(const std::string& s, const std::string& field);
[[nodiscard]] StatusOr<int64_t> ParseInt64Text(const std::string& s, const std::string& field);
// Splits on '|'; "" gives an empty list.
std::vector<std::string> SplitList(const std::string& s, char sep = '|');

}  // namespace recdb::tools
