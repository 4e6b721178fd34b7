// Recommendation requests and results: the public vocabulary.
//
// recdb trains several recommenders from its own event log (popularity,
// co-occurrence, sequence-aware item-kNN, iALS, EASE, content profiles),
// fuses their normalised scores with learned or requested weights, and
// explains every result with the evidence that produced it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recdb/care.h"
#include "recdb/embedding.h"

namespace recdb {

// RecommendRequest::k and DB::SimilarItems' k are in [1, kMaxRecommendK].
inline constexpr size_t kMaxRecommendK = 1000;
// Fusion weights (RecommendRequest::weights) and boosts (BusinessRules::
// boost) are in [-kMaxFusionWeight, kMaxFusionWeight]: beyond that the fused
// sums lose every digit of the normalised scores (1e300 overflowed them to
// NaN); anything else is InvalidArgument naming the weight.
inline constexpr double kMaxFusionWeight = 1e6;

// Cold start. A request with no history to go on (an unknown user, a user
// whose events carry no positive weight, and no session_items) gets the
// popularity fallback: the popularity recommenders of the serving model
// ("trending", and "context_pop" when the request has a context) at weight 1,
// every other at 0 (names in `weights` keep the weight given); the same for a
// user whose consent turns personalisation off. Each result's explanation
// says so: evidence kind "cold_start" and a sentence such as "Popular right
// now; recdb does not know your tastes yet." With require_known_user, an
// unknown user is NotFound instead.
struct RecommendRequest {
  std::string user;  // external user id; an unknown user gets the cold-start fallback
  bool require_known_user = false;  // unknown user: NotFound, not the fallback
  size_t k = 10;     // 1..kMaxRecommendK
  // Request context: "device", "session", any key the events carry. Selects
  // context-conditional popularity and feeds the blender.
  std::map<std::string, std::string> context;
  // Request time in seconds since epoch (hour-of-day, weekday, trending);
  // 0 = now.
  int64_t now = 0;
  ItemFilter filter;
  bool exclude_seen = true;             // drop items in the user's history
  std::vector<std::string> exclude_ids; // drop these too
  // Recommender name -> weight; replaces the learned weights for the names
  // given (others keep theirs). Unknown names and weights outside
  // [-kMaxFusionWeight, kMaxFusionWeight] are InvalidArgument.
  std::map<std::string, double> weights;
  // Items the visitor interacted with in this session, oldest first, used in
  // addition to (or, for an anonymous visitor, instead of) the stored history.
  std::vector<std::string> session_items;
  // Re-ranking for this request (recdb/care.h); unset = Options::care.
  std::optional<CareOptions> care;
  // Pin, boost and bury for this request (recdb/care.h).
  BusinessRules rules;
  // Who picks the final list (engine/policy/README.md):
  //   "" or "fused"  the fused ranking (re-ranked by care), deterministic:
  //                  each result's propensity is 1.
  //   "learned"      the learned policy (REINFORCE with the top-K
  //                  off-policy correction, trained by Train from the
  //                  impression log) draws the k results from the fused
  //                  model's top `pool` candidates, seeded by (its seed, the
  //                  user, the request time): each result carries the
  //                  probability with which it was drawn at its slot, to be
  //                  recorded with RecordImpressions (ImpressionContext::
  //                  propensities). Without a trained policy (no impressions
  //                  with propensities yet) the response is the fused list,
  //                  RecommendResponse::policy says "fused" and policy_note
  //                  why. Care re-ranking and business rules apply to the
  //                  candidates, not to the drawn list.
  // Anything else is InvalidArgument. Default: "".
  std::string policy;
};

// Where and when a list was shown (DB::RecordImpressions).
struct ImpressionContext {
  int64_t timestamp = 0;  // seconds since epoch; 0 = now
  std::map<std::string, std::string> context;  // e.g. {"surface": "home"}
  // Optional, for off-policy evaluation: per slot (parallel to the items),
  // the probability with which the policy showed that item at that position
  // (1.0 for a deterministic ranking; 1/n for a uniform pick among n). Each
  // in (0, 1]; empty = unknown, as are impressions recorded before recdb
  // stored propensities. Stored with the impression (storage/FORMAT.md).
  std::vector<double> propensities;
};

// One list shown to a user, as DB::GetUserImpressions reads it back.
struct ShownList {
  std::vector<std::string> items;  // slot order
  ImpressionContext context;       // timestamp as stored (never 0)
};

// One piece of evidence behind a result.
struct Evidence {
  // "recommender", "because_item", "popular_in_category", "exploration",
  // "diversity", "calibration", "fair_exposure", "pinned", "boosted",
  // "cold_start". "recommender" evidence lists only the recommenders that
  // contributed positively, largest share first; the sentence names the
  // first one's reason ("because you interacted with X" only when it is
  // item-based). DB::SimilarItems' sentences name the seed item instead.
  std::string kind;
  std::string recommender;  // which recommender produced it, if any
  double share = 0;         // share of the fused score, in [0, 1]
  std::string item;         // for "because_item": an item in the user's history that
                            // they did not rate below their neutral point
  std::string category;     // for "popular": the category it is popular in
  std::string text;         // the evidence as a phrase
};

struct Explanation {
  std::string sentence;  // one human sentence, e.g. "Because you watched Toy Story."
  std::vector<Evidence> evidence;
};

struct Recommendation {
  std::string id;
  double score = 0;
  // Recommender name -> its weighted, normalised contribution to `score`.
  std::map<std::string, double> contributions;
  Explanation explanation;
  // The probability with which the serving policy put this item at this
  // position given the results above it, in (0, 1]: 1 for the fused
  // ranking; the learned policy's draw probability otherwise. What to pass
  // as ImpressionContext::propensities.
  double propensity = 1.0;
};

struct RecommendResponse {
  std::vector<Recommendation> items;
  uint64_t model_version = 0;  // the trained model that served the request
  // The policy that chose the list: "fused" or "learned"
  // (RecommendRequest::policy), and, when "learned" was asked for but the
  // fused list was served, why (e.g. no learned policy trained yet).
  std::string policy = "fused";
  std::string policy_note;
};

// Where a running Train is: `stage` names what runs now ("read events",
// "validation fit: ials", "learn blend", "fit: ials", "write model"), of
// `steps` stages in all (0 while still unknown: during "read events"),
// `step` of them done.
struct TrainProgress {
  std::string stage;
  int step = 0;
  int steps = 0;
};

// The learned policy's training (engine/policy/README.md), at the end of
// every Train from the impression log. The serving settings (seed, pool, k,
// max_per_category) are stored with the policy.
struct LearnedPolicyOptions {
  // Train the policy when the window holds impressions with propensities;
  // false keeps the stored policy as it is. Default: true.
  bool enabled = true;
  uint64_t seed = 42;          // the draw's seed (with the user and the request time)
  size_t pool = 50;            // candidates: the fused model's top `pool`
  size_t k = 10;               // the K of the top-K correction
  // Impressions with timestamp in (newest - window_seconds, newest] train it.
  int64_t window_seconds = 10 * 86400;
  // A slot's reward: the user's later events on the item, as off-policy
  // evaluation counts them (OffPolicyOptions::window_seconds and its
  // default reward types).
  int64_t reward_window_seconds = 86400;
  double temperature = 1.0;    // theta_0: rank weight 1 / temperature, 0 elsewhere
  double weight_cap = 10.0;    // importance weights min(pi / beta, cap)
  double l2 = 1e-3;
  double learning_rate = 0.05;
  int steps = 150;             // Adam steps (full batch)
  // Upper bound on the weights of the habit features (category_share,
  // category_recent_clicks): below 0 the policy must prefer categories the
  // user consumes less (the filter bubble's brake, sim/README.md).
  double max_habit_weight = -1.0;
  // At most this many items of one primary category per drawn list (0 = no cap).
  size_t max_per_category = 1;
  // Entropy regulariser tau: the objective adds tau times the mean softmax
  // entropy of the training lists (recdb/policy_gradient.h
  // ReinforceSettings::entropy_weight), which keeps the draw spread over the
  // pool instead of collapsing onto the few candidates that earned clicks.
  // 0 = off; >= 0. Default 0.3, chosen for the simulator's learned policy on
  // its validation seed 7 (sim/README.md "Entropy regulariser"), which
  // takes its default from here.
  double entropy_weight = 0.3;
};

// What the learned policy is (TrainReport::learned_policy).
struct LearnedPolicyReport {
  bool trained = false;         // a policy serves "learned" requests
  uint64_t version = 0;         // its version (the model version it trained with)
  uint64_t covered_sequence = 0;  // the RocksDB sequence its training read at
  int64_t impressions = 0;      // impressions with propensities it learned from
  int64_t slots = 0;            // their slots (N)
  int64_t rewarded_slots = 0;   // slots with a reward among the candidates
  int64_t slots_outside_pool = 0;  // rewarded slots whose item was not a candidate
  std::map<std::string, double> weights;  // theta by feature name
  std::string note;             // why there is none, or why it was not retrained
};

struct TrainOptions {
  // Learn fusion weights on a validation split carved from the training data
  // (the last 20% of each user's events). Default: true.
  bool learn_weights = true;
  // Use the fusion weights stored by the last learning run when they exist
  // (for the same recommenders), skipping the validation fit: about 3x
  // faster. Default: false.
  bool reuse_stored_weights = false;
  // Incremental retrain: keep the serving model's fusion weights and context
  // deltas (no validation fit) and start iALS from its factors (a few
  // iterations instead of a full fit); counts (popularity, trending,
  // co-occurrence, neighbours) are recomputed in their single pass. Falls
  // back to a full Train when no model serves. For frequent retrains after
  // small batches of events; a full Train re-learns the blend. Default: false.
  bool incremental = false;
  // Training yields to serving: run this Train (its calling thread and the
  // worker threads it starts) at a lower CPU priority (nice +10 on Linux),
  // so that serving threads of the same process go first on a busy machine,
  // and cap its thread budget at one less than the machine's cores (at least
  // 1; `threads` still applies below that), so that a core stays with
  // serving: on 2 cores a low-priority Train runs on 1 thread. The old model
  // is freed on the training thread either way, never by a request. The
  // scheduled retrains use it. Default: false.
  bool low_priority = false;
  // Called on the training thread at the start of every stage and once at
  // the end (step == steps); must not call back into the DB. Default: none.
  std::function<void(const TrainProgress&)> on_progress;
  int ials_factors = 64;
  int ials_iterations = 15;
  int threads = 2;
  // Embedding space of the content-profile recommender ("content"): a
  // user's vector there is the time-decayed, event-weighted mean of their
  // items' vectors. Empty = the cosine space with the most item vectors, if
  // any; "none" = no content recommender. Default: empty.
  std::string content_space;
  // The learned policy trained after the model. Default: see the struct.
  LearnedPolicyOptions learned_policy;
};

// What a Train did (DB::Train), and, through DB::GetModelReport, what the
// Train that fitted the serving model did.
struct TrainReport {
  uint64_t model_version = 0;
  double seconds = 0;
  // Seconds per component fit, plus "blend" (learning the weights).
  std::map<std::string, double> seconds_by_recommender;
  std::map<std::string, double> weights;  // the fusion weights now in use
  int64_t events = 0;                     // events the models saw
  // When the Train finished: seconds since epoch (the database's clock).
  int64_t trained_at = 0;
  // Mean NDCG@10 on the validation split that the fusion weights in use
  // reached when they were learned: by this Train, or by the earlier one
  // whose weights it reused (TrainOptions::reuse_stored_weights,
  // incremental). 0 when the weights were never learned (learn_weights off).
  double validation_ndcg = 0;
  // The learned policy after this Train (or, from GetModelReport, the one
  // serving).
  LearnedPolicyReport learned_policy;
  // The thread budget the Train ran with (TrainOptions::threads, capped for
  // a low_priority Train). 0 for a model loaded from the model file.
  int threads = 0;
};

// Offline evaluation with the docs/DESIGN.md protocol (per-user temporal 80/20
// split, full ranking excluding train items, ties by item id).
struct EvaluateOptions {
  int threads = 2;
  // Recommenders to evaluate; empty = all: mostpop, ials, ease, itemknn,
  // recentknn, cooccurrence, trending, context_pop, content (when a content
  // space exists), fused.
  std::vector<std::string> recommenders;
  // As TrainOptions::content_space. Default: empty (auto).
  std::string content_space;
  // Also report "fused+care": the fused list re-ranked with these knobs, by
  // the same code that serves requests.
  std::optional<CareOptions> care;
  // Sweep one knob of `care` (or of the defaults): "diversity",
  // "calibration", "fair_share" or "exploration" from `from` to `to` (both
  // included) by `step`; EvaluationReport::sweep gets one point per value.
  struct Sweep {
    std::string knob;
    double from = 0, to = 1, step = 0.1;
  };
  std::optional<Sweep> sweep;
  // Called on the evaluating thread before each step: "fit mostpop", ...,
  // "fit fused", "sweep diversity=0.5", with the steps done so far and the
  // steps in all (known once the events are loaded). For a progress display
  // (`recdb serve`'s background eval); must not call back into the DB.
  // Default: none.
  std::function<void(const std::string& step, int done, int total)> progress;
  // Asked on the evaluating thread at each checkpoint: before each step
  // (each recommender's fit and evaluation, each sweep point; the first
  // comes once the events are loaded). When it returns true the evaluation stops there and
  // returns Aborted ("eval: cancelled"); a step already running finishes
  // first, so the stop comes within one step. Must not call back into the
  // DB. Default: none (never cancelled).
  std::function<bool()> cancelled;
};

struct EvalMetrics {
  double ndcg_at_10 = 0;
  double recall_at_20 = 0;
  double coverage_at_10 = 0;
  double ild_at_10 = 0;          // intra-list diversity: mean Jaccard distance of categories
  double novelty_at_10 = 0;      // mean self-information -log2(popularity / users), bits
  double gini_at_10 = 0;         // Gini of exposure over the catalogue
  double calibration_kl_at_10 = 0;   // KL(history categories || list categories), nats
  double long_tail_share_at_10 = 0;  // share of listed items outside the short head
  double train_seconds = 0;
};

struct EvaluationReport {
  int64_t users = 0;
  int64_t items = 0;
  int64_t test_users = 0;
  std::map<std::string, EvalMetrics> recommenders;
  std::map<std::string, double> fused_weights;  // learned on the training part only
  struct SweepPoint {
    double value = 0;  // the swept knob's value
    EvalMetrics metrics;
  };
  std::string sweep_knob;
  std::vector<SweepPoint> sweep;  // fused + care at each knob value, in order
};

}  // namespace recdb
