// The learned policy's maths (issue #22 part 3): REINFORCE with the top-K
// off-policy correction (Chen et al., WSDM 2019, "Top-K Off-Policy
// Correction for a REINFORCE Recommender System") over a linear softmax.
//
// One home for the rule, shared by the database's learned policy
// (RecommendRequest::policy = "learned", engine/policy/README.md) and the
// simulator's `learned` policy (sim/, above the public API), as
// OffPolicyEstimator (recdb/off_policy.h) is for off-policy evaluation.
// Each fills the per-candidate facts from what it observes (the database
// from its event and impression logs, the simulator from its own log); the
// feature transform, the softmax, the draw, the gradient and the optimiser
// are these functions.
//
// Policy: pi(a | s) = exp(theta . x_a) / sum_b exp(theta . x_b) over the
// candidates of one request (the fused model's top `pool`), x_a the feature
// vector of candidate a (PolicyFeatureNames). A K-list is drawn from pi
// without replacement (Plackett-Luce): slot j takes a candidate with
// probability pi(a) / (mass still drawable); that conditional probability is
// the slot's logged propensity (exact: the probability with which that item
// was put at that position given the slots above it).
//
// Training: gradient ascent (Adam, full batch, fixed order: deterministic) on
//   J(theta) = 1/N sum_slots  w * lambda_K * r * log pi_theta(a)  - l2/2 |theta|^2
//   w        = min(pi(a)/beta(a), weight_cap)       (importance weight)
//   lambda_K = K (1 - pi(a))^(K-1)                  (top-K multiplier)
// with w and lambda_K recomputed at the current theta each step and held
// fixed inside the gradient (the paper's estimator), N the logged slots,
// beta(a) the behaviour policy's per-item probability. With an entropy
// weight tau > 0 the objective adds tau times the mean, over the logged
// lists, of the softmax's entropy H_l = -sum_b pi(b) log pi(b) (nats), which
// keeps the policy from collapsing onto a few candidates per state (an
// entropy regulariser; 0, the default, leaves J as above).
//
// Thread-safety: free functions on values; safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "recdb/export.h"
#include "recdb/recommend.h"

namespace recdb::policy {

// ---- Features ----

// The feature names for a model whose recommenders are `recommenders` (in
// that order): "rank", "score", "contrib:<recommender>"...,
// "category_share", "category_recent_clicks", "popularity", "times_shown",
// "shown_last_round".
RECDB_EXPORT std::vector<std::string> PolicyFeatureNames(
    const std::vector<std::string>& recommenders);
// Index of "category_share" in PolicyFeatureNames(recommenders); the next
// one is "category_recent_clicks". Together the "habit" features.
RECDB_EXPORT size_t HabitFeatureIndex(size_t num_recommenders);

// What is observed about one candidate of a request.
struct CandidateFacts {
  size_t rank = 0;     // 0-based position in the fused list
  double score = 0;    // fused score
  // Per recommender (parallel to `recommenders`): its contribution to score.
  std::vector<double> contributions;
  double category_share = 0;  // share of the user's recent consumption in the item's category
  double category_recent_clicks = 0;  // the user's recent rewarded events in that category
  double popularity = 0;      // rewarded events on the item (a count)
  double times_shown = 0;     // times this user was shown the item
  bool shown_last = false;    // in the user's previous list
};

// The facts a fused result carries itself: rank (its 0-based position in
// the fused list), score and, per recommender of `recommenders` (in that
// order), its contribution (0 for one the result does not name). The
// observed facts (category share, clicks, times shown...) are the caller's.
RECDB_EXPORT CandidateFacts FactsFromRecommendation(const Recommendation& r, size_t rank,
                                                    const std::vector<std::string>& recommenders);

// Writes the feature vector of `facts` (PolicyFeatureNames order) to out:
//   rank -log(1 + rank); score score / max_abs_score; contrib:* as given;
//   category_share as given; category_recent_clicks log(1 + n);
//   popularity log(1 + n) / popularity_norm; times_shown log(1 + n);
//   shown_last_round 0/1.
// max_abs_score: the list's largest |score| (at least 1e-12);
// popularity_norm: log(1 + the largest popularity count + 1).
RECDB_EXPORT void FillPolicyFeatures(const CandidateFacts& facts, double max_abs_score,
                                     double popularity_norm, float* out);

// ---- Policy ----

// min(pi / beta, cap); 0 when beta <= 0.
RECDB_EXPORT double CappedImportanceWeight(double pi, double beta, double cap);
// lambda_K = K (1 - pi)^(K - 1): d/dpi of 1 - (1 - pi)^K, the chance that
// K draws include the item.
RECDB_EXPORT double TopKMultiplier(double pi, size_t k);
// Softmax of theta . x_a over n candidates (features row-major, n x dim).
RECDB_EXPORT std::vector<double> SoftmaxProbabilities(const std::vector<float>& features,
                                                      size_t dim,
                                                      const std::vector<double>& theta);

// Draws min(k, n) distinct candidates from pi without replacement, slot 0
// first, one `uniform()` (in [0, 1)) per slot; propensities[j] =
// pi(pick_j) / (mass still drawable), the exact probability of that pick at
// slot j given the slots above. With `group` (one per candidate, < 0 =
// none) and cap > 0, a candidate whose group already fills `cap` slots is
// not drawable while any other candidate is.
RECDB_EXPORT std::vector<size_t> PlackettLuceDraw(const std::vector<double>& pi, size_t k,
                                                  const std::function<double()>& uniform,
                                                  std::vector<double>* propensities,
                                                  const std::vector<int>* group = nullptr,
                                                  size_t cap = 0);

// The marginal probability of each pick at its slot: out[j] = P(the draw
// puts picks[j] at slot j), over all lists PlackettLuceDraw(pi, k, ., .,
// group, cap) can make (not given the slots above, as its propensities
// are). This is what item-position off-policy estimators need
// (recdb/off_policy.h: an impression's propensity is "the probability with
// which its policy showed that item at that position").
// Exact (up to quadrature error below 1e-9) for cap <= 1 or no group, by
// the exponential race: Plackett-Luce orders candidates by independent
// clocks T_a ~ Exp(pi(a)); with cap 1 the draw orders the categories by
// their first clock (an Exp(sum of the category's pi)) and takes that
// first arrival, until every category is used, after which the rest is a
// fresh Plackett-Luce draw of the candidates not yet taken. So
//   P(a at slot j) = int_0^inf pi(a) e^(-W_c(a) t) P(exactly j other
//                    categories arrived by t) dt
// (a Poisson-binomial over the other categories, candidates without a
// group each their own), and likewise with generating functions for the
// relaxed slots. For cap >= 2 there is no such form: the marginals are
// estimated from `mc_draws` draws of a fixed seed (an estimate, not exact).
RECDB_EXPORT std::vector<double> PlackettLuceSlotMarginals(const std::vector<double>& pi,
                                                           const std::vector<size_t>& picks,
                                                           const std::vector<int>* group = nullptr,
                                                           size_t cap = 0,
                                                           size_t mc_draws = 20000);

// The draw as it is served and logged, one rule for the database's learned
// policy and the simulator's: PlackettLuceDraw(pi, k, uniform, ., group,
// cap), with *marginals[j] = PlackettLuceSlotMarginals(pi, picks, group,
// cap)[j], the probability with which the draw puts that item at that
// position (what an impression's propensity is, recdb/off_policy.h).
RECDB_EXPORT std::vector<size_t> PlackettLuceDrawWithMarginals(
    const std::vector<double>& pi, size_t k, const std::function<double()>& uniform,
    std::vector<double>* marginals, const std::vector<int>* group = nullptr, size_t cap = 0);

// ---- Training ----

// One logged list with at least one reward.
struct LoggedList {
  int64_t when = 0;             // the caller's tag (a round, a time); unused here
  size_t n = 0;                 // candidates
  std::vector<float> features;  // n x dim
  std::vector<size_t> shown;    // candidate index per slot
  std::vector<double> beta;     // behaviour per-item probability per slot
  std::vector<double> reward;   // per slot
};

struct ReinforceSettings {
  size_t dim = 0;
  size_t k = 10;
  double weight_cap = 10.0;
  double l2 = 1e-3;
  double total_slots = 1;  // N
  // tau: J += tau * mean over lists of H(pi_theta(. | list)); 0 = off.
  double entropy_weight = 0;
};

// The softmax's entropy -sum_b pi(b) log pi(b), in nats.
RECDB_EXPORT double SoftmaxEntropy(const std::vector<double>& pi);

// J(theta) with w and lambda_K computed at `anchor` (held fixed); the
// entropy term is at theta.
RECDB_EXPORT double ReinforceObjective(const std::vector<double>& theta,
                                       const std::vector<double>& anchor,
                                       const std::vector<LoggedList>& lists,
                                       const ReinforceSettings& s);
// dJ/dtheta at theta (anchor = theta): 1/N sum w lambda r (x_a - E_pi x) - l2 theta
//   - tau/L sum_lists sum_b pi(b) log pi(b) (x_b - E_pi x).
RECDB_EXPORT std::vector<double> ReinforceGradient(const std::vector<double>& theta,
                                                   const std::vector<LoggedList>& lists,
                                                   const ReinforceSettings& s);

struct AdamSettings {
  double learning_rate = 0.05;
  int steps = 150;
  // After every step, theta[d] = min(theta[d], upper_bound) for each d in
  // bounded (projected ascent); empty = unbounded.
  std::vector<size_t> bounded;
  double upper_bound = 0;
};

// `steps` Adam ascent steps on J from *theta (b1 0.9, b2 0.999, eps 1e-8).
RECDB_EXPORT void TrainReinforce(const std::vector<LoggedList>& lists, const ReinforceSettings& s,
                                 const AdamSettings& adam, std::vector<double>* theta);

}  // namespace recdb::policy
