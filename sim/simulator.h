// Simulator: a seeded closed-loop simulation of recommending over the
// synthetic world (tools/import/synthetic_world.h), one database per policy
// (sim/README.md).
//
// Setup: the world's users, its items but the `new_items` withheld ones,
// and its history (events on withheld items dropped) are loaded into one
// fresh database per policy. Round t = 1..rounds, for every policy: retrain
// on schedule (DB::Train, every `retrain_every` rounds: full first, then
// incremental), release the new items due, then give every active user a
// k-list (Policy::Rank), draw their response (ResponseModel), record the
// impressions with their propensities (DB::RecordImpressions) and the
// clicks and purchases (DB::RecordEvents), and let users leave. Per round
// and policy it records the metrics of `RoundMetrics`; off-policy estimates
// of every other policy's per-slot reward are computed from the random
// policy's log (IPS and self-normalised IPS, 95% intervals) and set against
// the reward that policy earned and against the exact expected reward of its
// lists for the logger's users.
//
// Deterministic: the result is a pure function of SimOptions (no clock
// enters it), whatever `threads` is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recdb/care.h"
#include "recdb/status.h"
#include "sim/learned_policy.h"
#include "sim/response_model.h"

namespace recdb::sim {

struct SimOptions {
  uint64_t seed = 42;
  int64_t users = 2000;
  int64_t items = 1000;
  int rounds = 30;
  size_t k = 10;
  int64_t history_events = 50;  // per user (mean), the world's log loaded before round 1
  int retrain_every = 5;        // rounds between DB::Train (>= 1)
  int64_t new_items = -1;       // withheld, released over the first half; -1 = items / 20
  size_t window = 10;           // consumption-diversity window, in distinct consumed items
  std::vector<std::string> policies = {"fused", "fused+care", "popularity", "random"};
  std::string care_preset = "balanced";
  // Overrides of the preset's knobs (CareOptions), for variants; < 0 = the
  // preset's value.
  double care_diversity = -1;
  double care_calibration = -1;
  int64_t care_calibration_recent = -1;  // CareOptions::calibration_recent_items
  double care_exploration = -1;
  // CareOptions::rotate_after_impressions for every policy's database (the
  // default care of fused and popularity) and for the care preset; 0 = off.
  int rotate_after = CareOptions{}.rotate_after_impressions;
  // The "learned" policy's settings (its k is set from `k`).
  LearnedOptions learned;
  ResponseOptions response;
  // Whose impression logs the off-policy estimates read, each among
  // `policies` (others are skipped): the first's estimates of every other
  // policy are SimResult::off_policy, each further one's off_policy_from.
  std::vector<std::string> ope_loggers = {"random"};
  int threads = 2;        // policies stepped in parallel
  int train_threads = 1;  // TrainOptions::threads (fixed: results do not depend on --threads)
  std::string work_dir;   // databases go to work_dir/<policy>; must not exist or be empty
};

// One policy's figures for one round.
struct RoundMetrics {
  int64_t active_users = 0;  // at the start of the round
  int64_t clicks = 0, purchases = 0;
  double reward = 0;             // clicks + purchases
  double cumulative_reward = 0;  // rounds 1..t
  // Over the users served this round whose window is full (after the round):
  double mean_entropy = 0;         // bits
  double mean_entropy_change = 0;  // mean of (entropy now - the user's own start)
  double exposure_gini = 0;       // impressions this round over released items
  double coverage = 0;            // share of released items shown this round
  int64_t new_released = 0, new_exposed = 0;  // withheld items released / shown so far
  double mean_rounds_to_first_exposure = 0;   // over exposed new items
  int64_t users_left = 0;  // cumulative
  // Mean over shown slots of the user's latent taste for the item's
  // category (how relevant the lists are; 1/12 for a uniform category).
  double mean_shown_taste = 0;
  // Mean over the users served this round and the round before of the share
  // of this round's list that was also in their previous list.
  double repeat_share = 0;
};

struct OffPolicyEstimate {
  std::string logger;  // whose impression log
  int64_t slots = 0;   // (user, round, slot) triples compared
  int64_t matches = 0; // where the logger showed the candidate's item at that slot
  double ips = 0, ips_half_width = 0;
  double snips = 0, snips_half_width = 0;
  double truth = 0, truth_half_width = 0;  // the candidate's own mean per-slot reward
  bool truth_in_ips_interval = false;
  bool truth_in_snips_interval = false;
  // The expected per-slot reward of the candidate's lists for the logger's
  // users as they were (response model probabilities): the quantity IPS is
  // unbiased for. truth differs from it by what the candidate's own history
  // did to its users (satiation, who left).
  double counterfactual = 0;
  bool counterfactual_in_ips_interval = false;
  bool counterfactual_in_snips_interval = false;
  // Where truth and counterfactual part (diagnosis, response model
  // probabilities): the candidate's lists for its own users as they were
  // (the expectation of truth), and for the logger's users but with the
  // candidate's own impression history (its repeats' satiation only).
  double own_state_expected = 0;
  double counterfactual_with_candidate_repeats = 0;
  // Share of compared slots whose item the logger could not show (the
  // logger's user had consumed it): no support, IPS counts 0 there.
  double unsupported_share = 0;
  // The closed-loop bounds (recdb/off_policy.h): share of compared slots
  // that repeat an item the candidate showed the user before, the IPS of the
  // fresh slots, and the interval [bound_low, bound_high] of the candidate's
  // closed-loop reward per slot; whether truth falls in it.
  double repeat_share = 0;
  double fresh_ips = 0, fresh_ips_half_width = 0;
  double bound_low = 0, bound_high = 0;
  bool truth_in_bounds = false;
};

struct SimResult {
  SimOptions options;
  CareOptions care;  // the preset's knobs
  std::map<std::string, std::vector<RoundMetrics>> rounds;  // by policy
  // Mean start entropy of the users whose history fills a window (same
  // world: equal for every policy).
  std::map<std::string, double> start_entropy;
  // By policy: the fusion weights its first DB::Train learned (empty for
  // policies without a model).
  std::map<std::string, std::map<std::string, double>> first_weights;
  // By policy: its learned parameters at the end (Policy::Parameters).
  std::map<std::string, std::map<std::string, double>> parameters;
  std::map<std::string, OffPolicyEstimate> off_policy;      // by candidate policy
  // From the further loggers (SimOptions::ope_loggers): logger -> candidate.
  std::map<std::string, std::map<std::string, OffPolicyEstimate>> off_policy_from;
  std::map<std::string, double> seconds;                    // wall time by policy (not in JSON)
};

StatusOr<SimResult> RunSimulation(const SimOptions& options);

// The result as JSON (parameters, per-round metrics, summary, off-policy,
// bar checks). Byte-identical for identical options.
std::string ResultJson(const SimResult& result);

// One SVG per metric (DIR/<metric>.svg), one line per policy.
Status WritePlots(const SimResult& result, const std::string& dir);

}  // namespace recdb::sim
