// Event retention in storage: the expiry rules in internal ids and the
// RocksDB compaction filter that drops expired events from the "events"
// family in manual compactions -- the retention sweep's (DB::SweepRetention;
// engine/privacy/README.md states the bounds). Automatic compactions keep
// them (reads hide them at once): the sweep subtracts an expired event's
// counts before it drops it, so counts stay exact.
//
// Thread-safety: EventRetention may be read by compactions (any RocksDB
// background thread) while the engine replaces its rules or clock: both are
// swapped under a mutex, and each compaction takes one copy at its start.
#pragma once

#include <rocksdb/compaction_filter.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/clock.h"

namespace recdb::storage {

struct EventExpiryRules {
  // Seconds to live by event type id; 0 (or a type past the end) = forever.
  std::vector<int64_t> ttl_by_type;

  bool any() const {
    for (int64_t t : ttl_by_type) {
      if (t > 0) return true;
    }
    return false;
  }
  // An event of `type` at `timestamp` has expired at `now`.
  bool Expired(uint16_t type, int64_t timestamp, int64_t now) const {
    if (type >= ttl_by_type.size() || ttl_by_type[type] <= 0) return false;
    return timestamp < now - ttl_by_type[type];
  }
};

// The rules and the clock the events family's compaction filter uses; a
// CompactionFilterFactory so each compaction snapshots them once.
class EventRetention final : public rocksdb::CompactionFilterFactory {
 public:
  EventRetention() = default;

  void SetRules(std::shared_ptr<const EventExpiryRules> rules);
  std::shared_ptr<const EventExpiryRules> rules() const;
  // REQUIRES: `clock` outlives this object (or is replaced first).
  void SetClock(const Clock* clock);
  int64_t NowSeconds() const;

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& context) override;
  const char* Name() const override { return "recdb.EventRetention"; }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const EventExpiryRules> rules_;  // GUARDED_BY(mu_)
  const Clock* clock_ = SystemClock::Default();     // GUARDED_BY(mu_)
};

}  // namespace recdb::storage
