// Helpers for the libFuzzer targets in tests/fuzz/.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace recdb::fuzz {

// Splits `data` into lines (on '\n', a trailing '\r' kept as the parsers see it).
template <typename Fn>
void ForEachLine(std::string_view data, Fn&& fn) {
  size_t pos = 0;
  while (pos <= data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) nl = data.size();
    fn(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

// A per-process scratch file path under $TMPDIR (for loaders that read files).
inline const std::string& ScratchPath(const char* name) {
  static const std::string path = [&] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp && *tmp ? tmp : "/tmp") + "/recdb-fuzz-" + name + "-" +
           std::to_string(::getpid());
  }();
  return path;
}

}  // namespace recdb::fuzz
