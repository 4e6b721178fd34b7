// Fuzzes the CSV import path: ParseCsvRecord (quoting, multi-line records)
// and CsvRecordMapper (header -> columns, cells -> records), then the
// client-side validation. Input: byte 0 picks the record kind and delimiter;
// the first record is the header, the rest are rows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "tools/import/csv_reader.h"
#include "tools/import/record.h"
#include "tools/import/record_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recdb::tools;
  if (size < 1) return 0;
  const RecordKind kinds[] = {RecordKind::kItem, RecordKind::kUser, RecordKind::kEvent};
  const RecordKind kind = kinds[data[0] % 3];
  const char delimiter = (data[0] >> 2) & 1 ? '\t' : ',';
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::optional<CsvRecordMapper> mapper;
  bool header_failed = false;
  std::string record;
  recdb::fuzz::ForEachLine(text, [&](std::string_view line) {
    if (header_failed) return;
    if (!record.empty()) record += '\n';
    record.append(line);
    if (record.size() > (1u << 16)) {  // the reader's max_record_bytes, scaled down
      record.clear();
      return;
    }
    std::vector<std::string> fields;
    bool complete = false;
    recdb::Status s = ParseCsvRecord(record, delimiter, &fields, &complete);
    if (s.ok() && !complete) return;  // a quoted newline: read on
    record.clear();
    if (!s.ok()) return;
    if (!mapper) {
      auto m = CsvRecordMapper::Create(kind, fields);
      if (!m.ok()) {
        header_failed = true;
        return;
      }
      mapper.emplace(std::move(*m));
      return;
    }
    auto r = mapper->Map(fields);
    if (r.ok()) ValidateRecord(*r).IgnoreError();
  });
  return 0;
}
