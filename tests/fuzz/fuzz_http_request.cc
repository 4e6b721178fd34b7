// Fuzzes the HTTP service's request parsing (tools/serve/request.h), the
// part of `recdb serve` that sees untrusted bytes after authentication:
// input is "METHOD\nTARGET\nBODY". ParseRequest must never crash or throw,
// and its result must be coherent: a call, or 400/404/405 with a message
// (405 naming the allowed method).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tools/serve/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\n');
  if (a == std::string_view::npos) return 0;
  size_t b = in.find('\n', a + 1);
  if (b == std::string_view::npos) return 0;
  std::string_view method = in.substr(0, a);
  std::string_view target = in.substr(a + 1, b - a - 1);
  std::string_view body = in.substr(b + 1);
  recdb::serve::ParsedRequest p = recdb::serve::ParseRequest(method, target, body);
  if (p.ok()) {
    if (!p.message.empty()) std::abort();
  } else {
    if (p.http_status != 400 && p.http_status != 404 && p.http_status != 405) std::abort();
    if (p.message.empty()) std::abort();
    if ((p.http_status == 405) != !p.allow.empty()) std::abort();
  }
  (void)recdb::serve::RequiresAuth(target);
  return 0;
}
