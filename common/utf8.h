// UTF-8 well-formedness: recdb stores UTF-8 text only, whichever surface
// (C++, C, Python, HTTP, importers) wrote it.
//
// Thread-safety: a pure function.
#pragma once

#include <string_view>

#include "recdb/export.h"

namespace recdb {

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF). Exported from librecdb as the public recdb/validation.h
// declares it.
RECDB_EXPORT bool IsValidUtf8(std::string_view s);

}  // namespace recdb
