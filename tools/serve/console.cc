#include "tools/serve/console.h"

#include <string>

namespace recdb::serve {
namespace {

std::string_view PathOf(std::string_view target) {
  size_t q = target.find_first_of("?#");
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view ContentTypeOf(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

ApiResponse WithHeaders(ApiResponse r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kConsoleCsp));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

ApiResponse Text(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = "text/plain; charset=utf-8";
  return WithHeaders(std::move(r));
}

}  // namespace

bool IsConsoleTarget(std::string_view target) {
  std::string_view path = PathOf(target);
  return path == "/console" || path.substr(0, 9) == "/console/";
}

ApiResponse ServeConsole(std::string_view method, std::string_view target) {
  if (method != "GET" && method != "HEAD") {  // HEAD: the server drops the body
    ApiResponse r = Text(405, "the console is read with GET\n");
    r.allow = "GET, HEAD";
    return r;
  }
  std::string_view path = PathOf(target);
  if (path == "/console") {
    ApiResponse r = Text(308, "see /console/\n");
    r.headers.emplace_back("Location", "/console/");
    return r;
  }
  std::string_view name = path.substr(9);  // after "/console/"
  if (name.empty()) name = "index.html";
  // Exact match against the embedded names: no decoding, so no "..".
  for (size_t i = 0; i < kConsoleAssetCount; ++i) {
    if (name == kConsoleAssets[i].path) {
      ApiResponse r;
      r.body.assign(reinterpret_cast<const char*>(kConsoleAssets[i].data), kConsoleAssets[i].size);
      r.content_type = std::string(ContentTypeOf(name));
      return WithHeaders(std::move(r));
    }
  }
  return Text(404, "no such console file: " + std::string(name) + "\n");
}

}  // namespace recdb::serve
