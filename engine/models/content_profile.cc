#include "engine/models/content_profile.h"

#include <algorithm>
#include <cmath>

namespace recdb::models {

bool ItemVectors::Set(uint32_t item, std::span<const float> v) {
  if (item >= present_.size() || v.size() != dim_) return false;
  double norm = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return false;
    norm += static_cast<double>(x) * x;
  }
  if (!(norm > 0)) return false;
  const double inv = 1.0 / std::sqrt(norm);
  float* row = values_.data() + static_cast<size_t>(item) * dim_;
  for (uint32_t d = 0; d < dim_; ++d) row[d] = static_cast<float>(v[d] * inv);
  if (!present_[item]) present_[item] = 1, ++count_;
  return true;
}

Status ContentProfile::Fit(const Dataset& data) {
  if (!vectors_ || vectors_->dim() == 0 || vectors_->count() == 0) {
    return Status::InvalidArgument("content: no item vectors");
  }
  if (!(options_.half_life_seconds > 0)) {
    return Status::InvalidArgument("content: half_life_seconds must be > 0");
  }
  num_items_ = data.num_items();
  return Status::OK();
}

std::vector<float> ContentProfile::Profile(
    const UserQuery& query, const std::function<const float*(uint32_t)>& lookup) const {
  const uint32_t dim = vectors_->dim();
  std::vector<double> acc(dim, 0.0);
  const size_t n = query.items.size();
  const bool timed = query.timestamps.size() == n && n > 0;
  int64_t now = query.now;
  if (now == 0 && timed) now = query.timestamps[n - 1];
  const double lambda = std::log(2.0) / options_.half_life_seconds;
  bool any = false;
  const size_t first = n > options_.max_history ? n - options_.max_history : 0;
  for (size_t e = first; e < n; ++e) {
    const uint32_t item = query.items[e];
    const float* v = vectors_->Row(item);
    if (v == nullptr && lookup) v = lookup(item);
    if (v == nullptr) continue;
    double w = query.weights.size() == n ? query.weights[e] : 1.0;
    if (timed) w *= std::exp(-lambda * static_cast<double>(std::max<int64_t>(0, now - query.timestamps[e])));
    if (!(w > 0)) continue;
    for (uint32_t d = 0; d < dim; ++d) acc[d] += w * v[d];
    any = true;
  }
  double norm = 0;
  for (double x : acc) norm += x * x;
  if (!any || !(norm > 0)) return {};
  std::vector<float> out(dim);
  const double inv = 1.0 / std::sqrt(norm);
  for (uint32_t d = 0; d < dim; ++d) out[d] = static_cast<float>(acc[d] * inv);
  return out;
}

void ContentProfile::Score(const UserQuery& query, std::span<float> scores) const {
  const std::vector<float> p = Profile(query);
  if (p.empty()) {  // nothing to go on: no opinion about any item
    std::fill(scores.begin(), scores.end(), 0.0f);
    return;
  }
  const uint32_t dim = vectors_->dim();
  double sum = 0;
  size_t cnt = 0;
  for (uint32_t i = 0; i < num_items_; ++i) {
    const float* v = vectors_->Row(i);
    if (v == nullptr) continue;
    float s = 0;
    for (uint32_t d = 0; d < dim; ++d) s += p[d] * v[d];
    scores[i] = s;
    sum += s, ++cnt;
  }
  const float mean = cnt ? static_cast<float>(sum / cnt) : 0.0f;
  for (uint32_t i = 0; i < num_items_; ++i) {
    if (vectors_->Row(i) == nullptr) scores[i] = mean;
  }
}

}  // namespace recdb::models

namespace recdb::models {

void ItemVectors::Save(ModelWriter& out) const {
  out.Put<uint32_t>(dim_);
  out.PutVector(present_);
  out.PutVector(values_);
}

std::shared_ptr<ItemVectors> ItemVectors::Load(ModelReader& in) {
  uint32_t dim = 0;
  std::vector<uint8_t> present;
  std::vector<float> values;
  if (!in.Get(&dim) || !in.GetVector(&present) || !in.GetVector(&values) ||
      !in.Expect(dim > 0 && values.size() == present.size() * static_cast<size_t>(dim),
                 "item vectors")) {
    return nullptr;
  }
  auto v = std::make_shared<ItemVectors>(0, dim);
  v->present_ = std::move(present);
  v->values_ = std::move(values);
  for (uint8_t p : v->present_) v->count_ += p != 0;
  return v;
}

Status ContentProfile::Save(ModelWriter& out) const {
  out.Put(num_items_);
  vectors_->Save(out);
  return Status::OK();
}

Status ContentProfile::Load(ModelReader& in) {
  if (!in.Get(&num_items_)) return in.status();
  auto v = ItemVectors::Load(in);
  if (v && in.Expect(v->num_items() >= num_items_, "content vector count")) vectors_ = std::move(v);
  return in.status();
}

}  // namespace recdb::models
