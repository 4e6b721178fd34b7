// Policies: who decides what a simulated user is shown. Each returns a list
// with, per slot, the probability with which the policy showed that item at
// that position (its propensity), logged with the impression.
//
//   fused       DB::Recommend with the database's defaults: deterministic,
//               propensity 1.0.
//   fused+care  DB::Recommend with a care preset (CarePreset below). With
//               exploration on, the exploration slots are Thompson-sampled
//               inside recdb, which does not expose the sampling
//               probability: those slots (evidence kind "exploration") log
//               1 / (candidate_factor * k), the chance of a uniform pick
//               from the re-ranked pool, as an approximation; the others 1.0.
//   popularity  DB::Recommend with every fusion weight 0 but "trending"
//               (the serving model's popularity recommender, time-decayed
//               counts): deterministic, 1.0.
//   random      k distinct items uniformly from the released items the user
//               has no event on: each slot's propensity is the marginal
//               probability 1 / candidates, exact.
//
//   recdb-learned  DB::Recommend with policy = "learned": the database's
//               own learned policy (same maths as `learned`, trained by
//               DB::Train from the impression log); logs the served
//               propensities.
//   learned     REINFORCE with the top-K off-policy correction over the
//               fused model's candidates (sim/learned_policy.h): samples
//               its list from a softmax and logs each pick's marginal
//               probability at its slot (exact for a category cap <= 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "recdb/db.h"
#include "recdb/status.h"
#include "sim/response_model.h"

namespace recdb::sim {

struct Slate {
  std::vector<int64_t> items;        // world item indices, slot 0 first
  std::vector<double> propensities;  // parallel to items, in (0, 1]
};

struct RankContext {
  int64_t user = 0;  // world user index
  int round = 0;     // 1-based
  int64_t now = 0;   // request time, seconds since epoch
  size_t k = 10;
  uint64_t seed = 0;
  // Items released so far (world indices), and the user's consumed items.
  const std::vector<int64_t>* live_items = nullptr;
  const std::unordered_set<int64_t>* consumed = nullptr;
  // What the system can observe about the user (their consumption window:
  // history then clicks) and the items' primary categories (item metadata),
  // by world index. Set by the simulator; policies may ignore them.
  const UserState* state = nullptr;
  const std::vector<int>* categories = nullptr;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  // Whether the policy serves from a trained model (DB::Train on schedule).
  virtual bool UsesModel() const { return true; }
  // Called after each DB::Train with its report.
  virtual Status OnTrained(const TrainReport& /*report*/) { return Status::OK(); }
  virtual StatusOr<Slate> Rank(DB* db, const RankContext& ctx) = 0;
  // Called at the start of each round, after any DB::Train (a learned
  // policy trains here).
  virtual Status BeginRound(int /*round*/) { return Status::OK(); }
  // Called after the user reacted to `slate`: per slot, clicks + purchases.
  virtual void OnFeedback(const RankContext& /*ctx*/, const Slate& /*slate*/,
                          const std::vector<double>& /*rewards*/) {}
  // Learned parameters by name, for the result (empty if none).
  virtual std::map<std::string, double> Parameters() const { return {}; }
  // Whether DB::Train should train the database's own learned policy
  // (TrainOptions::learned_policy.enabled): only the policy that serves it.
  virtual bool ServesDatabasePolicy() const { return false; }
};

// Named care presets for the simulator: "balanced" (calibration 0.8 with
// the last 10 distinct consumed items counted with the list,
// CareOptions::calibration_recent_items; exploration 0.1), "balanced-list"
// (balanced before that knob: calibration 0.5 of each list on its own,
// exploration 0.1), "calibrated" (calibration 0.5), "diverse" (diversity
// 0.85), "explore" (exploration 0.2). recdb itself names no presets
// (recdb/care.h has knobs only); these are the simulator's. Every other
// knob keeps its CareOptions default (rotation included).
StatusOr<CareOptions> CarePreset(const std::string& name);
std::vector<std::string> CarePresetNames();

std::unique_ptr<Policy> MakeFusedPolicy();
std::unique_ptr<Policy> MakeCarePolicy(const CareOptions& care);
// "recdb-learned": DB::Recommend with policy = "learned", the database's own
// learned policy (engine/policy/README.md), trained by each DB::Train from
// the impression log; logs each result's propensity as served. Before its
// first training with impressions it serves the fused list (propensity 1).
std::unique_ptr<Policy> MakeDatabaseLearnedPolicy();
std::unique_ptr<Policy> MakePopularityPolicy();
std::unique_ptr<Policy> MakeRandomPolicy();

// "i123" -> 123; -1 if not of that form.
int64_t ItemIndex(const std::string& id);

}  // namespace recdb::sim
