#include "engine/privacy/forget_ledger.h"

#include <mutex>

#include "engine/privacy/keyed_hash.h"
#include "storage/key_codec.h"

namespace recdb::privacy {

using storage::ColumnFamily;

StatusOr<std::unique_ptr<ForgetLedger>> ForgetLedger::Open(storage::Store* store) {
  std::unique_ptr<ForgetLedger> ledger(new ForgetLedger());
  std::string value;
  Status s = store->Get(ColumnFamily::kMeta, kMetaLedgerKey, &value);
  if (s.IsNotFound()) {
    if (!store->read_only()) {
      RECDB_ASSIGN_OR_RETURN(value, RandomBytes(kKeySize));
      rocksdb::WriteBatch batch;
      batch.Put(store->Handle(ColumnFamily::kMeta), std::string(kMetaLedgerKey), value);
      RECDB_RETURN_IF_ERROR(store->Write(&batch, /*sync=*/true));
      ledger->key_ = value;
    }
  } else {
    RECDB_RETURN_IF_ERROR(s);
    if (value.size() != kKeySize) return Status::Corruption("meta privacy/ledger_key is malformed");
    ledger->key_ = value;
  }

  auto it = store->NewPrefixIterator(ColumnFamily::kMeta, kMetaForgottenPrefix);
  for (; it->Valid(); it->Next()) {
    std::string_view k = it->key().ToStringView();
    if (k.size() != kMetaForgottenPrefix.size() + kHmacSize || it->value().size() != 8) {
      return Status::Corruption("malformed forget ledger entry in meta");
    }
    ledger->hashes_.emplace(k.substr(kMetaForgottenPrefix.size()));
  }
  RECDB_RETURN_IF_ERROR(storage::FromRocksDB(it->status()));
  return ledger;
}

std::string ForgetLedger::Hash(std::string_view external_id) const {
  if (key_.empty()) return std::string();
  return HmacSha256(key_, external_id);
}

bool ForgetLedger::ContainsId(std::string_view external_id) const {
  {
    std::shared_lock lock(mu_);
    if (hashes_.empty()) return false;
  }
  return ContainsHash(Hash(external_id));
}

bool ForgetLedger::ContainsHash(const std::string& hash) const {
  std::shared_lock lock(mu_);
  return hashes_.count(hash) != 0;
}

size_t ForgetLedger::size() const {
  std::shared_lock lock(mu_);
  return hashes_.size();
}

void ForgetLedger::PutEntry(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                            const std::string& hash, int64_t now_seconds) {
  batch->Put(meta, std::string(kMetaForgottenPrefix) + hash,
             storage::EncodeCounter(static_cast<uint64_t>(now_seconds)));
}

void ForgetLedger::DeleteEntry(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                               const std::string& hash) {
  batch->Delete(meta, std::string(kMetaForgottenPrefix) + hash);
}

void ForgetLedger::Insert(const std::string& hash) {
  std::unique_lock lock(mu_);
  hashes_.insert(hash);
}

void ForgetLedger::Erase(const std::string& hash) {
  std::unique_lock lock(mu_);
  hashes_.erase(hash);
}

}  // namespace recdb::privacy
