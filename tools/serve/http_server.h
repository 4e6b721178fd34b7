// HttpServer: the HTTP/1.1 front of `recdb serve` (Boost.Beast over a fixed
// pool of Asio threads). It authenticates, bounds and times each request and
// hands the whole request to ApiService (tools/serve/api_service.h).
//
// Per request, in order:
//   1. the header is read (at most max_header_bytes, else 431);
//   2. every route but GET /v1/health needs "Authorization: Bearer TOKEN"
//      (compared in constant time), else 401 before the body is read;
//   3. a Content-Length above max_body_bytes is 413 before the body is read;
//      a chunked body that grows past it is 413 too;
//   4. the body is read; the whole request must arrive within
//      request_timeout_ms of its first byte being awaited, and the response
//      must be written within it, else the connection is closed;
//   5. ApiService answers; the DB call itself is not interruptible.
// A response that closes the connection early (401, 413, 400 on a malformed
// request) shuts the socket's sending side and drains the unread input for a
// short while, so the client reads the response instead of a reset.
//
// Shutdown (Shutdown(), or SIGINT/SIGTERM with handle_signals): the listening
// socket closes at once, connections waiting for a request close, and
// requests whose header was read finish and are answered (with
// "Connection: close"); then the threads return and Wait() returns. The
// caller closes the DB after that.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "recdb/db.h"
#include "recdb/status.h"
#include "tools/serve/api_service.h"

namespace recdb::serve {

struct ServerOptions {
  // IP address to listen on. A non-loopback address is refused unless
  // allow_remote. Default: 127.0.0.1 ("localhost" means that too).
  std::string address = "127.0.0.1";
  // TCP port; 0 picks a free one (port() says which). Default: 0.
  uint16_t port = 0;
  // Allow a non-loopback address. The service speaks plain HTTP: put TLS in
  // front of it before letting traffic off the machine. Default: false.
  bool allow_remote = false;
  // The bearer token clients must send. Required (non-empty).
  std::string token;
  // Largest request body accepted; larger is 413. Default: 16 MiB (about
  // 100K events in the JSONL import format).
  size_t max_body_bytes = 16u << 20;
  // Largest request header (request line + fields); larger is 431.
  // Default: 16 KiB.
  size_t max_header_bytes = 16u << 10;
  // Time allowed to receive a request, and again to send its response
  // (milliseconds). An idle keep-alive connection is closed after it too.
  // Default: 30000.
  int64_t request_timeout_ms = 30000;
  // Threads serving requests (each runs the DB call it handles). Default: 2.
  int threads = 2;
  // Shut down gracefully on SIGINT and SIGTERM. Default: false (a library
  // user or a test calls Shutdown).
  bool handle_signals = false;
  // Where POST /v1/snapshots writes (and GET /v1/snapshots lists); empty:
  // those routes answer 409.
  std::string backup_dir;
  // Runs POST /v1/eval's evaluation; empty: DB::Evaluate (tests put a
  // stand-in here).
  std::function<StatusOr<EvaluationReport>(const EvaluateOptions&)> evaluate;
  // The database's aggregate privacy (ApiService::Config): when true, GET
  // /v1/items/{id}/interactions gives counts only, never user ids. Set it
  // false only for a database opened without aggregate noise and without
  // pseudonyms. Default: true.
  bool aggregate_privacy = true;
  double popularity_epsilon = 0.0;  // reported with the counts
  // A layer that answers every authenticated API request in place of
  // ApiService::Handle, calling `service.Handle` for the requests it does
  // not claim. Empty: ApiService answers. This is how cluster/ serves a
  // replicated node (cluster/README.md, "Serving a node"): its writes go
  // through the replicated log and its reads may wait for a log sequence,
  // while the HTTP handling (auth, limits, timeouts, shutdown) stays here.
  // Must be thread-safe (called from every server thread); must not throw.
  std::function<ApiResponse(ApiService& service, std::string_view method,
                            std::string_view target, std::string_view body)>
      front;
};

class HttpServer {
 public:
  // Binds, listens and starts the threads. `db` must outlive the server; it
  // may be null only when options.front never calls the service (cluster/'s
  // router, which forwards every request).
  // Errors: InvalidArgument for an empty token, an address that is not an IP
  // literal, a non-loopback address without allow_remote, or threads outside
  // 1..256; IOError if the address cannot be bound.
  [[nodiscard]] static StatusOr<std::unique_ptr<HttpServer>> Start(DB* db,
                                                                  const ServerOptions& options);

  // The checks Start makes before binding, so a caller can fail fast.
  // Errors: as Start's InvalidArgument cases.
  [[nodiscard]] static Status CheckOptions(const ServerOptions& options);

  // Shuts down (as Shutdown) and waits.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::string address() const;
  uint16_t port() const;

  // Starts a graceful shutdown and returns at once. Idempotent.
  void Shutdown();
  // Blocks until the server has shut down (after Shutdown or a signal) and
  // every request in flight was answered.
  void Wait();

  // Requests whose header was read and whose response is not yet written.
  int64_t in_flight() const;
  // Responses written since Start, by any route and status.
  int64_t requests_served() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace recdb::serve
