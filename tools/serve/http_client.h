// HttpClient: a small blocking HTTP/1.1 client for the recdb service, used by
// `recdb bench http` and the service's tests. One keep-alive connection;
// reconnects before a request when the server's last response closed it.
//
// Thread-safety: none; use one client per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "recdb/status.h"

namespace recdb::serve {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class HttpClient {
 public:
  // Connects to host:port (an IP literal). Errors: IOError.
  [[nodiscard]] static StatusOr<std::unique_ptr<HttpClient>> Connect(const std::string& host,
                                                                    uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the response. A non-empty `token` is sent as
  // "Authorization: Bearer TOKEN"; a non-empty body as application/json.
  // Errors: IOError when the connection fails (nothing is re-sent).
  [[nodiscard]] StatusOr<HttpResponse> Send(const std::string& method, const std::string& target,
                                            const std::string& body = "",
                                            const std::string& token = "");

  class Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query parameter value or path segment.
std::string UrlEncode(const std::string& s);

}  // namespace recdb::serve
