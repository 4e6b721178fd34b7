// Character-set helpers for importers: recdb stores UTF-8 text only.
#pragma once

#include <string>
#include <string_view>

namespace recdb::tools {

// Converts ISO-8859-1 (Latin-1) bytes to UTF-8. Every byte is a valid Latin-1
// character, so this never fails.
std::string Latin1ToUtf8(std::string_view latin1);

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace recdb::tools
