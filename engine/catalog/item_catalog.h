// ItemCatalog: the in-memory view of every item that serving needs without a
// disk read: categories, availability, creator, title and attributes by
// internal id. DBImpl keeps it current on every UpsertItems (it is derived
// from RocksDB and rebuilt at open).
//
// Filters (recdb::ItemFilter) compile against it into a bitset over internal
// ids, used by recommendation and by filtered vector search.
//
// Thread-safety: safe for concurrent use; Upsert takes an exclusive lock,
// readers a shared one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "recdb/embedding.h"
#include "recdb/records.h"
#include "recdb/status.h"

namespace recdb {

// A set of allowed internal item ids.
class ItemBitset {
 public:
  ItemBitset() = default;
  explicit ItemBitset(uint32_t size, bool value = false) : bits_(size, value) {}
  explicit ItemBitset(std::vector<bool> bits) : bits_(std::move(bits)) {}
  bool Test(uint32_t iid) const { return iid < bits_.size() && bits_[iid]; }
  void Set(uint32_t iid, bool value = true) {
    if (iid >= bits_.size()) bits_.resize(iid + 1, false);
    bits_[iid] = value;
  }
  uint32_t size() const { return static_cast<uint32_t>(bits_.size()); }
  uint32_t Count() const;

 private:
  std::vector<bool> bits_;
};

class ItemCatalog {
 public:
  struct Entry {
    std::string id;
    std::string title;
    std::vector<uint32_t> categories;  // category ids
    std::string creator;
    int64_t created_at = 0;
    bool available = true;
    Attributes attributes;
  };

  // Inserts or replaces the entry of internal id `iid`.
  void Upsert(uint32_t iid, const Item& item);

  // Number of internal ids covered (max iid + 1).
  uint32_t size() const;

  std::optional<Entry> Get(uint32_t iid) const;
  std::string Title(uint32_t iid) const;  // falls back to the external id
  // The item's created_at (0 = unknown), or nullopt without a record;
  // cheaper than Get (copies nothing).
  std::optional<int64_t> CreatedAt(uint32_t iid) const;

  std::optional<uint32_t> CategoryId(const std::string& name) const;
  std::string CategoryName(uint32_t id) const;
  uint32_t num_categories() const;
  // Category ids by internal item id, for models (size() entries).
  std::vector<std::vector<uint32_t>> CategoriesByItem() const;

  // Compiles `filter` into the set of admitted internal ids < num_items.
  // Ids without a catalog entry (items created implicitly by an event, with
  // no record) count as available, with no categories and no attributes.
  // `resolve` maps an external item id to its internal id (exclude_ids of
  // unknown items are ignored). Errors: none today; Status for future checks.
  // Cost: a filter without categories or attributes (what most requests
  // send) copies the availability bits Upsert keeps (O(items / 64) word copies);
  // any other filter looks at every entry (O(items)).
  StatusOr<ItemBitset> Compile(
      const ItemFilter& filter,
      const std::function<std::optional<uint32_t>(const std::string&)>& resolve,
      uint32_t num_items) const;

 private:
  uint32_t InternCategoryLocked(const std::string& name);

  mutable std::shared_mutex mu_;
  std::vector<Entry> entries_;                                  // GUARDED_BY(mu_)
  std::vector<bool> present_;                                   // GUARDED_BY(mu_)
  // admitted_when_available_[i]: what a filter without categories or
  // attributes but with available_only admits (no entry, or an available
  // one). Kept by Upsert, so that such a filter costs a copy.
  std::vector<bool> admitted_when_available_;                   // GUARDED_BY(mu_)
  std::vector<std::string> category_names_;                     // GUARDED_BY(mu_)
  std::unordered_map<std::string, uint32_t> category_ids_;      // GUARDED_BY(mu_)
};

}  // namespace recdb
