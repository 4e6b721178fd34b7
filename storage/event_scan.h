// Event scans straight off the "events" column family, decoding only the
// fixed fields: the path model training and the aggregate rebuilds use. No
// strings are built; each value is verified (record_codec.h) before use.
//
// Thread-safety: safe to run concurrently with writers and other scans; pass
// a snapshot for a consistent view.
#pragma once

#include <rocksdb/snapshot.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "recdb/status.h"
#include "storage/store.h"

namespace recdb::storage {

// One stored event in internal ids.
struct StoredEvent {
  uint32_t user = 0;  // user internal id
  uint32_t item = 0;  // item internal id
  uint16_t type = 0;  // event type id
  bool has_value = false;
  double value = 0.0;
  int64_t timestamp = 0;
  uint64_t sequence = 0;  // recdb's event sequence (recording order)
  // The event's context; null unless the scan was asked for it. Valid only
  // during the visitor call.
  const std::map<std::string, std::string>* context = nullptr;
};

using StoredEventVisitor = std::function<Status(const StoredEvent&)>;

// Visits every stored event in key order (user iid, then timestamp, then
// sequence) as of `snapshot` (null: the latest state). A non-OK status from
// `fn` stops the scan and is returned. Errors: Corruption for a malformed
// key or a value that fails verification; IOError.
// with_context: also decode each event's context map (allocates).
Status ScanAllEvents(const Store& store, const rocksdb::Snapshot* snapshot,
                     const StoredEventVisitor& fn, bool with_context = false);

// The same over one user's events with timestamp in [start, end), stopping
// after `limit` events (0: no limit).
Status ScanUserEvents(const Store& store, const rocksdb::Snapshot* snapshot, uint32_t user,
                      int64_t start, int64_t end, const StoredEventVisitor& fn,
                      bool with_context = false, size_t limit = 0);

}  // namespace recdb::storage
