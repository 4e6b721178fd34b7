// RecordDigest: a fingerprint of what a database holds for the users of a set
// of partitions, and of its items, equal on two replicas exactly when they
// hold the same user records, histories and impressions (byte for byte: ids,
// attributes, consent, every event's item, type, value bits, timestamp and
// context, in history order; every shown list's timestamp, items, context
// and propensities, in order) and the same upserted items (every field).
// Users and items are visited in id order, so it does not depend on the
// order the node happened to create them in (internal ids differ between
// replicas that interleave partitions differently). Items with the default
// record (what an event auto-creates, only on the nodes owning the event's
// user) are left out; items upserted through the log are on every node.
//
// Thread-safety: as the DB's reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recdb/db.h"

namespace recdb::cluster {

struct RecordDigest {
  uint64_t hash = 0;  // FNV-1a 64 over the canonical bytes
  int64_t users = 0;
  int64_t events = 0;
  int64_t impressions = 0;
  int64_t items = 0;   // items with a non-default record
  uint64_t bytes = 0;  // canonical bytes hashed

  // "fnv1a64=<16 hex> users=N events=M impressions=I items=J bytes=B".
  std::string ToString() const;
  friend bool operator==(const RecordDigest&, const RecordDigest&) = default;
};

// The digest of the users of `db` whose PartitionOf(id, partitions) is in
// `owned` (sorted or not; empty = every user).
// Errors: those of the DB's scans and reads.
StatusOr<RecordDigest> ComputeRecordDigest(DB& db, uint32_t partitions,
                                           const std::vector<uint32_t>& owned);

}  // namespace recdb::cluster
