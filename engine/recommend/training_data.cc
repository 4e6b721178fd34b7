#include "engine/recommend/training_data.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "engine/db_impl/db_impl.h"
#include "engine/models/context.h"

namespace recdb {

StatusOr<models::Dataset> BuildTrainingDataset(const DBImpl& db, const ItemCatalog& catalog,
                                               TrainingDataStats* stats, int64_t events_before) {
  TrainingDataStats local;
  if (stats == nullptr) stats = &local;
  *stats = {};
  std::vector<double> weight_by_type;
  for (const auto& t : db.EventTypesById()) {
    if (t.id >= weight_by_type.size()) weight_by_type.resize(t.id + 1, 0.0);
    weight_by_type[t.id] = t.weight;
  }
  models::DatasetSpec spec;
  spec.num_users = db.UserIdLimit();
  spec.num_items = db.ItemIdLimit();
  std::vector<int8_t> trainable(spec.num_users, -1);  // -1 unknown, 0 no, 1 yes
  // Context: provisional feature ids ("key=value") and combinations, pruned
  // to the supported features after the scan.
  std::unordered_map<std::string, uint32_t> feature_id;
  std::vector<std::string> feature_name;
  std::vector<int64_t> feature_events;
  std::map<std::vector<uint32_t>, uint32_t> combo_id;
  std::vector<std::vector<uint32_t>> combos;
  std::vector<uint32_t> combo;
  Status s = db.ScanEvents([&](const storage::StoredEvent& e) -> Status {
    if (e.user >= spec.num_users || e.item >= spec.num_items) return Status::OK();  // newer than limits
    if (e.timestamp >= events_before) return Status::OK();
    int8_t& ok = trainable[e.user];
    if (ok < 0) {
      ok = db.UserConsent(e.user).training ? 1 : 0;
      if (!ok) stats->users_excluded_by_consent++;
    }
    if (!ok) return Status::OK();
    double w = e.type < weight_by_type.size() ? weight_by_type[e.type] : 0.0;
    if (w <= 0) {
      stats->events_skipped_negative++;
      return Status::OK();
    }
    models::Interaction in;
    in.user = e.user;
    in.item = e.item;
    in.ts = e.timestamp;
    in.weight = static_cast<float>(w);
    if (e.context != nullptr && !e.context->empty()) {
      combo.clear();
      for (const auto& [k, v] : *e.context) {
        std::string name = k + "=" + v;
        auto it = feature_id.find(name);
        if (it == feature_id.end()) {
          if (feature_name.size() >= kMaxProvisionalContextFeatures) continue;
          it = feature_id.emplace(name, static_cast<uint32_t>(feature_name.size())).first;
          feature_name.push_back(std::move(name));
          feature_events.push_back(0);
        }
        feature_events[it->second]++;
        combo.push_back(it->second);
      }
      std::sort(combo.begin(), combo.end());
      auto [cit, added] = combo_id.emplace(combo, static_cast<uint32_t>(combos.size()));
      if (added) combos.push_back(combo);
      in.context = cit->second;
    }
    spec.interactions.push_back(in);
    stats->events_used++;
    return Status::OK();
  }, /*snapshot=*/nullptr, /*with_context=*/true);
  RECDB_RETURN_IF_ERROR(s);
  // Keep the kMaxContextFeatures most frequent features with at least
  // kMinContextFeatureEvents events; rebuild the combinations over them.
  std::vector<uint32_t> by_count(feature_name.size());
  for (uint32_t f = 0; f < by_count.size(); ++f) by_count[f] = f;
  std::sort(by_count.begin(), by_count.end(), [&](uint32_t a, uint32_t b) {
    if (feature_events[a] != feature_events[b]) return feature_events[a] > feature_events[b];
    return feature_name[a] < feature_name[b];
  });
  spec.context_feature_names = models::DerivedContextFeatureNames();
  std::vector<uint32_t> kept(feature_name.size(), UINT32_MAX);
  for (uint32_t f : by_count) {
    if (feature_events[f] < kMinContextFeatureEvents ||
        spec.context_feature_names.size() >= models::kDerivedContextFeatures + kMaxContextFeatures) {
      break;
    }
    kept[f] = static_cast<uint32_t>(spec.context_feature_names.size());
    spec.context_feature_names.push_back(feature_name[f]);
  }
  std::map<std::vector<uint32_t>, uint32_t> final_id;
  std::vector<uint32_t> remap(combos.size(), models::kNoContext);
  for (size_t c = 0; c < combos.size(); ++c) {
    std::vector<uint32_t> features;
    for (uint32_t f : combos[c]) {
      if (kept[f] != UINT32_MAX) features.push_back(kept[f]);
    }
    if (features.empty()) continue;
    std::sort(features.begin(), features.end());
    auto [it, added] = final_id.emplace(features, static_cast<uint32_t>(spec.context_combos.size()));
    if (added) spec.context_combos.push_back(features);
    remap[c] = it->second;
  }
  for (models::Interaction& in : spec.interactions) {
    if (in.context != models::kNoContext) in.context = remap[in.context];
  }
  spec.item_ids = db.ItemExternalIds();
  spec.item_ids.resize(spec.num_items);
  for (uint32_t i = 0; i < spec.num_items; ++i) {
    if (spec.item_ids[i].empty()) spec.item_ids[i] = "\xff#" + std::to_string(i);  // unallocated hole
  }
  auto cats = catalog.CategoriesByItem();
  cats.resize(spec.num_items);
  spec.item_categories = std::move(cats);
  spec.num_categories = catalog.num_categories();
  return models::Dataset::Build(std::move(spec));
}

}  // namespace recdb
