// LearnedPolicy: REINFORCE with the top-K off-policy correction (Chen et
// al., WSDM 2019) over candidates from the fused model (issue #22 part 3).
//
// Candidates: DB::Recommend with k = `pool` (exclude_seen on). Each
// candidate a of a list gets a feature vector x_a (FeatureNames): its rank
// and score in the fused list, the per-recommender contributions, the
// user's consumption share and recent clicks in its category, its
// popularity in the policy's own log, and how often (and whether last
// round) the policy showed it to this user. The policy is a linear softmax
//   pi(a | s) = exp(theta . x_a) / sum_b exp(theta . x_b)
// and a K-list is drawn from it without replacement (Plackett-Luce): slot j
// takes a candidate with probability pi(a) / (1 - mass of slots 0..j-1).
// The logged propensity of slot j is the marginal probability that the
// draw puts that item at slot j (policy::PlackettLuceSlotMarginals, exact
// for max_per_category <= 1), what item-position IPS needs; until
// 2026-12-07 it was the conditional pi(a) / (1 - mass above), which biased
// such estimates. The beta of the correction is the per-item softmax
// probability pi(a) of the serving theta, kept with the list when it is
// served: the slot propensities do not determine it.
//
// The features, softmax, draw, gradient and Adam are recdb/policy_gradient.h,
// shared with the database's own learned policy; this file keeps the
// simulator's log and the facts it observes (its own clicks and lists).
//
// Rounds 1..learn_rounds serve theta_0 (weight 1/temperature on the rank
// feature, 0 elsewhere: a stochastic fused list) and log. From round
// learn_rounds + 1 on, the policy first trains on its log (every rewarded
// slot: context features as served, the shown candidate, beta, reward), by
// gradient ascent (Adam, full batch, fixed order: deterministic) on
//   J(theta) = 1/N sum_slots  w * lambda_K * r * log pi_theta(a)  - l2/2 |theta|^2
//   w        = min(pi(a)/beta(a), weight_cap)       (importance weight)
//   lambda_K = K (1 - pi(a))^(K-1)                  (top-K multiplier)
// with w and lambda_K recomputed at the current theta each step and held
// fixed inside the gradient (the paper's estimator), N the logged slots,
// plus entropy_weight times the mean softmax entropy of the logged lists
// (an entropy regulariser, against the softmax collapsing onto a few
// candidates: the filter bubble's engine here), then serves the new theta; it retrains every update_every rounds on the
// last train_window rounds of its log, its own propensities included.
//
// Raw clicks reward showing users more of what they already consume (the
// category_share feature): the learned policy narrows consumption faster
// than fused (sim/README.md). novelty_bonus shapes the training reward of
// a slot to r * (1 + novelty_bonus * (1 - share)), so a click outside the
// user's habits counts more; the simulator still scores raw reward.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "recdb/policy_gradient.h"
#include "sim/policy.h"
#include "sim/rng.h"

namespace recdb::sim {

struct LearnedOptions {
  int learn_rounds = 10;      // serve theta_0 on rounds 1..learn_rounds, then train
  int update_every = 5;       // retrain every N rounds after that; 0 = train once
  int train_window = 10;      // rounds of log each training uses
  size_t pool = 50;           // candidates from DB::Recommend
  size_t k = 10;              // list length: the K of lambda_K (the simulator sets it)
  double temperature = 1.0;   // theta_0 = rank weight 1 / temperature
  double weight_cap = 10.0;   // importance weights min(pi/beta, cap)
  double l2 = 1e-3;
  double learning_rate = 0.05;
  int steps = 150;            // Adam steps per training
  // Entropy regulariser tau (recdb/policy_gradient.h ReinforceSettings::
  // entropy_weight): J += tau * mean softmax entropy of the training lists.
  // 0 = off. Default 0.3, chosen on seed 7 (sim/README.md "Entropy
  // regulariser"); one default with the database's policy.
  double entropy_weight = LearnedPolicyOptions{}.entropy_weight;
  // Reward shaping toward diverse consumption: a rewarded slot counts
  // r * (1 + novelty_bonus * (1 - share)) in training, share being the
  // user's consumption share of the item's category when it was shown
  // (the category_share feature). 0 = learn from raw clicks + purchases.
  double novelty_bonus = 0.0;
  // Upper bound on the weights of the habit features (category_share and
  // category_recent_clicks), enforced after every step (projected ascent):
  // with 0 the policy cannot learn to prefer the categories the user already
  // consumes, the filter bubble's engine; below 0 it must prefer others.
  // Default -1, chosen with max_per_category on seed 7 (sim/README.md);
  // infinity = unbounded.
  double max_habit_weight = -1.0;
  // At most this many items of one primary category per list (0 = no cap),
  // relaxed only when the pool runs out of other categories: a list that
  // spans categories keeps consumption varied, as random lists do.
  // Default 1 (chosen on seed 7, sim/README.md).
  size_t max_per_category = 1;
};

// ---- The math: recdb/policy_gradient.h (one home, shared with the
// database's learned policy, engine/policy/README.md) ----

using policy::CappedImportanceWeight;
using policy::LoggedList;
using policy::ReinforceGradient;
using policy::ReinforceObjective;
using policy::ReinforceSettings;
using policy::SoftmaxProbabilities;
using policy::TopKMultiplier;

// policy::PlackettLuceDraw with the simulator's keyed Rng as its uniform
// source (one Uniform() per slot).
inline std::vector<size_t> PlackettLuceDraw(const std::vector<double>& pi, size_t k, Rng* rng,
                                            std::vector<double>* propensities,
                                            const std::vector<int>* group = nullptr,
                                            size_t cap = 0) {
  return policy::PlackettLuceDraw(
      pi, k, [rng] { return rng->Uniform(); }, propensities, group, cap);
}

std::unique_ptr<Policy> MakeLearnedPolicy(const LearnedOptions& options);

}  // namespace recdb::sim
