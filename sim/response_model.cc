#include "sim/response_model.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "sim/rng.h"

namespace recdb::sim {

ResponseModel::ResponseModel(const ResponseOptions& options, uint64_t seed, int num_categories)
    : options_(options), seed_(seed), num_categories_(num_categories) {}

double ResponseModel::Quality(int64_t item) const {
  Rng rng(DrawKey(seed_, kQualityStream, static_cast<uint64_t>(item)));
  return std::exp(options_.quality_spread * rng.Normal());
}

double ResponseModel::Examine(size_t slot) const {
  return 1.0 / std::pow(static_cast<double>(slot + 1), options_.position_bias);
}

double ResponseModel::ClickProbability(const UserState& state, const std::vector<double>& taste,
                                       int64_t item, int category, size_t slot) const {
  double appeal = taste[static_cast<size_t>(category)] * Quality(item);
  auto it = state.shown.find(item);
  if (it != state.shown.end()) appeal *= std::exp(-options_.repeat_satiation * it->second);
  int recent = 0;
  for (const auto& round : state.recent_clicks) recent += round[static_cast<size_t>(category)];
  appeal *= std::exp(-options_.category_satiation * recent);
  return Examine(slot) * std::min(1.0, options_.click_scale * appeal);
}

double ResponseModel::PurchaseProbability(const std::vector<double>& taste, int category) const {
  const double top = *std::max_element(taste.begin(), taste.end());
  return top <= 0 ? 0.0 : options_.purchase_rate * taste[static_cast<size_t>(category)] / top;
}

std::vector<SlotResponse> ResponseModel::Respond(const UserState& state,
                                                 const std::vector<double>& taste,
                                                 const std::vector<int64_t>& items,
                                                 const std::vector<int>& categories,
                                                 int64_t user, int round) const {
  std::vector<SlotResponse> out(items.size());
  for (size_t j = 0; j < items.size(); ++j) {
    Rng rng(DrawKey(seed_, kResponseStream, static_cast<uint64_t>(user),
                    static_cast<uint64_t>(round), j));
    const double u_click = rng.Uniform(), u_buy = rng.Uniform();
    out[j].click = u_click < ClickProbability(state, taste, items[j], categories[j], j);
    out[j].purchase = out[j].click && u_buy < PurchaseProbability(taste, categories[j]);
  }
  return out;
}

void ResponseModel::Update(UserState* state, const std::vector<int64_t>& items,
                           const std::vector<int>& categories,
                           const std::vector<SlotResponse>& responses, size_t window) const {
  std::vector<int> clicks(static_cast<size_t>(num_categories_), 0);
  if (options_.repeat_half_life > 0) {  // a round passes: earlier impressions fade
    const double decay = std::exp2(-1.0 / options_.repeat_half_life);
    for (auto it = state->shown.begin(); it != state->shown.end();) {
      it->second *= decay;
      it = it->second < 1e-3 ? state->shown.erase(it) : std::next(it);
    }
  }
  for (size_t j = 0; j < items.size(); ++j) {
    state->shown[items[j]] += 1.0;
    if (!responses[j].click) continue;
    ++clicks[static_cast<size_t>(categories[j])];
    state->consumed.insert(items[j]);
    state->window.push_back(categories[j]);
    while (state->window.size() > window) state->window.pop_front();
  }
  state->recent_clicks.push_back(std::move(clicks));
  while (state->recent_clicks.size() > static_cast<size_t>(std::max(0, options_.satiation_rounds))) {
    state->recent_clicks.pop_front();
  }
}

bool ResponseModel::Leaves(int64_t user, int round, bool clicked) const {
  Rng rng(DrawKey(seed_, kLeaveStream, static_cast<uint64_t>(user), static_cast<uint64_t>(round)));
  const double p = options_.leave_base + (clicked ? 0.0 : options_.leave_no_click);
  return rng.Uniform() < p;
}

}  // namespace recdb::sim
