// The database the service tests start from: a fresh DB without background
// threads (only the calls under test use the CPU) holding a small seeded
// synthetic world, optionally trained with the fast settings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "recdb/db.h"
#include "tools/import/synthetic_world.h"

namespace recdb::test {

struct SyntheticDbOptions {
  int64_t users = 40;
  int64_t items = 60;
  int64_t events = 1200;
  bool train = true;
  // Train with learned fusion weights (as `recdb train`) or the fixed ones
  // (faster).
  bool learn_weights = false;
};

inline StatusOr<std::unique_ptr<DB>> OpenSyntheticDb(const std::string& dir,
                                                     const SyntheticDbOptions& so = {}) {
  Options o;
  o.create_if_missing = true;
  o.background_threads = 0;
  RECDB_ASSIGN_OR_RETURN(std::unique_ptr<DB> db, DB::Open(o, dir));
  tools::SyntheticWorldOptions wo;
  wo.users = so.users;
  wo.items = so.items;
  wo.events = so.events;
  RECDB_RETURN_IF_ERROR(tools::LoadSyntheticWorld(db.get(), tools::SyntheticWorld(wo)));
  if (so.train) {
    TrainOptions t;
    t.learn_weights = so.learn_weights;
    t.ials_iterations = 3;
    RECDB_RETURN_IF_ERROR(db->Train(t).status());
  }
  return db;
}

}  // namespace recdb::test
