#include "engine/rerank/care_facts.h"

#include <algorithm>

#include "engine/eval/metrics.h"
#include "engine/models/trending.h"

namespace recdb::rerank {

ItemFacts CareFacts::Items() const {
  ItemFacts f;
  f.categories = &categories;
  f.num_categories = num_categories;
  f.long_tail = &long_tail;
  f.popularity = &popularity;
  return f;
}

std::vector<double> CareFacts::HistoryMix(std::span<const uint32_t> history) const {
  if (num_categories == 0) return {};
  std::vector<uint32_t> known;
  for (uint32_t i : history) {
    if (i < categories.size()) known.push_back(i);
  }
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());  // as the metric: distinct items
  return eval::CategoryDistribution(known, categories, num_categories);
}

bool CareFacts::TrendingIn(uint32_t item, uint32_t category) const {
  if (category >= trending_by_category.size()) return false;
  const auto& t = trending_by_category[category];
  return std::binary_search(t.begin(), t.end(), item);
}

void CareFacts::Save(models::ModelWriter& out) const {
  out.Put(num_categories);
  out.PutNested(categories);
  out.PutVector(std::vector<uint8_t>(long_tail.begin(), long_tail.end()));
  out.PutVector(popularity);
  out.PutNested(trending_by_category);
}

bool CareFacts::Load(models::ModelReader& in) {
  std::vector<uint8_t> tail;
  if (!in.Get(&num_categories) || !in.GetNested(&categories) || !in.GetVector(&tail) ||
      !in.GetVector(&popularity) || !in.GetNested(&trending_by_category)) {
    return false;
  }
  long_tail.assign(tail.begin(), tail.end());
  bool ok = tail.size() == categories.size() && popularity.size() == categories.size() &&
            trending_by_category.size() <= num_categories;
  for (const auto& cats : categories) {
    for (uint32_t c : cats) ok = ok && c < num_categories;
  }
  for (const auto& items : trending_by_category) {
    for (uint32_t i : items) ok = ok && i < categories.size();
  }
  return in.Expect(ok, "care facts");
}

CareFacts BuildCareFacts(const models::Dataset& data, const models::Fused* fused) {
  CareFacts f;
  f.num_categories = data.num_categories();
  f.categories = data.item_categories();
  f.categories.resize(data.num_items());
  std::vector<float> popularity(data.num_items());
  for (uint32_t i = 0; i < data.num_items(); ++i) {
    popularity[i] = static_cast<float>(data.ItemUsers(i).size());
  }
  const std::vector<bool> head = eval::ShortHead(popularity, 0.2);
  f.popularity = popularity;
  f.long_tail.resize(data.num_items());
  for (uint32_t i = 0; i < data.num_items(); ++i) f.long_tail[i] = !head[i];
  if (fused && f.num_categories > 0) {
    for (size_t j = 0; j < fused->num_components(); ++j) {
      if (fused->component_name(j) != "trending") continue;
      const auto& trending = static_cast<const models::Trending&>(fused->component(j));
      f.trending_by_category.resize(f.num_categories);
      for (uint32_t c = 0; c < f.num_categories; ++c) {
        for (const auto& s : trending.Top(kTrendingPerCategory, c)) {
          f.trending_by_category[c].push_back(s.item);
        }
        std::sort(f.trending_by_category[c].begin(), f.trending_by_category[c].end());
      }
    }
  }
  return f;
}

}  // namespace recdb::rerank
