// Fuzzes the options file parser (recdb/options_file.h): InvalidArgument or
// Options, never a crash; parsed Options print to JSON that parses to the
// same Options (OptionsToJson is a fixed point), and they pass the checks
// DB::Open makes (ParseOptionsJson validates).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "recdb/options_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recdb;
  const std::string text(reinterpret_cast<const char*>(data), size);
  StatusOr<Options> o = ParseOptionsJson(text);
  if (!o.ok()) {
    if (!o.status().IsInvalidArgument()) std::abort();
    return 0;
  }
  if (!ValidateOptions(*o).ok()) std::abort();
  const std::string printed = OptionsToJson(*o);
  StatusOr<Options> again = ParseOptionsJson(printed);
  if (!again.ok() || OptionsToJson(*again) != printed) std::abort();
  return 0;
}
