// AuditLog: the log of privacy operations (forget, unforget, export, consent
// changes, retention sweeps, key rotations), in the "meta" family:
//   "audit/" + sequence (8 BE) -> JSON {"t": seconds, "op": name,
//                                       "subject": hex keyed hash or "",
//                                       "counts": {name: int, ...}}
// An entry holds no personal data: no id, no attribute, no event; the
// subject is HMAC-SHA256 under the forget-ledger key of the id as stored.
// Entries of a write operation go in that operation's WriteBatch (they
// commit with it or not at all). Sequences increase in commit order of
// allocation; a failed write leaves a gap.
//
// Thread-safety: Add may run concurrently (atomic sequence).
#pragma once

#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "recdb/privacy.h"
#include "recdb/status.h"
#include "storage/store.h"

namespace recdb::privacy {

inline constexpr std::string_view kMetaAuditPrefix = "audit/";

class AuditLog {
 public:
  // Finds the next sequence. Errors: Corruption for a malformed key; IOError.
  static StatusOr<std::unique_ptr<AuditLog>> Open(storage::Store* store);

  // Adds `entry` (its sequence is assigned here) to `batch`.
  void Add(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta, AuditEntry entry);
  // Every entry, oldest first. Errors: Corruption; IOError.
  static StatusOr<std::vector<AuditEntry>> ReadAll(storage::Store* store);

 private:
  AuditLog() = default;
  std::atomic<uint64_t> next_{1};
};

}  // namespace recdb::privacy
