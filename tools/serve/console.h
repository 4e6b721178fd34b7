// The web console of `recdb serve` (console/README.md): static HTML, CSS and
// JavaScript embedded in the binary at build time (cmake/embed_files.cmake
// turns console/src/* into a generated .cc) and served under /console/.
//
// The assets are public (no token: the login page must load); every datum the
// console shows comes from the /v1/ JSON API with the bearer token, which the
// page keeps in sessionStorage. Each asset is answered with a strict
// Content-Security-Policy (default-src 'self', no inline script or style
// element, no frames, no other origin), nosniff and no-referrer, so the
// console fetches nothing from outside the server it came from.
//
// Thread-safety: pure functions over constant data.
#pragma once

#include <cstddef>
#include <string_view>

#include "tools/serve/api_service.h"

namespace recdb::serve {

// One embedded file: its path relative to console/src ("app.js").
struct ConsoleAsset {
  const char* path;
  const unsigned char* data;
  size_t size;
};

// Defined in the generated console_assets.cc.
extern const ConsoleAsset kConsoleAssets[];
extern const size_t kConsoleAssetCount;

// Whether the request target's path is the console's: "/console" or under
// "/console/".
bool IsConsoleTarget(std::string_view target);

// The Content-Security-Policy every console response carries.
inline constexpr std::string_view kConsoleCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// Answers a request for a console target: GET of an embedded file (200 with
// its content type), "/console" (308 to "/console/"), "/console/"
// (index.html); an unknown file is 404 and another method 405.
ApiResponse ServeConsole(std::string_view method, std::string_view target);

}  // namespace recdb::serve
