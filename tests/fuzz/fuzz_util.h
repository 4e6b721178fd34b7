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

// A per-process scratch file path (for loaders that read files): under
// $TMPDIR if set, else /dev/shm (tmpfs: the per-input writes and fsyncs cost
// no disk I/O), else /tmp.
inline const std::string& ScratchPath(const char* name) {
  static const std::string path = [&] {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = tmp && *tmp ? tmp : "/tmp";
    if (!(tmp && *tmp) && ::access("/dev/shm", W_OK) == 0) dir = "/dev/shm";
    return dir + "/recdb-fuzz-" + name + "-" + std::to_string(::getpid());
  }();
  // Removed (with a writer's "<path>.tmp") when the fuzzer exits normally.
  [[maybe_unused]] static const int cleanup = std::atexit([] {
    ::unlink(path.c_str());
    ::unlink((path + ".tmp").c_str());
  });
  return path;
}

}  // namespace recdb::fuzz
