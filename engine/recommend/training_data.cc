#include "engine/recommend/training_data.h"

#include "engine/db_impl.h"

namespace recdb {

StatusOr<models::Dataset> BuildTrainingDataset(const DBImpl& db, const ItemCatalog& catalog,
                                               TrainingDataStats* stats) {
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
  Status s = db.ScanEvents([&](const storage::StoredEvent& e) -> Status {
    if (e.user >= spec.num_users || e.item >= spec.num_items) return Status::OK();  // newer than limits
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
    spec.interactions.push_back(in);
    stats->events_used++;
    return Status::OK();
  });
  RECDB_RETURN_IF_ERROR(s);
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
