// ContentProfile: the content-profile recommender (docs/DESIGN.md decision 8). A
// user's vector in a content space (the built-in text embedder's, or any
// space with item vectors) is the time-decayed, event-weighted mean of the
// unit vectors of the items in their history; items score by cosine
// similarity to it. The profile is computed from the query's history at every
// call, so a new event moves it at once, without retraining; the model keeps
// no per-user state. Items without a vector score the mean of the others
// (z = 0 in the fusion: "no opinion").
//
// ItemVectors is a snapshot of one space's item vectors taken at training
// time. Serving scores the items the snapshot knows exactly (one dot product
// each) and finds items added since in the space's HNSW index with the vector
// Profile returns (engine/recommend/recommend_service.cc).
//
// Thread-safety: see Recommender; ItemVectors is immutable once shared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "engine/models/recommender.h"

namespace recdb::models {

// Unit-length item vectors by dense item id; rows of items without a vector
// are absent (Row returns null).
class ItemVectors {
 public:
  ItemVectors(uint32_t num_items, uint32_t dim)
      : dim_(dim), values_(static_cast<size_t>(num_items) * dim, 0.0f), present_(num_items, 0) {}

  // Stores `v` scaled to unit length. Returns false (nothing stored) for an
  // item out of range, a wrong dimension, a non-finite or an all-zero vector.
  bool Set(uint32_t item, std::span<const float> v);

  // Persistence (model_io.h); Load returns null after failing `in`.
  void Save(ModelWriter& out) const;
  static std::shared_ptr<ItemVectors> Load(ModelReader& in);

  uint32_t dim() const { return dim_; }
  uint32_t num_items() const { return static_cast<uint32_t>(present_.size()); }
  size_t count() const { return count_; }  // items with a vector
  const float* Row(uint32_t item) const {
    return item < present_.size() && present_[item] ? values_.data() + static_cast<size_t>(item) * dim_
                                                    : nullptr;
  }

 private:
  uint32_t dim_;
  std::vector<float> values_;
  std::vector<uint8_t> present_;
  size_t count_ = 0;
};

struct ContentProfileOptions {
  // An event of weight w at time t counts w * 0.5^((now - t) / half_life)
  // in the mean. Default: 7 days (of 7 and 60 days, the one that gave the
  // higher fused NDCG@10 on ml-100k, engine/models/README.md).
  double half_life_seconds = 7 * 86400.0;
  // Only the most recent events count. Default: 500.
  size_t max_history = 500;
};

class ContentProfile final : public Recommender {
 public:
  // `vectors` must cover at least the items of the Dataset given to Fit
  // (items past its end have no vector).
  explicit ContentProfile(std::shared_ptr<const ItemVectors> vectors,
                          ContentProfileOptions options = {})
      : vectors_(std::move(vectors)), options_(options) {}

  std::string_view Name() const override { return "content"; }
  // Errors: InvalidArgument for no vectors or a half-life <= 0.
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return num_items_; }
  void Score(const UserQuery& query, std::span<float> scores) const override;

  // The user's unit profile vector (size dim), or empty when no history item
  // has a vector. `lookup`, when set, supplies vectors (unit length) for
  // history items the snapshot lacks (items newer than the model).
  std::vector<float> Profile(const UserQuery& query,
                             const std::function<const float*(uint32_t)>& lookup = {}) const;

  const ItemVectors& vectors() const { return *vectors_; }

 private:
  std::shared_ptr<const ItemVectors> vectors_;
  ContentProfileOptions options_;
  uint32_t num_items_ = 0;
};

}  // namespace recdb::models
