#include "engine/catalog/item_catalog.h"

#include <algorithm>
#include <mutex>

namespace recdb {

uint32_t ItemBitset::Count() const {
  return static_cast<uint32_t>(std::count(bits_.begin(), bits_.end(), true));
}

uint32_t ItemCatalog::InternCategoryLocked(const std::string& name) {
  auto it = category_ids_.find(name);
  if (it != category_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(category_names_.size());
  category_names_.push_back(name);
  category_ids_.emplace(name, id);
  return id;
}

void ItemCatalog::Upsert(uint32_t iid, const Item& item) {
  std::unique_lock lock(mu_);
  if (iid >= entries_.size()) {
    entries_.resize(iid + 1);
    present_.resize(iid + 1, false);
    admitted_when_available_.resize(iid + 1, true);
  }
  Entry& e = entries_[iid];
  e.id = item.id;
  e.title = item.title;
  e.categories.clear();
  for (const auto& c : item.categories) {
    uint32_t id = InternCategoryLocked(c);
    if (std::find(e.categories.begin(), e.categories.end(), id) == e.categories.end()) {
      e.categories.push_back(id);
    }
  }
  e.creator = item.creator;
  e.created_at = item.created_at;
  e.available = item.available;
  e.attributes = item.attributes;
  present_[iid] = true;
  admitted_when_available_[iid] = item.available;
}

uint32_t ItemCatalog::size() const {
  std::shared_lock lock(mu_);
  return static_cast<uint32_t>(entries_.size());
}

std::optional<ItemCatalog::Entry> ItemCatalog::Get(uint32_t iid) const {
  std::shared_lock lock(mu_);
  if (iid >= entries_.size() || !present_[iid]) return std::nullopt;
  return entries_[iid];
}

std::optional<int64_t> ItemCatalog::CreatedAt(uint32_t iid) const {
  std::shared_lock lock(mu_);
  if (iid >= entries_.size() || !present_[iid]) return std::nullopt;
  return entries_[iid].created_at;
}

std::string ItemCatalog::Title(uint32_t iid) const {
  std::shared_lock lock(mu_);
  if (iid >= entries_.size() || !present_[iid]) return "";
  const Entry& e = entries_[iid];
  return e.title.empty() ? e.id : e.title;
}

std::optional<uint32_t> ItemCatalog::CategoryId(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = category_ids_.find(name);
  if (it == category_ids_.end()) return std::nullopt;
  return it->second;
}

std::string ItemCatalog::CategoryName(uint32_t id) const {
  std::shared_lock lock(mu_);
  return id < category_names_.size() ? category_names_[id] : "";
}

uint32_t ItemCatalog::num_categories() const {
  std::shared_lock lock(mu_);
  return static_cast<uint32_t>(category_names_.size());
}

std::vector<std::vector<uint32_t>> ItemCatalog::CategoriesByItem() const {
  std::shared_lock lock(mu_);
  std::vector<std::vector<uint32_t>> out(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) out[i] = entries_[i].categories;
  return out;
}

namespace {

bool AttributeEquals(const AttributeValue& v, const std::string& want) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s == want;
  if (const auto* b = std::get_if<bool>(&v)) return (*b ? "true" : "false") == want;
  if (const auto* d = std::get_if<double>(&v)) {
    char* end = nullptr;
    double w = std::strtod(want.c_str(), &end);
    return end != want.c_str() && *end == '\0' && w == *d;
  }
  const auto& list = std::get<std::vector<std::string>>(v);
  return std::find(list.begin(), list.end(), want) != list.end();
}

}  // namespace

StatusOr<ItemBitset> ItemCatalog::Compile(
    const ItemFilter& filter,
    const std::function<std::optional<uint32_t>(const std::string&)>& resolve,
    uint32_t num_items) const {
  std::shared_lock lock(mu_);
  const uint32_t n = std::max<uint32_t>(num_items, static_cast<uint32_t>(entries_.size()));
  const bool plain = filter.categories_any.empty() && filter.attribute_equals.empty() &&
                     filter.attribute_range.empty();
  ItemBitset out;
  if (plain) {
    // Availability alone: the bits Upsert keeps, and every id past the
    // entries (an implicit item: available, nothing else known) admitted.
    std::vector<bool> bits = filter.available_only ? admitted_when_available_
                                                   : std::vector<bool>(entries_.size(), true);
    bits.resize(n, true);
    out = ItemBitset(std::move(bits));
  } else {
    std::vector<bool> wanted_category;
    if (!filter.categories_any.empty()) {
      wanted_category.assign(category_names_.size(), false);
      for (const auto& name : filter.categories_any) {
        auto it = category_ids_.find(name);
        if (it != category_ids_.end()) wanted_category[it->second] = true;
      }
    }
    out = ItemBitset(n, false);
    for (uint32_t i = 0; i < entries_.size(); ++i) {
      if (!present_[i]) continue;  // an implicit item: no category or attribute matches
      const Entry& e = entries_[i];
      if (filter.available_only && !e.available) continue;
      if (!filter.categories_any.empty()) {
        bool any = false;
        for (uint32_t c : e.categories) any = any || wanted_category[c];
        if (!any) continue;
      }
      bool ok = true;
      for (const auto& [key, want] : filter.attribute_equals) {
        auto it = e.attributes.find(key);
        if (it == e.attributes.end() || !AttributeEquals(it->second, want)) {
          ok = false;
          break;
        }
      }
      for (const auto& [key, range] : filter.attribute_range) {
        if (!ok) break;
        auto it = e.attributes.find(key);
        const double* d = it == e.attributes.end() ? nullptr : std::get_if<double>(&it->second);
        if (d == nullptr || *d < range.min || *d > range.max) ok = false;
      }
      if (ok) out.Set(i);
    }
  }
  lock.unlock();
  for (const auto& id : filter.exclude_ids) {
    if (auto iid = resolve(id)) out.Set(*iid, false);
  }
  return out;
}

}  // namespace recdb
