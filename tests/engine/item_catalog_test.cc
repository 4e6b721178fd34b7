// ItemCatalog::Compile: every filter admits exactly the items its definition
// does (recdb/embedding.h ItemFilter), checked item by item against the
// entries themselves -- in particular the availability-only filter, which
// copies the bits Upsert keeps instead of looking at every entry, after
// upserts that flip an item's availability and past the last entry
// (implicit items).
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/catalog/item_catalog.h"

namespace recdb {
namespace {

// What `filter` admits of internal id `iid`, from the definition.
bool Admits(const ItemCatalog& catalog, const ItemFilter& filter, uint32_t iid,
            const std::vector<uint32_t>& excluded) {
  for (uint32_t x : excluded) {
    if (x == iid) return false;
  }
  const bool plain = filter.categories_any.empty() && filter.attribute_equals.empty() &&
                     filter.attribute_range.empty();
  auto e = catalog.Get(iid);
  if (!e) return plain;  // an implicit item: available, no categories or attributes
  if (filter.available_only && !e->available) return false;
  if (!filter.categories_any.empty()) {
    bool any = false;
    for (uint32_t c : e->categories) {
      for (const auto& name : filter.categories_any) any = any || catalog.CategoryName(c) == name;
    }
    if (!any) return false;
  }
  for (const auto& [key, want] : filter.attribute_equals) {
    auto it = e->attributes.find(key);
    if (it == e->attributes.end()) return false;
    const auto* s = std::get_if<std::string>(&it->second);
    if (s == nullptr || *s != want) return false;
  }
  for (const auto& [key, range] : filter.attribute_range) {
    auto it = e->attributes.find(key);
    const double* d = it == e->attributes.end() ? nullptr : std::get_if<double>(&it->second);
    if (d == nullptr || *d < range.min || *d > range.max) return false;
  }
  return true;
}

class ItemCatalogCompileTest : public ::testing::Test {
 protected:
  // Items 0..n-1, every third one without a record (an implicit item), a
  // quarter unavailable, categories "c0".."c3", attributes "kind" and "price".
  void Fill(uint32_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (uint32_t i = 0; i < n; ++i) {
      if (i % 3 == 1) continue;
      Upsert(i, rng() % 4 != 0, rng);
    }
  }
  void Upsert(uint32_t iid, bool available, std::mt19937_64& rng) {
    Item item;
    item.id = "i" + std::to_string(iid);
    item.available = available;
    item.categories = {"c" + std::to_string(rng() % 4)};
    item.attributes["kind"] = std::string(rng() % 2 ? "a" : "b");
    item.attributes["price"] = static_cast<double>(rng() % 100);
    catalog_.Upsert(iid, item);
  }
  std::optional<uint32_t> Resolve(const std::string& id) const {
    if (id.size() < 2 || id[0] != 'i') return std::nullopt;
    return static_cast<uint32_t>(std::stoul(id.substr(1)));
  }
  void ExpectMatches(const ItemFilter& filter, uint32_t num_items) {
    auto bits = catalog_.Compile(filter, [&](const std::string& id) { return Resolve(id); }, num_items);
    ASSERT_TRUE(bits.ok()) << bits.status().ToString();
    const uint32_t n = std::max(num_items, catalog_.size());
    ASSERT_EQ(bits->size(), n);
    std::vector<uint32_t> excluded;
    for (const auto& id : filter.exclude_ids) {
      if (auto iid = Resolve(id)) excluded.push_back(*iid);
    }
    uint32_t admitted = 0;
    for (uint32_t i = 0; i < n; ++i) {
      ASSERT_EQ(bits->Test(i), Admits(catalog_, filter, i, excluded)) << "item " << i;
      admitted += bits->Test(i);
    }
    EXPECT_EQ(bits->Count(), admitted);
  }
  ItemCatalog catalog_;
};

TEST_F(ItemCatalogCompileTest, AvailabilityOnlyFiltersMatchTheEntries) {
  Fill(1000, 1);
  ItemFilter f;  // the default: available_only
  ExpectMatches(f, 1000);
  ExpectMatches(f, 1200);  // ids past the last entry: implicit, admitted
  f.exclude_ids = {"i0", "i5", "i999", "i1100", "nope"};
  ExpectMatches(f, 1200);
  f.available_only = false;
  ExpectMatches(f, 1200);
  f.exclude_ids.clear();
  ExpectMatches(f, 1000);
}

TEST_F(ItemCatalogCompileTest, AvailabilityFollowsUpserts) {
  Fill(500, 2);
  std::mt19937_64 rng(3);
  ItemFilter f;
  // Flip items both ways, add records to implicit items and grow the catalog.
  for (uint32_t i = 0; i < 500; i += 7) Upsert(i, i % 2 == 0, rng);
  Upsert(1, false, rng);  // was implicit (admitted), now an unavailable record
  Upsert(700, false, rng);  // past the old end: 500..699 become implicit
  ExpectMatches(f, 800);
  Upsert(700, true, rng);
  Upsert(1, true, rng);
  ExpectMatches(f, 800);
  EXPECT_TRUE(catalog_.Compile(f, [&](const std::string& id) { return Resolve(id); }, 800)->Test(1));
  Upsert(2, false, rng);
  EXPECT_FALSE(catalog_.Compile(f, [&](const std::string& id) { return Resolve(id); }, 800)->Test(2));
}

TEST_F(ItemCatalogCompileTest, PredicateFiltersMatchTheEntries) {
  Fill(1000, 4);
  ItemFilter f;
  f.categories_any = {"c1", "c3", "unknown"};
  ExpectMatches(f, 1100);  // implicit items have no category: never admitted
  f.attribute_equals["kind"] = "a";
  ExpectMatches(f, 1100);
  f.categories_any.clear();
  f.attribute_range["price"] = {10, 50};
  f.exclude_ids = {"i4", "i8"};
  ExpectMatches(f, 1000);
  f.available_only = false;
  ExpectMatches(f, 1000);
}

TEST_F(ItemCatalogCompileTest, EmptyCatalogAdmitsEveryImplicitItem) {
  ItemFilter f;
  ExpectMatches(f, 50);
  f.categories_any = {"c0"};
  ExpectMatches(f, 50);
}

}  // namespace
}  // namespace recdb
