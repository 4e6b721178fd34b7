#include "cluster/serve/node_front.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/event_codec.h"
#include "tools/import/record_json.h"
#include "tools/serve/http_client.h"
#include "tools/serve/request.h"

namespace recdb::cluster {
namespace {

using ojson = nlohmann::ordered_json;
using serve::ApiResponse;
using serve::ApiService;

ApiResponse Json(int status, const ojson& j) {
  ApiResponse r;
  r.status = status;
  r.body = tools::JsonLine(j);
  return r;
}

std::optional<int64_t> ToInt(const std::string& v) {
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || x < 0) return std::nullopt;
  return x;
}

}  // namespace

// "/v1/users/{id}/..." (as sent, percent-encoded) -> id, decoded; the
// segment is split before decoding, so an id holding "%2F" stays whole.
std::optional<std::string> PathUser(std::string_view raw_path) {
  const std::string_view prefix = "/v1/users/";
  if (raw_path.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view seg = raw_path.substr(prefix.size());
  seg = seg.substr(0, seg.find('/'));
  if (seg.empty()) return std::nullopt;
  // ParseTarget decodes query values only ('+' as a space): decode the
  // segment as one, with a literal '+' kept.
  std::string q = "/?u=";
  for (char c : seg) q += c == '+' ? std::string("%2B") : std::string(1, c);
  StatusOr<serve::Target> t = serve::ParseTarget(q);
  if (!t.ok() || t->query.size() != 1) return std::nullopt;
  return t->query[0].second;
}

ApiResponse NodeFront::ClusterStatus() {
  const NodeReport r = node_->Report();
  ojson j{{"node", name_},
          {"applied", r.applied},
          {"partitions", r.partitions},
          {"owned", FormatPartitionSet(r.owned)},
          {"stored", r.stored},
          {"counted_only", r.counted_only},
          {"dropped_forgotten", r.dropped_forgotten},
          {"model_version", r.model_version},
          {"trainer", r.trainer}};
  StatusOr<StreamIdentity> id = node_->log()->Describe(node_->log()->options().api_timeout_ms);
  if (id.ok()) {
    j["last_sequence"] = id->last_seq;
    j["lag"] = id->last_seq > r.applied ? id->last_seq - r.applied : 0;
    j["log"] = "ok";
  } else {
    j["log"] = id.status().ToString();  // reads still serve; they may be stale
  }
  if (!r.error.empty()) j["apply_error"] = r.error;
  return Json(200, j);
}

ApiResponse NodeFront::Models() {
  const NodeReport r = node_->Report();
  StatusOr<std::string> holder = TrainerLock(node_->log(), {.candidate = name_}).Holder();
  if (!holder.ok()) return ApiService::Error(503, "log_unavailable", holder.status().ToString());
  StatusOr<std::vector<ModelManifest>> all = ListPublishedModels(node_->log());
  if (!all.ok()) return ApiService::Error(503, "log_unavailable", all.status().ToString());
  ojson models = ojson::array();
  const StreamIdentity& id = node_->identity();
  for (const ModelManifest& m : *all) {
    if (m.created_ns != id.created_ns || m.partitions != id.partitions) continue;
    ojson files = ojson::array();
    for (const ShippedFile& f : m.files) files.push_back(f.name);
    models.push_back(ojson{{"version", m.version},
                           {"position", m.position},
                           {"trainer", m.trainer},
                           {"bytes", m.bytes},
                           {"files", files}});
  }
  return Json(200, ojson{{"node", name_},
                         {"model_version", r.model_version},
                         {"trainer", r.trainer},
                         {"trainer_lock", *holder},
                         {"models", models}});
}

ApiResponse NodeFront::RunModelRound(int wait_ms) {
  ModelLoop* loop = models_.load(std::memory_order_acquire);
  if (loop == nullptr) {
    return ApiService::Error(409, "no_model_loop",
                             "this node runs no model loop (start it with --trainer or "
                             "--follow-models)");
  }
  StatusOr<ModelLoopStats> st = loop->RunRoundNow(wait_ms);
  if (!st.ok()) return ApiService::Error(503, "model_round_pending", st.status().message());
  return Json(200, ojson{{"rounds", st->rounds},
                         {"holds_lock", st->holds_lock},
                         {"published_version", st->published_version},
                         {"installed_version", st->installed_version},
                         {"last_error", st->last_error}});
}

ApiResponse NodeFront::Answer(ApiService& service, std::string_view method,
                              std::string_view target, std::string_view body) {
  StatusOr<serve::Target> t = serve::ParseTarget(target);
  if (!t.ok()) return service.Handle(method, target, body);  // its 400
  // Take the cluster's own parameters out; the rest goes to the service.
  std::optional<std::string> request_id, min_sequence, wait_ms;
  std::string rest;
  std::string user_param;
  for (const auto& [k, v] : t->query) {
    if (k == "request_id") {
      request_id = v;
    } else if (k == "min_sequence") {
      min_sequence = v;
    } else if (k == "wait_ms") {
      wait_ms = v;
    } else {
      if (k == "user") user_param = v;
      rest += (rest.empty() ? "?" : "&") + serve::UrlEncode(k) + "=" + serve::UrlEncode(v);
    }
  }
  const std::string path = t->path;
  // The path as sent (still percent-encoded), then the remaining parameters.
  const std::string_view raw_path = target.substr(0, target.find('?'));
  const std::string forwarded = std::string(raw_path) + rest;

  int wait = 0;
  if (wait_ms) {
    std::optional<int64_t> w = ToInt(*wait_ms);
    if (!w) return ApiService::Error(400, "invalid_argument", "wait_ms: expected an integer >= 0");
    wait = static_cast<int>(std::min<int64_t>(*w, max_wait_ms_));
  }

  if (path == "/v1/cluster" && (method == "GET" || method == "HEAD")) return ClusterStatus();
  if (path == "/v1/cluster/models") {
    if (method == "GET" || method == "HEAD") return Models();
    if (method == "POST") return RunModelRound(wait_ms ? wait : std::min(60000, max_wait_ms_));
    ApiResponse r = ApiService::Error(405, "method_not_allowed", "GET or POST");
    r.allow = "GET, HEAD, POST";
    return r;
  }

  if (method == "POST" && (path == "/v1/events" || path == "/v1/forget" || path == "/v1/items" ||
                           path == "/v1/users" || path == "/v1/impressions")) {
    if (!request_id || request_id->empty()) {
      return ApiService::Error(
          400, "invalid_argument",
          "request_id=ID is required on a cluster node: a request retried with the same id is "
          "stored once");
    }
    serve::ParsedRequest p = serve::ParseRequest(method, forwarded, body);
    if (!p.ok()) return service.Handle(method, forwarded, body);  // its error
    if (const auto* c = std::get_if<serve::EventsCall>(&p.call)) {
      std::vector<ClusterEvent> events(c->events.size());
      for (size_t i = 0; i < events.size(); ++i) {
        events[i].id = *request_id + "/" + std::to_string(i);
        events[i].event = c->events[i];
      }
      StatusOr<WriteReceipt> r = node_->RecordEventsAndWait(events, wait_ms ? wait : 2000);
      if (!r.ok()) {
        if (r.status().IsAborted()) {
          return ApiService::Error(503, "no_quorum", r.status().message());
        }
        return ApiService::FromStatus(r.status());
      }
      ojson j{{"events", events.size()},
              {"sequence", r->last_sequence},
              {"applied", r->applied},
              {"owned", r->owned}};
      if (r->applied) {
        j["stored"] = r->result.stored;
        j["counted_only"] = r->result.counted_only;
        j["dropped_forgotten"] = r->result.dropped_forgotten;
        j["rejected"] = r->rejected;
        if (r->result.dropped_forgotten > 0) {
          j["warning"] = std::to_string(r->result.dropped_forgotten) +
                         " events dropped: their user is in the forget ledger; they are not stored";
        }
      }
      return Json(200, j);
    }
    // Items, users, impressions: published as events are; record i of the
    // request has id "R/<kind>/i" (its own namespace: a request id reused
    // on another path is not taken for a retry).
    const int wait_write = wait_ms ? wait : 2000;
    StatusOr<WriteReceipt> r = Status::InvalidArgument("");
    ojson j;
    const char* applied_key = "upserted";
    if (const auto* c = std::get_if<serve::ItemsCall>(&p.call)) {
      std::vector<ClusterItem> items(c->items.size());
      for (size_t i = 0; i < items.size(); ++i) {
        items[i].id = *request_id + "/items/" + std::to_string(i);
        items[i].item = c->items[i];
      }
      j["items"] = items.size();
      r = node_->UpsertItems(items, wait_write);
    } else if (const auto* c = std::get_if<serve::UsersCall>(&p.call)) {
      std::vector<ClusterUser> users(c->users.size());
      for (size_t i = 0; i < users.size(); ++i) {
        users[i].id = *request_id + "/users/" + std::to_string(i);
        users[i].user = c->users[i];
      }
      j["users"] = users.size();
      r = node_->UpsertUsers(users, wait_write);
    } else if (const auto* c = std::get_if<serve::ImpressionsCall>(&p.call)) {
      ClusterImpression imp;
      imp.id = *request_id + "/impressions";
      imp.impression.user = c->user;
      imp.impression.items = c->items;
      imp.impression.context = c->context;
      j["items"] = c->items.size();
      applied_key = "recorded";
      r = node_->RecordImpressions({imp}, wait_write);
    }
    if (!j.empty()) {
      if (!r.ok()) {
        if (r.status().IsAborted()) {
          return ApiService::Error(503, "no_quorum", r.status().message());
        }
        return ApiService::FromStatus(r.status());
      }
      j["sequence"] = r->last_sequence;
      j["applied"] = r->applied;
      j["owned"] = r->owned;
      if (r->applied) {
        j[applied_key] = r->result.stored;
        j["rejected"] = r->rejected;
      }
      return Json(200, j);
    }
    if (const auto* c = std::get_if<serve::ForgetCall>(&p.call)) {
      StatusOr<ForgetReceipt> r = node_->ForgetUser(*request_id, c->user);
      if (!r.ok()) {
        if (r.status().IsAborted()) {
          return ApiService::Error(503, "no_quorum", r.status().message());
        }
        return ApiService::FromStatus(r.status());
      }
      return Json(200, ojson{{"user", c->user},
                             {"sequence", r->marker_sequence},
                             {"erased_messages", r->erased_messages}});
    }
  }

  // Reads: the user must be ours; then wait for the sequence asked for.
  std::optional<std::string> user = PathUser(raw_path);
  if (!user && !user_param.empty()) user = user_param;
  if (user && !node_->Owns(*user)) {
    return ApiService::Error(421, "wrong_node",
                             "user \"" + *user + "\" is in partition " +
                                 std::to_string(PartitionOf(*user, node_->partitions())) +
                                 ", which node \"" + name_ + "\" does not own (owns " +
                                 FormatPartitionSet(node_->owned()) + ")");
  }
  if (min_sequence) {
    std::optional<int64_t> s = ToInt(*min_sequence);
    if (!s) {
      return ApiService::Error(400, "invalid_argument",
                               "min_sequence: expected an integer >= 0");
    }
    Status ws = node_->WaitForSequence(static_cast<uint64_t>(*s), wait_ms ? wait : std::min(5000, max_wait_ms_));
    if (!ws.ok()) {
      ApiResponse r = ApiService::Error(503, "not_applied", ws.message());
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
  }
  return service.Handle(method, forwarded, body);
}

}  // namespace recdb::cluster
