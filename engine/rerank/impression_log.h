// ImpressionLog: what recdb showed to whom, in the "impressions" column
// family (storage/FORMAT.md), and the exposure counts derived from it.
//
// Keys are user iid first (user iid + ordered timestamp + sequence, the
// layout of "events"), so one user's impressions are one contiguous range:
// forgetting a user deletes one range (DBImpl::ForgetUserLocked). Values are
// fb.ImpressionRecord, verified on every read.
//
// Derived in memory: per item, how often it was shown (all users) and how
// many of those impressions were followed by an event of the same user on
// the item ("engagements"). They are rebuilt from RocksDB on first use and
// by Refresh (RecommendService calls it after each Train); Record adds to
// the impression count at once.
//
// Thread-safety: every method is safe to call concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/rerank/rerank.h"
#include "recdb/options.h"
#include "recdb/status.h"

namespace rocksdb {
class WriteBatch;
}

namespace recdb {

class DBImpl;

namespace storage {
class Store;
}

namespace rerank {

// One shown list.
struct Shown {
  int64_t timestamp = 0;
  std::vector<uint32_t> items;  // slot 0 first
  // Per slot, as ImpressionContext::propensities; empty = unknown (none
  // given, or a record written before propensities were stored).
  std::vector<double> propensities;
  // The request context it was shown in (ImpressionContext::context); only
  // read when asked for (UserImpressions' with_context: the export), not on
  // the Recommend path.
  std::map<std::string, std::string> context;
};

class ImpressionLog {
 public:
  explicit ImpressionLog(DBImpl* db) : db_(db) {}

  // Stores one list shown to `user` at `timestamp`, with its per-slot
  // propensities (empty = unknown), and wo's applied position in the same
  // write (WriteOptions::applied_position_key). REQUIRES: ids valid;
  // propensities empty or parallel to items; wo's position validated.
  // Errors: IOError; Corruption if the log fails verification while loading.
  Status Record(uint32_t user, int64_t timestamp, const std::vector<uint32_t>& items,
                const std::map<std::string, std::string>& context,
                const std::vector<double>& propensities, const WriteOptions& wo);

  // The user's lists shown with timestamp in [start, end), oldest first,
  // each with its context when `with_context`. Errors: Corruption for a
  // record that fails verification; IOError.
  StatusOr<std::vector<Shown>> UserImpressions(uint32_t user, int64_t start, int64_t end,
                                               bool with_context = false) const;

  // Every stored list (without context), user by user (ascending iid), each
  // user's oldest first, from one consistent view; `fn` returning non-OK stops the scan
  // with its Status. Errors: Corruption for a record that fails
  // verification; IOError.
  Status ForEach(const std::function<Status(uint32_t user, Shown shown)>& fn) const;

  // Global exposure of `item` (zeros before anything was recorded).
  ItemExposure Exposure(uint32_t item) const;

  // Recomputes impressions and engagements of every item from RocksDB.
  Status Refresh();

 private:
  Status EnsureLoaded();

  DBImpl* const db_;
  mutable std::mutex mu_;
  bool loaded_ = false;                    // GUARDED_BY(mu_)
  std::vector<int64_t> shown_, engaged_;   // GUARDED_BY(mu_); by item iid
  std::atomic<uint64_t> next_seq_{1};
};

// Items to leave out of `user`'s list now: shown at least
// care.rotate_after_impressions times within (now - period, now], with no
// event of the user on the item at or after the first of those
// impressions. `last_event` maps item -> the user's latest event time on it.
std::vector<uint32_t> RotatedOut(const std::vector<Shown>& shown,
                                 const std::unordered_map<uint32_t, int64_t>& last_event,
                                 int64_t now, const CareOptions& care);

// Position-weighted (1 / log2(slot + 2)) share of `shown` exposure that went
// to long-tail items; -1 if nothing was shown.
double LongTailExposureShare(const std::vector<Shown>& shown, const std::vector<bool>& long_tail);

}  // namespace rerank
}  // namespace recdb
