#include "engine/models/dataset.h"

#include "engine/models/context.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace recdb::models {

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view StripLeadingZeros(std::string_view s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

}  // namespace

bool ItemIdLess(std::string_view a, std::string_view b) {
  const bool na = AllDigits(a), nb = AllDigits(b);
  if (na != nb) return na;  // numbers first
  if (na) {
    std::string_view x = StripLeadingZeros(a), y = StripLeadingZeros(b);
    if (x.size() != y.size()) return x.size() < y.size();
    return x < y;
  }
  return a < b;
}

std::vector<uint32_t> RankItemIds(const std::vector<std::string>& ids) {
  std::vector<uint32_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t x, uint32_t y) { return ItemIdLess(ids[x], ids[y]); });
  std::vector<uint32_t> rank(ids.size());
  for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  return rank;
}

StatusOr<Dataset> Dataset::Build(DatasetSpec spec) {
  Dataset d;
  d.num_users_ = spec.num_users;
  d.num_items_ = spec.num_items;
  d.num_categories_ = spec.num_categories;
  for (const Interaction& e : spec.interactions) {
    if (e.user >= spec.num_users || e.item >= spec.num_items) {
      return Status::InvalidArgument("interaction user or item id out of range");
    }
  }
  if (!spec.item_ids.empty() && spec.item_ids.size() != spec.num_items) {
    return Status::InvalidArgument("item_ids must have num_items entries");
  }
  if (!spec.item_categories.empty()) {
    if (spec.item_categories.size() != spec.num_items) {
      return Status::InvalidArgument("item_categories must have num_items entries");
    }
    for (auto& cats : spec.item_categories) {
      for (uint32_t c : cats) {
        if (c >= spec.num_categories) return Status::InvalidArgument("category out of range");
      }
      std::sort(cats.begin(), cats.end());
      cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
    }
  }
  if (spec.context_feature_names.empty()) spec.context_feature_names = DerivedContextFeatureNames();
  {
    const auto derived = DerivedContextFeatureNames();
    if (spec.context_feature_names.size() < derived.size() ||
        !std::equal(derived.begin(), derived.end(), spec.context_feature_names.begin())) {
      return Status::InvalidArgument("context_feature_names must start with the derived features");
    }
  }
  for (auto& combo : spec.context_combos) {
    for (uint32_t f : combo) {
      if (f >= spec.context_feature_names.size()) {
        return Status::InvalidArgument("context feature out of range");
      }
    }
    std::sort(combo.begin(), combo.end());
    combo.erase(std::unique(combo.begin(), combo.end()), combo.end());
  }
  d.context_feature_names_ = std::move(spec.context_feature_names);
  d.context_combos_ = std::move(spec.context_combos);
  d.interactions_ = std::move(spec.interactions);
  d.item_ids_ = std::move(spec.item_ids);
  d.item_categories_ = std::move(spec.item_categories);
  if (d.item_ids_.empty()) {
    d.item_rank_.resize(d.num_items_);
    std::iota(d.item_rank_.begin(), d.item_rank_.end(), 0u);
  } else {
    d.item_rank_ = RankItemIds(d.item_ids_);
  }

  // Per-user timeline: counting sort by user, then (ts, rank) within a user.
  const auto& ev = d.interactions_;
  d.user_ptr_ev_.assign(d.num_users_ + 1, 0);
  for (const Interaction& e : ev) ++d.user_ptr_ev_[e.user + 1];
  for (uint32_t u = 0; u < d.num_users_; ++u) d.user_ptr_ev_[u + 1] += d.user_ptr_ev_[u];
  d.timeline_.resize(ev.size());
  {
    std::vector<uint64_t> fill(d.user_ptr_ev_.begin(), d.user_ptr_ev_.end() - 1);
    for (uint32_t k = 0; k < ev.size(); ++k) d.timeline_[fill[ev[k].user]++] = k;
  }
  const auto& rank = d.item_rank_;
  for (uint32_t u = 0; u < d.num_users_; ++u) {
    std::stable_sort(d.timeline_.begin() + d.user_ptr_ev_[u],
                     d.timeline_.begin() + d.user_ptr_ev_[u + 1], [&](uint32_t a, uint32_t b) {
                       if (ev[a].ts != ev[b].ts) return ev[a].ts < ev[b].ts;
                       return rank[ev[a].item] < rank[ev[b].item];
                     });
  }

  // Distinct user -> items.
  d.user_ptr_.assign(d.num_users_ + 1, 0);
  d.user_items_.reserve(ev.size());
  std::vector<uint32_t> buf;
  for (uint32_t u = 0; u < d.num_users_; ++u) {
    buf.clear();
    for (uint32_t k : d.UserTimeline(u)) buf.push_back(ev[k].item);
    std::sort(buf.begin(), buf.end());
    buf.erase(std::unique(buf.begin(), buf.end()), buf.end());
    d.user_items_.insert(d.user_items_.end(), buf.begin(), buf.end());
    d.user_ptr_[u + 1] = d.user_items_.size();
  }
  // Distinct item -> users (transpose; users come out ascending).
  d.item_ptr_.assign(d.num_items_ + 1, 0);
  for (uint32_t i : d.user_items_) ++d.item_ptr_[i + 1];
  for (uint32_t i = 0; i < d.num_items_; ++i) d.item_ptr_[i + 1] += d.item_ptr_[i];
  d.item_users_.resize(d.user_items_.size());
  {
    std::vector<uint64_t> fill(d.item_ptr_.begin(), d.item_ptr_.end() - 1);
    for (uint32_t u = 0; u < d.num_users_; ++u) {
      for (uint32_t i : d.UserItems(u)) d.item_users_[fill[i]++] = u;
    }
  }
  return d;
}

StatusOr<Dataset> Dataset::WithInteractions(std::vector<Interaction> interactions) const {
  DatasetSpec spec;
  spec.num_users = num_users_;
  spec.num_items = num_items_;
  spec.num_categories = num_categories_;
  spec.interactions = std::move(interactions);
  spec.item_ids = item_ids_;
  spec.item_categories = item_categories_;
  spec.context_feature_names = context_feature_names_;
  spec.context_combos = context_combos_;
  return Build(std::move(spec));
}

void Dataset::SaveVocabulary(ModelWriter& out) const {
  out.Put(num_users_);
  out.Put(num_items_);
  out.Put(num_categories_);
  out.PutStrings(item_ids_);
  out.PutNested(item_categories_);
  out.PutStrings(context_feature_names_);
  out.PutNested(context_combos_);
}

StatusOr<Dataset> Dataset::LoadVocabulary(ModelReader& in, uint32_t max_users) {
  DatasetSpec spec;
  if (!in.Get(&spec.num_users) || !in.Get(&spec.num_items) || !in.Get(&spec.num_categories) ||
      !in.GetStrings(&spec.item_ids) || !in.GetNested(&spec.item_categories) ||
      !in.GetStrings(&spec.context_feature_names) || !in.GetNested(&spec.context_combos) ||
      !in.Expect(spec.num_users <= max_users && spec.num_items == spec.item_ids.size(),
                 "dataset sizes")) {
    return in.status();
  }
  auto data = Build(std::move(spec));
  if (!data.ok()) return Status::Corruption("stored dataset: " + data.status().ToString());
  return data;
}

std::optional<uint32_t> Dataset::FindContextFeature(std::string_view name) const {
  for (uint32_t f = 0; f < context_feature_names_.size(); ++f) {
    if (context_feature_names_[f] == name) return f;
  }
  return std::nullopt;
}

}  // namespace recdb::models
