#include "engine/rerank/impression_log.h"

#include <flatbuffers/flatbuffers.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cmath>

#include "engine/db_impl/db_impl.h"
#include "storage/aligned_bytes.h"
#include "storage/key_codec.h"
#include "storage/schema/impressions_generated.h"
#include "storage/store.h"

namespace recdb::rerank {

namespace {

using storage::ColumnFamily;

// Decodes a verified record; false if it fails verification.
bool DecodeShown(std::string_view key, std::string_view value, bool with_context, uint32_t* user,
                 Shown* out, uint64_t* seq) {
  storage::EventKeyParts parts;
  if (!storage::ParseEventKey(key, &parts)) return false;
  const storage::AlignedBytes aligned(value);  // RocksDB values may be misaligned
  const fb::ImpressionRecord* r = storage::VerifiedRoot<fb::ImpressionRecord>(aligned);
  if (r == nullptr) return false;
  *user = parts.user;
  *seq = parts.sequence;
  out->timestamp = parts.timestamp;
  out->items.assign(r->items()->begin(), r->items()->end());
  out->propensities.clear();
  if (r->propensities() != nullptr && r->propensities()->size() == out->items.size()) {
    out->propensities.assign(r->propensities()->begin(), r->propensities()->end());
  }
  out->context.clear();
  if (with_context && r->context_keys() != nullptr && r->context_values() != nullptr &&
      r->context_keys()->size() == r->context_values()->size()) {
    for (flatbuffers::uoffset_t i = 0; i < r->context_keys()->size(); ++i) {
      out->context[r->context_keys()->Get(i)->str()] = r->context_values()->Get(i)->str();
    }
  }
  return true;
}

// Visits the impressions in [lower, upper) in key order.
template <typename Fn>
Status Scan(const storage::Store& store, const std::string& lower, const std::string& upper,
            bool with_context, Fn&& fn) {
  rocksdb::ReadOptions ro;
  rocksdb::Slice lo(lower), up(upper);
  if (!lower.empty()) ro.iterate_lower_bound = &lo;
  if (!upper.empty()) ro.iterate_upper_bound = &up;
  auto it = store.NewIterator(ColumnFamily::kImpressions, ro);
  for (it->Seek(lo); it->Valid(); it->Next()) {
    uint32_t user = 0;
    uint64_t seq = 0;
    Shown shown;
    if (!DecodeShown(it->key().ToStringView(), it->value().ToStringView(), with_context, &user,
                     &shown, &seq)) {
      return Status::Corruption("impressions: a stored record fails verification");
    }
    fn(user, seq, std::move(shown));
  }
  return storage::FromRocksDB(it->status());
}

}  // namespace

Status ImpressionLog::EnsureLoaded() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (loaded_) return Status::OK();
  }
  return Refresh();
}

Status ImpressionLog::Refresh() {
  const storage::Store& store = *db_->store();
  if (store.Handle(ColumnFamily::kImpressions) == nullptr) {  // read-only open of an old DB
    std::lock_guard<std::mutex> lock(mu_);
    loaded_ = true;
    return Status::OK();
  }
  std::vector<double> weight_by_type;
  for (const auto& t : db_->EventTypesById()) {
    if (t.id >= weight_by_type.size()) weight_by_type.resize(t.id + 1, 0.0);
    weight_by_type[t.id] = t.weight;
  }
  std::vector<int64_t> shown, engaged;
  uint64_t max_seq = 0;
  // Impressions come user by user; each user's are joined with their events.
  uint32_t current = 0;
  bool have_user = false;
  std::vector<Shown> pending;
  auto flush = [&]() -> Status {
    if (!have_user || pending.empty()) return Status::OK();
    std::unordered_map<uint32_t, int64_t> last;  // item -> latest positive event
    RECDB_RETURN_IF_ERROR(db_->ScanUserEvents(
        current, kMinTimestamp, kMaxTimestamp + 1, [&](const storage::StoredEvent& e) -> Status {
          const double w = e.type < weight_by_type.size() ? weight_by_type[e.type] : 0;
          if (w > 0) last[e.item] = std::max(last[e.item], e.timestamp);
          return Status::OK();
        }));
    for (const Shown& s : pending) {
      for (uint32_t i : s.items) {
        if (i >= shown.size()) shown.resize(i + 1, 0), engaged.resize(i + 1, 0);
        ++shown[i];
        auto it = last.find(i);
        if (it != last.end() && it->second >= s.timestamp) ++engaged[i];
      }
    }
    pending.clear();
    return Status::OK();
  };
  Status inner = Status::OK();
  RECDB_RETURN_IF_ERROR(
      Scan(store, "", "", /*with_context=*/false, [&](uint32_t user, uint64_t seq, Shown s) {
        max_seq = std::max(max_seq, seq);
        if (!inner.ok()) return;
        if (!have_user || user != current) {
          inner = flush();
          current = user;
          have_user = true;
        }
        pending.push_back(std::move(s));
      }));
  RECDB_RETURN_IF_ERROR(inner);
  RECDB_RETURN_IF_ERROR(flush());
  std::lock_guard<std::mutex> lock(mu_);
  // Keep counts recorded while scanning: never go below what is in memory.
  for (size_t i = 0; i < shown_.size() && i < shown.size(); ++i) shown[i] = std::max(shown[i], shown_[i]);
  if (shown_.size() > shown.size()) {
    shown.resize(shown_.size(), 0), engaged.resize(shown_.size(), 0);
    for (size_t i = 0; i < shown_.size(); ++i) shown[i] = std::max(shown[i], shown_[i]);
  }
  shown_ = std::move(shown);
  engaged_ = std::move(engaged);
  uint64_t expected = next_seq_.load();
  while (expected <= max_seq && !next_seq_.compare_exchange_weak(expected, max_seq + 1)) {
  }
  loaded_ = true;
  return Status::OK();
}

Status ImpressionLog::Record(uint32_t user, int64_t timestamp, const std::vector<uint32_t>& items,
                             const std::map<std::string, std::string>& context,
                             const std::vector<double>& propensities, const WriteOptions& wo) {
  RECDB_RETURN_IF_ERROR(EnsureLoaded());
  flatbuffers::FlatBufferBuilder fbb(64 + 12 * items.size());
  std::vector<flatbuffers::Offset<flatbuffers::String>> keys, values;
  for (const auto& [k, v] : context) {
    keys.push_back(fbb.CreateString(k));
    values.push_back(fbb.CreateString(v));
  }
  auto root = fb::CreateImpressionRecord(fbb, fbb.CreateVector(items),
                                         context.empty() ? 0 : fbb.CreateVector(keys),
                                         context.empty() ? 0 : fbb.CreateVector(values),
                                         propensities.empty() ? 0 : fbb.CreateVector(propensities));
  fbb.Finish(root);
  storage::Store* store = db_->store();
  rocksdb::WriteBatch batch;
  const std::string key = storage::EventKey(user, timestamp, next_seq_.fetch_add(1));
  batch.Put(store->Handle(ColumnFamily::kImpressions), key,
            rocksdb::Slice(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
  DBImpl::PutAppliedPosition(&batch, store->Handle(ColumnFamily::kMeta), wo);
  RECDB_RETURN_IF_ERROR(store->Write(&batch, wo.sync));
  std::lock_guard<std::mutex> lock(mu_);
  for (uint32_t i : items) {
    if (i >= shown_.size()) shown_.resize(i + 1, 0), engaged_.resize(i + 1, 0);
    ++shown_[i];
  }
  return Status::OK();
}

StatusOr<std::vector<Shown>> ImpressionLog::UserImpressions(uint32_t user, int64_t start,
                                                            int64_t end, bool with_context) const {
  std::vector<Shown> out;
  const storage::Store& store = *db_->store();
  if (store.Handle(ColumnFamily::kImpressions) == nullptr || start >= end) return out;
  RECDB_RETURN_IF_ERROR(Scan(store, storage::EventKeyLowerBound(user, start),
                             storage::EventKeyLowerBound(user, end), with_context,
                             [&](uint32_t, uint64_t, Shown s) { out.push_back(std::move(s)); }));
  return out;
}

Status ImpressionLog::ForEach(const std::function<Status(uint32_t user, Shown shown)>& fn) const {
  const storage::Store& store = *db_->store();
  if (store.Handle(ColumnFamily::kImpressions) == nullptr) return Status::OK();
  Status inner = Status::OK();
  RECDB_RETURN_IF_ERROR(
      Scan(store, "", "", /*with_context=*/false, [&](uint32_t user, uint64_t, Shown s) {
        if (inner.ok()) inner = fn(user, std::move(s));
      }));
  return inner;
}

ItemExposure ImpressionLog::Exposure(uint32_t item) const {
  std::lock_guard<std::mutex> lock(mu_);
  ItemExposure e;
  if (item < shown_.size()) e.impressions = shown_[item], e.engagements = engaged_[item];
  return e;
}

std::vector<uint32_t> RotatedOut(const std::vector<Shown>& shown,
                                 const std::unordered_map<uint32_t, int64_t>& last_event,
                                 int64_t now, const CareOptions& care) {
  std::vector<uint32_t> out;
  if (care.rotate_after_impressions <= 0) return out;
  struct Count {
    int n = 0;
    int64_t first = 0;
  };
  std::unordered_map<uint32_t, Count> counts;
  for (const Shown& s : shown) {
    if (s.timestamp <= now - care.rotate_period_seconds || s.timestamp > now) continue;
    for (uint32_t i : s.items) {
      Count& c = counts[i];
      if (c.n++ == 0) c.first = s.timestamp;
    }
  }
  for (const auto& [item, c] : counts) {
    if (c.n < care.rotate_after_impressions) continue;
    auto it = last_event.find(item);
    if (it != last_event.end() && it->second >= c.first) continue;  // engaged since
    out.push_back(item);
  }
  std::sort(out.begin(), out.end());
  return out;
}

double LongTailExposureShare(const std::vector<Shown>& shown, const std::vector<bool>& long_tail) {
  double total = 0, tail = 0;
  for (const Shown& s : shown) {
    for (size_t p = 0; p < s.items.size(); ++p) {
      const double w = 1.0 / std::log2(static_cast<double>(p) + 2.0);
      total += w;
      if (s.items[p] < long_tail.size() && long_tail[s.items[p]]) tail += w;
    }
  }
  return total > 0 ? tail / total : -1.0;
}

}  // namespace recdb::rerank
