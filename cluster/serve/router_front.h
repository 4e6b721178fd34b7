// RouterFront: `recdb cluster router`'s request front, an HTTP entry point
// that forwards each request to a node serving it (`recdb cluster serve`),
// over the HTTP server of `recdb serve` (auth, limits, timeouts; no database:
// it never calls the service). Which node:
//   - a request naming a user (GET /v1/users/{id}/..., ?user=ID): the nodes
//     owning the user's partition (Router::Owners), in table order, else 404
//     no_node;
//   - anything else (writes: every node publishes to the same log; item
//     reads): the nodes of the table that have an address, in order.
// The first node that answers serves. Failover: the next node is tried when
// one cannot be reached and the request was not sent (no connection), or
// was a GET/HEAD; a write that may have reached a node is never re-sent
// elsewhere (502). The client's Authorization header is checked by the
// router's server and the same token is sent on to the node (the nodes share
// the router's token). The node's status and body come back unchanged, with
// "X-Recdb-Node: NAME"; when no node can be reached, 502 node_unreachable.
//
// The table: fixed, or re-read through `refresh` (the node registry) at most
// every `refresh_interval_ms` by the next request, so that nodes that join,
// move or stop reporting are seen without a restart. A failed refresh keeps
// the table it has.
//
// Thread-safety: Answer may be called from many threads (one connection per
// node per thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cluster/router.h"
#include "tools/serve/api_service.h"

namespace recdb::cluster {

class RouterFront {
 public:
  using Refresh = std::function<StatusOr<Router>()>;
  RouterFront(Router router, std::string token, Refresh refresh = {},
              int64_t refresh_interval_ms = 2000);

  serve::ApiResponse Answer(std::string_view method, std::string_view target,
                            std::string_view body);

  // The table requests are routed with now.
  std::shared_ptr<const Router> table() const;

 private:
  // How far a forwarded request got.
  enum class Reach { kNotSent, kNoAnswer, kAnswered };
  serve::ApiResponse Forward(const RouteNode& node, std::string_view method,
                             std::string_view target, std::string_view body, Reach* reach);
  // Refreshes the table when it is older than the interval (one caller does).
  void MaybeRefresh();

  const std::string token_;
  const Refresh refresh_;
  const int64_t refresh_interval_ms_;
  mutable std::mutex mu_;
  std::shared_ptr<const Router> router_;  // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point refreshed_at_;  // GUARDED_BY(mu_)
  bool refreshing_ = false;                             // GUARDED_BY(mu_)
};

}  // namespace recdb::cluster
