// UTF-8 well-formedness: recdb stores UTF-8 text only, whichever surface
// (C++, C, Python, HTTP, importers) wrote it.
//
// Thread-safety: a pure function.
#pragma once

#include <string_view>

namespace recdb {

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace recdb
