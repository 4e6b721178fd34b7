#include "storage/event_scan.h"

#include <string>

#include "storage/key_codec.h"
#include "storage/record_codec.h"

namespace recdb::storage {
namespace {

Status ScanRange(const Store& store, const rocksdb::Snapshot* snapshot, const std::string* lower,
                 const std::string* upper, const StoredEventVisitor& fn, bool with_context,
                 size_t limit) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  rocksdb::Slice lower_slice, upper_slice;
  if (lower != nullptr) {
    lower_slice = rocksdb::Slice(*lower);
    ro.iterate_lower_bound = &lower_slice;
  }
  if (upper != nullptr) {
    upper_slice = rocksdb::Slice(*upper);
    ro.iterate_upper_bound = &upper_slice;
  }
  // A full scan should not evict the serving working set from the cache.
  ro.fill_cache = lower != nullptr;
  auto it = store.NewIterator(ColumnFamily::kEvents, ro);
  StoredEvent ev;
  EventPayload payload;
  EventKeyParts parts;
  std::map<std::string, std::string> context;
  size_t visited = 0;
  for (lower != nullptr ? it->Seek(lower_slice) : it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (!ParseEventKey(std::string_view(k.data(), k.size()), &parts)) {
      return Status::Corruption("malformed event key of " + std::to_string(k.size()) + " bytes");
    }
    rocksdb::Slice v = it->value();
    RECDB_RETURN_IF_ERROR(DecodeEventRecord(std::string_view(v.data(), v.size()), &payload,
                                            with_context ? &context : nullptr));
    ev.user = parts.user;
    ev.timestamp = parts.timestamp;
    ev.sequence = parts.sequence;
    ev.item = payload.item;
    ev.type = payload.type;
    ev.value = payload.value;
    ev.has_value = payload.has_value;
    ev.context = with_context ? &context : nullptr;
    RECDB_RETURN_IF_ERROR(fn(ev));
    if (limit != 0 && ++visited == limit) return Status::OK();
  }
  return FromRocksDB(it->status());
}

}  // namespace

Status ScanAllEvents(const Store& store, const rocksdb::Snapshot* snapshot,
                     const StoredEventVisitor& fn, bool with_context) {
  return ScanRange(store, snapshot, nullptr, nullptr, fn, with_context, 0);
}

Status ScanUserEvents(const Store& store, const rocksdb::Snapshot* snapshot, uint32_t user,
                      int64_t start, int64_t end, const StoredEventVisitor& fn, bool with_context,
                      size_t limit) {
  if (start >= end) return Status::OK();
  std::string lower = EventKeyLowerBound(user, start);
  std::string upper = EventKeyLowerBound(user, end);
  return ScanRange(store, snapshot, &lower, &upper, fn, with_context, limit);
}

}  // namespace recdb::storage
