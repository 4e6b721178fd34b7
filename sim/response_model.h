// ResponseModel: how a simulated user reacts to a list (sim/README.md,
// "Response model").
//
// A user looks at slot j (0 = top) with probability
//   examine(j) = 1 / (j + 1)^position_bias,
// and, having looked, clicks item i with probability
//   min(1, click_scale * appeal),
//   appeal = taste[c(i)] * quality(i)
//            * exp(-repeat_satiation * times i was shown to the user before,
//                  each impression's weight halving every repeat_half_life rounds)
//            * exp(-category_satiation * the user's clicks on c(i) in the
//                                        last satiation_rounds rounds),
// where taste is the user's latent category mix from the synthetic world
// (drifting over the run), c(i) the item's primary category and quality(i)
// a seeded log-normal factor. A click becomes a purchase with probability
// purchase_rate * taste[c(i)] / max(taste). After a round the user leaves
// for good with probability leave_base, plus leave_no_click if they clicked
// nothing. Every draw is keyed by (seed, user, round, slot), so the same
// user meets the same luck under every policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace recdb::sim {

struct ResponseOptions {
  double position_bias = 1.0;        // examine(j) = 1/(j+1)^position_bias; 0 = none
  double click_scale = 1.0;          // click | examined = min(1, click_scale * appeal)
  double purchase_rate = 0.3;        // purchase | click = rate * taste[c] / max taste
  double repeat_satiation = 0.5;     // per earlier impression of the same item
  double repeat_half_life = 7;       // rounds for an impression's weight to halve; 0 = never
  double category_satiation = 0.15;  // per recent click in the same category
  int satiation_rounds = 3;          // "recent" for category satiation
  double quality_spread = 0.5;       // quality = exp(spread * N(0, 1))
  double leave_base = 0.002;         // per round
  double leave_no_click = 0.03;      // added when the round had no click
  // Share of the world's start -> end taste drift that happens during the
  // run: taste at round t is the world's taste at fraction
  // (1 - drift) + drift * t / rounds of its period.
  double drift = 0.5;
};

// What the simulator remembers about one user in one policy's world.
struct UserState {
  bool active = true;
  // Categories of the user's last `window` consumed items (history, then
  // clicks), oldest first: the consumption-diversity window.
  std::deque<int> window;
  // The window's entropy when it first held `window` items (from the
  // history, or later from clicks): the user's own start. Entropy is only
  // compared over full windows, so that a short history does not read as
  // low diversity.
  bool has_start = false;
  double start_entropy = 0;
  // Items the user has an event on (history or click): recdb's exclude_seen.
  std::unordered_set<int64_t> consumed;
  // Item -> times shown to the user, each impression's weight halving every
  // repeat_half_life rounds.
  std::unordered_map<int64_t, double> shown;
  // Per recent round (newest last, at most satiation_rounds): clicks by category.
  std::deque<std::vector<int>> recent_clicks;
};

struct SlotResponse {
  bool click = false;
  bool purchase = false;
};

class ResponseModel {
 public:
  ResponseModel(const ResponseOptions& options, uint64_t seed, int num_categories);

  const ResponseOptions& options() const { return options_; }

  // Seeded latent quality of item i (depends on seed and i only).
  double Quality(int64_t item) const;
  // Probability of examining slot j.
  double Examine(size_t slot) const;
  // Click probability of `item` (category `category`) at `slot` for a user
  // in `state` with `taste` (per category, sums to 1).
  double ClickProbability(const UserState& state, const std::vector<double>& taste,
                          int64_t item, int category, size_t slot) const;
  double PurchaseProbability(const std::vector<double>& taste, int category) const;

  // The user's reaction to each slot of `items` (categories parallel), drawn
  // from keys (seed, user, round, slot).
  std::vector<SlotResponse> Respond(const UserState& state, const std::vector<double>& taste,
                                    const std::vector<int64_t>& items,
                                    const std::vector<int>& categories, int64_t user,
                                    int round) const;

  // Updates `state` after `Respond`: impressions, clicks, window (keeping
  // the last `window` categories), recent clicks.
  void Update(UserState* state, const std::vector<int64_t>& items,
              const std::vector<int>& categories, const std::vector<SlotResponse>& responses,
              size_t window) const;

  // Whether the user leaves after `round` (clicked: whether they clicked).
  bool Leaves(int64_t user, int round, bool clicked) const;

 private:
  ResponseOptions options_;
  uint64_t seed_;
  int num_categories_;
};

}  // namespace recdb::sim
