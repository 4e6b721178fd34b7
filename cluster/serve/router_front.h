// RouterFront: `recdb cluster router`'s request front, an HTTP entry point
// that forwards each request to a node serving it (`recdb cluster serve`),
// over the HTTP server of `recdb serve` (auth, limits, timeouts; no database:
// it never calls the service). Which node:
//   - a request naming a user (GET /v1/users/{id}/..., ?user=ID): the first
//     node owning the user's partition (Router::Route), else 404 no_node;
//   - anything else (writes: every node publishes to the same log; item
//     reads): the first node of the table that has an address.
// The client's Authorization header is checked by the router's server and
// the same token is sent on to the node (the nodes share the router's token).
// The node's status and body come back unchanged, with "X-Recdb-Node: NAME";
// a node that cannot be reached is 502 node_unreachable.
//
// Thread-safety: Answer may be called from many threads (one connection per
// node per thread).
#pragma once

#include <string>
#include <string_view>

#include "cluster/router.h"
#include "tools/serve/api_service.h"

namespace recdb::cluster {

class RouterFront {
 public:
  RouterFront(Router router, std::string token) : router_(std::move(router)), token_(std::move(token)) {}

  serve::ApiResponse Answer(std::string_view method, std::string_view target,
                            std::string_view body);

 private:
  serve::ApiResponse Forward(const RouteNode& node, std::string_view method,
                             std::string_view target, std::string_view body);

  Router router_;
  std::string token_;
};

}  // namespace recdb::cluster
