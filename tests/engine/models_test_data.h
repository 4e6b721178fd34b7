// Small synthetic datasets shared by the models_* tests.
#pragma once

#include <random>

#include "engine/models/dataset.h"
#include "engine/models/recommender.h"

namespace recdb::models::testdata {

// `users` users over `items` items in two clusters (even / odd ids). Each user
// belongs to one cluster and walks it in order starting at a random item, one
// event per time step, so both co-occurrence and sequence signals exist.
inline Dataset Clustered(uint32_t users = 60, uint32_t items = 40, uint32_t events = 12,
                         uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  DatasetSpec spec;
  spec.num_users = users;
  spec.num_items = items;
  spec.num_categories = 2;
  for (uint32_t i = 0; i < items; ++i) spec.item_categories.push_back({i % 2});
  for (uint32_t u = 0; u < users; ++u) {
    const uint32_t cluster = u % 2;
    uint32_t pos = static_cast<uint32_t>(rng() % (items / 2));
    for (uint32_t e = 0; e < events; ++e) {
      const uint32_t item = 2 * ((pos + e) % (items / 2)) + cluster;
      spec.interactions.push_back({u, item, static_cast<int64_t>(1000 * u + 10 * e), 1.0f});
    }
  }
  auto d = Dataset::Build(std::move(spec));
  return std::move(d).value();
}

// A query for `user` (or an unknown user) with `items` as history.
inline UserQuery Query(std::span<const uint32_t> items, uint32_t user = kUnknownUser) {
  UserQuery q;
  q.user = user;
  q.items = items;
  return q;
}

}  // namespace recdb::models::testdata
