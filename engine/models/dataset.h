// Dataset: the interactions a model is fitted on, with dense ids and the CSR
// indexes every model needs (user -> items, item -> users, per-user timeline).
//
// Ids are dense (docs/DESIGN.md decision 2): users in [0, num_users), items in
// [0, num_items). The item "rank" is the protocol's tie-break order: when two
// items score equally the one with the smaller rank is recommended first. It is
// derived from external ids by ItemIdLess (numeric ids compare as numbers and
// sort before non-numeric ids, which compare as strings), or is the dense id
// itself when no external ids are given.
//
// Thread-safety: immutable after Build; const methods are safe concurrently.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/models/model_io.h"
#include "recdb/status.h"

namespace recdb::models {

inline constexpr uint32_t kNoContext = std::numeric_limits<uint32_t>::max();
inline constexpr uint32_t kUnknownUser = std::numeric_limits<uint32_t>::max();

// One implicit interaction. `weight` is used by the popularity models (sum of
// weights); the collaborative models treat any interaction as binary.
struct Interaction {
  uint32_t user = 0;
  uint32_t item = 0;
  int64_t ts = 0;       // seconds; only the order and differences matter
  float weight = 1.0f;
  uint32_t context = kNoContext;  // optional context bucket (device, daypart, ...)
};

// Protocol order of external item ids: ids made only of digits compare as
// numbers (without overflow, any length) and sort before all other ids, which
// compare as byte strings. This is refbaselines.py's sort key.
bool ItemIdLess(std::string_view a, std::string_view b);

// rank[i] = position of ids[i] in ItemIdLess order (ties keep input order).
std::vector<uint32_t> RankItemIds(const std::vector<std::string>& ids);

struct DatasetSpec {
  uint32_t num_users = 0;
  uint32_t num_items = 0;
  std::vector<Interaction> interactions;
  // Optional: external id per item (size num_items) for the tie-break order.
  std::vector<std::string> item_ids;
  // Optional: categories per item (size num_items), each in [0, num_categories).
  std::vector<std::vector<uint32_t>> item_categories;
  uint32_t num_categories = 0;
  // Optional context vocabulary (engine/models/context.h). Feature f is named
  // context_feature_names[f], e.g. "device=mobile"; ids below
  // kDerivedContextFeatures are the features derived from event time and
  // must be named as DerivedContextFeatureNames() says. context_combos[c] is
  // the set of stored feature ids of context combination c, which
  // Interaction::context refers to.
  std::vector<std::string> context_feature_names;
  std::vector<std::vector<uint32_t>> context_combos;
};

class Dataset {
 public:
  Dataset() = default;

  // Validates ids and builds the indexes. Returns InvalidArgument if an
  // interaction names a user/item/category out of range or an optional vector
  // has the wrong size.
  static StatusOr<Dataset> Build(DatasetSpec spec);

  uint32_t num_users() const { return num_users_; }
  uint32_t num_items() const { return num_items_; }
  uint32_t num_categories() const { return num_categories_; }
  const std::vector<Interaction>& interactions() const { return interactions_; }

  // Distinct items of `user`, ascending id.
  std::span<const uint32_t> UserItems(uint32_t user) const {
    return {user_items_.data() + user_ptr_[user], user_items_.data() + user_ptr_[user + 1]};
  }
  // Distinct users of `item`, ascending id.
  std::span<const uint32_t> ItemUsers(uint32_t item) const {
    return {item_users_.data() + item_ptr_[item], item_users_.data() + item_ptr_[item + 1]};
  }
  // Indices into interactions() of `user`'s events, sorted by (ts, item rank).
  std::span<const uint32_t> UserTimeline(uint32_t user) const {
    return {timeline_.data() + user_ptr_ev_[user], timeline_.data() + user_ptr_ev_[user + 1]};
  }
  // Tie-break rank of every item (a permutation of [0, num_items)).
  const std::vector<uint32_t>& item_rank() const { return item_rank_; }
  const std::vector<std::string>& item_ids() const { return item_ids_; }
  bool has_categories() const { return !item_categories_.empty(); }
  std::span<const uint32_t> ItemCategories(uint32_t item) const {
    if (item_categories_.empty()) return {};
    return item_categories_[item];
  }
  const std::vector<std::vector<uint32_t>>& item_categories() const { return item_categories_; }

  // Context vocabulary (see DatasetSpec); at least the derived features.
  const std::vector<std::string>& context_feature_names() const { return context_feature_names_; }
  // Stored feature ids of an interaction's context combination (empty for
  // kNoContext or an unknown combination).
  std::span<const uint32_t> ContextFeatures(uint32_t combo) const {
    if (combo >= context_combos_.size()) return {};
    return context_combos_[combo];
  }
  // Feature id of "key=value", if the vocabulary has it.
  std::optional<uint32_t> FindContextFeature(std::string_view name) const;

  // Persistence of all but the interactions (model_io.h): what serving needs
  // of the fitted data -- sizes, item ids (hence the rank), categories and
  // the context vocabulary. LoadVocabulary returns such a Dataset with no
  // interactions; errors: Corruption (the reader's status, or ids out of
  // range).
  void SaveVocabulary(ModelWriter& out) const;
  // At most `max_users` users (the ids the caller can hold); the saved
  // dataset must have had item ids (DatasetSpec::item_ids).
  static StatusOr<Dataset> LoadVocabulary(ModelReader& in, uint32_t max_users);

  // A dataset with the same users, items, ids and categories but other
  // interactions (used by the evaluation splits).
  StatusOr<Dataset> WithInteractions(std::vector<Interaction> interactions) const;

 private:
  uint32_t num_users_ = 0;
  uint32_t num_items_ = 0;
  uint32_t num_categories_ = 0;
  std::vector<Interaction> interactions_;
  std::vector<std::string> item_ids_;
  std::vector<uint32_t> item_rank_;
  std::vector<std::vector<uint32_t>> item_categories_;
  std::vector<std::string> context_feature_names_;
  std::vector<std::vector<uint32_t>> context_combos_;
  std::vector<uint64_t> user_ptr_, item_ptr_, user_ptr_ev_;
  std::vector<uint32_t> user_items_, item_users_, timeline_;
};

}  // namespace recdb::models
