// Fuzzes the JSONL import path: ParseJsonObject, RecordFromJson (with and
// without an expected kind), validation, and the dump round trip: a record
// that parses and validates must serialise and parse back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "fuzz_util.h"
#include "tools/import/record.h"
#include "tools/import/record_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recdb::tools;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  recdb::fuzz::ForEachLine(text, [](std::string_view line) {
    auto j = ParseJsonObject(line);
    if (!j.ok()) return;
    const std::optional<RecordKind> kinds[] = {std::nullopt, RecordKind::kItem, RecordKind::kUser,
                                               RecordKind::kEvent, RecordKind::kEventType};
    for (const auto& kind : kinds) {
      auto r = RecordFromJson(*j, kind);
      if (!r.ok() || !ValidateRecord(*r).ok()) continue;
      // Round trip through the dump format.
      const std::string dumped = JsonLine(ToDumpJson(*r));
      auto j2 = ParseJsonObject(dumped);
      if (!j2.ok()) std::abort();
      auto r2 = RecordFromJson(*j2, std::nullopt);
      if (!r2.ok() || !(*r2 == *r)) std::abort();
    }
  });
  return 0;
}
