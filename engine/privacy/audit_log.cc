#include "engine/privacy/audit_log.h"

#include <nlohmann/json.hpp>

#include "storage/key_codec.h"

namespace recdb::privacy {

using storage::ColumnFamily;

namespace {

std::string AuditKey(uint64_t seq) {
  std::string key(kMetaAuditPrefix);
  char buf[8];
  storage::EncodeFixed64BE(buf, seq);
  key.append(buf, 8);
  return key;
}

template <typename Fn>
Status ScanAudit(storage::Store* store, bool last_only, Fn&& fn) {
  auto it = store->NewPrefixIterator(ColumnFamily::kMeta, kMetaAuditPrefix);
  if (last_only) it->SeekToLast();
  for (; it->Valid(); it->Next()) {
    std::string_view k = it->key().ToStringView();
    if (k.size() != kMetaAuditPrefix.size() + 8) return Status::Corruption("malformed audit key");
    RECDB_RETURN_IF_ERROR(
        fn(storage::DecodeFixed64BE(k.data() + kMetaAuditPrefix.size()), it->value().ToStringView()));
    if (last_only) break;
  }
  return storage::FromRocksDB(it->status());
}

}  // namespace

StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(storage::Store* store) {
  std::unique_ptr<AuditLog> log(new AuditLog());
  uint64_t last = 0;
  RECDB_RETURN_IF_ERROR(ScanAudit(store, /*last_only=*/true, [&](uint64_t seq, std::string_view) {
    last = seq;
    return Status::OK();
  }));
  log->next_.store(last + 1);
  return log;
}

void AuditLog::Add(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* meta,
                   AuditEntry entry) {
  entry.sequence = next_.fetch_add(1);
  nlohmann::ordered_json j = {{"t", entry.timestamp},
                              {"op", entry.operation},
                              {"subject", entry.subject},
                              {"counts", entry.counts}};
  batch->Put(meta, AuditKey(entry.sequence), j.dump());
}

StatusOr<std::vector<AuditEntry>> AuditLog::ReadAll(storage::Store* store) {
  std::vector<AuditEntry> out;
  RECDB_RETURN_IF_ERROR(ScanAudit(store, false, [&](uint64_t seq, std::string_view value) {
    nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("t") || !j["t"].is_number_integer() || !j.contains("op") ||
        !j["op"].is_string() || !j.contains("subject") || !j["subject"].is_string() ||
        !j.contains("counts") || !j["counts"].is_object()) {
      return Status::Corruption("malformed audit entry " + std::to_string(seq));
    }
    AuditEntry e;
    e.sequence = seq;
    e.timestamp = j["t"].get<int64_t>();
    e.operation = j["op"].get<std::string>();
    e.subject = j["subject"].get<std::string>();
    for (const auto& [name, v] : j["counts"].items()) {
      if (!v.is_number_integer()) return Status::Corruption("malformed audit entry counts");
      e.counts[name] = v.get<int64_t>();
    }
    out.push_back(std::move(e));
    return Status::OK();
  }));
  return out;
}

}  // namespace recdb::privacy
