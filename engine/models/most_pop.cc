#include "engine/models/most_pop.h"

#include <algorithm>

namespace recdb::models {

Status MostPop::Fit(const Dataset& data) {
  popularity_.assign(data.num_items(), 0.0f);
  for (uint32_t i = 0; i < data.num_items(); ++i) {
    popularity_[i] = static_cast<float>(data.ItemUsers(i).size());
  }
  return Status::OK();
}

void MostPop::Score(const UserQuery&, std::span<float> scores) const {
  std::copy(popularity_.begin(), popularity_.end(), scores.begin());
}

}  // namespace recdb::models

namespace recdb::models {

Status MostPop::Save(ModelWriter& out) const {
  out.PutVector(popularity_);
  return Status::OK();
}

Status MostPop::Load(ModelReader& in) {
  in.GetVector(&popularity_);
  return in.status();
}

}  // namespace recdb::models
