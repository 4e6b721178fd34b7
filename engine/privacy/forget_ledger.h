// ForgetLedger: the keyed hashes of every user the database has forgotten.
//
// Stored in the "meta" family (storage/FORMAT.md):
//   "privacy/ledger_key"          -> 32 random bytes, created at the first
//                                    writable open (RAND_bytes)
//   "forgotten/" + HMAC (32 bytes) -> when it was forgotten (int64 LE seconds)
// Only keyed hashes are kept, never an id. The write path consults the
// ledger for every user id it has not seen (only when the ledger is
// non-empty): events and upserts of a forgotten id are dropped, which
// re-applies the erasure to a re-import; DB::UnforgetUser lifts it.
//
// Limit: the key lives in the same directory, so whoever holds the files can
// test a guessed id against the ledger. It cannot list the ids.
//
// Thread-safety: Contains/Hash may run concurrently with each other and with
// Insert/Erase (an internal shared mutex guards the set).
#pragma once

#include <rocksdb/write_batch.h>

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "recdb/status.h"
#include "storage/store.h"

namespace recdb::privacy {

inline constexpr std::string_view kMetaLedgerKey = "privacy/ledger_key";
inline constexpr std::string_view kMetaForgottenPrefix = "forgotten/";

class ForgetLedger {
 public:
  // Loads the key (creating it unless read-only) and every ledger entry.
  // Errors: Corruption for a malformed key or entry; IOError.
  static StatusOr<std::unique_ptr<ForgetLedger>> Open(storage::Store* store);

  // The keyed hash (32 raw bytes) of `external_id`; "" when the database has
  // no key (read-only open of a database never opened writable since).
  std::string Hash(std::string_view external_id) const;

  // Whether `external_id` was forgotten. O(1) and no hashing while empty.
  bool ContainsId(std::string_view external_id) const;
  bool ContainsHash(const std::string& hash) const;
  size_t size() const;

  // Adds to / removes from `batch` the entry of `hash`.
  static void PutEntry(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                       const std::string& hash, int64_t now_seconds);
  static void DeleteEntry(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                          const std::string& hash);
  // Publishes a committed Put/DeleteEntry to the in-memory set.
  void Insert(const std::string& hash);
  void Erase(const std::string& hash);

 private:
  ForgetLedger() = default;
  std::string key_;  // immutable after Open
  mutable std::shared_mutex mu_;
  std::unordered_set<std::string> hashes_;  // GUARDED_BY(mu_)
};

}  // namespace recdb::privacy
