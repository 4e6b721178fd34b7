// MostPop: every user gets the same ranking, by the number of distinct users
// who interacted with the item. The protocol's sanity baseline.
//
// Thread-safety: see Recommender.
#pragma once

#include <vector>

#include "engine/models/recommender.h"

namespace recdb::models {

class MostPop final : public Recommender {
 public:
  std::string_view Name() const override { return "mostpop"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return static_cast<uint32_t>(popularity_.size()); }
  void Score(const UserQuery& query, std::span<float> scores) const override;

  // Distinct users per item.
  const std::vector<float>& popularity() const { return popularity_; }

 private:
  std::vector<float> popularity_;
};

}  // namespace recdb::models
