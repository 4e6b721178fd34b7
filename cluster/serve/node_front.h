// NodeFront: `recdb cluster serve`'s request front. The HTTP server of
// `recdb serve` (tools/serve/http_server.h: auth, limits, timeouts,
// shutdown) hands it every API request (ServerOptions::front); it answers
// those whose meaning changes on a replicated node and passes the rest to
// ApiService over the node's local database:
//
//   POST /v1/events?request_id=R[&wait_ms=W]  published through the log
//       (ClusterNode::RecordEventsAndWait; event i has id "R/i", so a retried
//       request stores nothing twice); answers once a quorum stored them:
//       {"events": n, "sequence": S, "applied": bool, "stored", "counted_only",
//        "dropped_forgotten", "rejected", "owned"} (the counts are this node's,
//       when it applied S within W ms, default 2000).
//   POST /v1/forget?request_id=R   ClusterNode::ForgetUser:
//       {"user", "sequence", "erased_messages"}.
//   POST /v1/items, /v1/users, /v1/impressions ?request_id=R[&wait_ms=W]
//       published through the log as events are (ClusterNode::UpsertItems,
//       UpsertUsers, RecordImpressions; record i has id "R/items/i",
//       "R/users/i", one impression "R/impressions"): {"items" | "users": n,
//       "sequence", "applied", "owned", "upserted" | "recorded", "rejected"}
//       (the last two when this node applied S within W ms, default 2000;
//       items: every node applies them; users, impressions: the owners of
//       the user's partition).
//   any read with min_sequence=S[&wait_ms=W]  waits until this node applied
//       S (W ms, default 5000, at most max_wait_ms), else 503 not_applied
//       (Retry-After: 1); then answers from the local database.
//   a read for a user of a partition this node does not own  421 wrong_node
//       (route it: cluster/router.h).
//   GET /v1/cluster   the node's report (NodeReport) and the stream's state:
//       {"node", "applied", "last_sequence", "lag", "partitions", "owned",
//        "model_version", "trainer", ...}.
//   GET /v1/cluster/models   the published model versions of the stream
//       (trainer.h), newest first, the trainer lock's holder and the version
//       this node serves: {"node", "model_version", "trainer", "trainer_lock",
//       "models": [{"version", "position", "trainer", "bytes", "files"}]}.
//   POST /v1/cluster/models[?wait_ms=W]   runs this node's model round now
//       (ModelLoop::RunRoundNow; W default 60000, at most max_wait_ms): the
//       trainer trains and publishes if it applied enough new messages, a
//       follower installs a newer version; answers the loop's state after it
//       {"rounds", "holds_lock", "published_version", "installed_version",
//        "last_error"}; 409 no_model_loop on a node started without --trainer
//       or --follow-models; 503 model_round_pending when W ran out.
//
// Thread-safety: Answer may be called from many threads at once.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/node.h"
#include "cluster/trainer.h"
#include "tools/serve/api_service.h"

namespace recdb::cluster {

// "/v1/users/{id}/..." as sent (percent-encoded) -> the decoded id; nullopt
// for any other path. Shared with RouterFront.
std::optional<std::string> PathUser(std::string_view raw_path);

class NodeFront {
 public:
  // `node` must outlive the front.
  NodeFront(ClusterNode* node, std::string name, int max_wait_ms = 30000)
      : node_(node), name_(std::move(name)), max_wait_ms_(max_wait_ms) {}

  // The node's model loop (serve --trainer / --follow-models), or nullptr.
  // May be set while requests arrive; cleared only after they stopped.
  void SetModelLoop(ModelLoop* loop) { models_.store(loop, std::memory_order_release); }

  serve::ApiResponse Answer(serve::ApiService& service, std::string_view method,
                            std::string_view target, std::string_view body);

 private:
  // GET /v1/cluster.
  serve::ApiResponse ClusterStatus();
  // GET and POST /v1/cluster/models.
  serve::ApiResponse Models();
  serve::ApiResponse RunModelRound(int wait_ms);

  ClusterNode* node_;
  std::string name_;
  int max_wait_ms_;
  std::atomic<ModelLoop*> models_{nullptr};
};

}  // namespace recdb::cluster
