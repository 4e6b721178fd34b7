#include "cluster/serve/router_front.h"

#include <map>
#include <memory>
#include <optional>

#include "cluster/serve/node_front.h"
#include "tools/serve/http_client.h"
#include "tools/serve/request.h"

namespace recdb::cluster {
namespace {

using serve::ApiResponse;
using serve::ApiService;

// "host:port" -> (host, port).
bool SplitAddress(const std::string& address, std::string* host, uint16_t* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = address.substr(0, colon);
  const unsigned long p = std::strtoul(address.c_str() + colon + 1, nullptr, 10);
  if (p == 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return true;
}

}  // namespace

RouterFront::RouterFront(Router router, std::string token, Refresh refresh,
                         int64_t refresh_interval_ms)
    : token_(std::move(token)),
      refresh_(std::move(refresh)),
      refresh_interval_ms_(refresh_interval_ms),
      router_(std::make_shared<const Router>(std::move(router))),
      refreshed_at_(std::chrono::steady_clock::now()) {}

std::shared_ptr<const Router> RouterFront::table() const {
  std::lock_guard<std::mutex> lock(mu_);
  return router_;
}

void RouterFront::MaybeRefresh() {
  if (!refresh_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto age = std::chrono::steady_clock::now() - refreshed_at_;
    if (refreshing_ || age < std::chrono::milliseconds(refresh_interval_ms_)) return;
    refreshing_ = true;  // the others route with the current table meanwhile
  }
  StatusOr<Router> fresh = refresh_();
  std::lock_guard<std::mutex> lock(mu_);
  if (fresh.ok()) router_ = std::make_shared<const Router>(std::move(fresh).value());
  refreshed_at_ = std::chrono::steady_clock::now();
  refreshing_ = false;
}

ApiResponse RouterFront::Forward(const RouteNode& node, std::string_view method,
                                 std::string_view target, std::string_view body, Reach* reach) {
  *reach = Reach::kNotSent;
  std::string host;
  uint16_t port = 0;
  if (!SplitAddress(node.address, &host, &port)) {
    return ApiService::Error(502, "node_unreachable",
                             "node \"" + node.name + "\" has no HTTP address (\"" + node.address +
                                 "\")");
  }
  // One keep-alive connection per node per server thread.
  thread_local std::map<std::string, std::unique_ptr<serve::HttpClient>> clients;
  StatusOr<serve::HttpResponse> r = Status::IOError("not sent");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto& client = clients[node.address];
    if (client == nullptr) {
      StatusOr<std::unique_ptr<serve::HttpClient>> c = serve::HttpClient::Connect(host, port);
      if (!c.ok()) {
        r = c.status();
        break;
      }
      client = std::move(c).value();
    }
    *reach = Reach::kNoAnswer;
    r = client->Send(std::string(method), std::string(target), std::string(body), token_);
    if (r.ok()) break;
    client.reset();  // a stale keep-alive connection: reconnect once
    if (method != "GET" && method != "HEAD") break;  // never re-send a write blindly
  }
  if (!r.ok()) {
    return ApiService::Error(502, "node_unreachable",
                             "node \"" + node.name + "\" at " + node.address + ": " +
                                 r.status().ToString());
  }
  *reach = Reach::kAnswered;
  ApiResponse out;
  out.status = r->status;
  out.body = std::move(r->body);
  auto ct = r->headers.find("content-type");
  if (ct != r->headers.end()) out.content_type = ct->second;
  auto ra = r->headers.find("retry-after");
  if (ra != r->headers.end()) out.headers.emplace_back("Retry-After", ra->second);
  out.headers.emplace_back("X-Recdb-Node", node.name);
  return out;
}

ApiResponse RouterFront::Answer(std::string_view method, std::string_view target,
                                std::string_view body) {
  StatusOr<serve::Target> t = serve::ParseTarget(target);
  if (!t.ok()) return ApiService::Error(400, "invalid_argument", t.status().message());
  if (t->path == "/v1/health") {
    ApiResponse r;
    r.body = "{\"status\":\"ok\",\"role\":\"router\"}\n";
    return r;
  }
  std::optional<std::string> user = PathUser(target.substr(0, target.find('?')));
  for (const auto& [k, v] : t->query) {
    if (k == "user") user = v;
  }
  MaybeRefresh();
  const std::shared_ptr<const Router> router = table();
  std::vector<const RouteNode*> candidates;
  if (user && !user->empty()) {
    StatusOr<const RouteNode*> first = router->Route(*user);
    if (!first.ok()) return ApiService::Error(404, "no_node", first.status().message());
    candidates = router->Owners(*user);
  } else {
    for (const RouteNode& n : router->nodes()) {
      if (!n.address.empty()) candidates.push_back(&n);
    }
    if (candidates.empty()) {
      return ApiService::Error(503, "no_node", "no node with an HTTP address in the routing table");
    }
  }
  const bool idempotent = method == "GET" || method == "HEAD";
  ApiResponse r;
  for (const RouteNode* node : candidates) {
    Reach reach = Reach::kNotSent;
    r = Forward(*node, method, target, body, &reach);
    if (reach == Reach::kAnswered || (reach == Reach::kNoAnswer && !idempotent)) return r;
  }
  return r;  // the last node's 502
}

}  // namespace recdb::cluster
