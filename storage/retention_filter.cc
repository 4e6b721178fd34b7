#include "storage/retention_filter.h"

#include <string_view>

#include "storage/key_codec.h"
#include "storage/record_codec.h"

namespace recdb::storage {
namespace {

// Drops events past their type's TTL as of `now` (fixed for the compaction).
// A key or value it cannot parse is kept: corruption is reported by reads,
// never hidden by deleting.
class EventExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  EventExpiryFilter(std::shared_ptr<const EventExpiryRules> rules, int64_t now)
      : rules_(std::move(rules)), now_(now) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    EventKeyParts parts;
    if (!ParseEventKey(std::string_view(key.data(), key.size()), &parts)) return false;
    EventPayload payload;
    if (!DecodeEventRecord(std::string_view(value.data(), value.size()), &payload, nullptr).ok()) {
      return false;
    }
    return rules_->Expired(payload.type, parts.timestamp, now_);
  }
  const char* Name() const override { return "recdb.EventExpiryFilter"; }

 private:
  const std::shared_ptr<const EventExpiryRules> rules_;
  const int64_t now_;
};

}  // namespace

void EventRetention::SetRules(std::shared_ptr<const EventExpiryRules> rules) {
  std::lock_guard lock(mu_);
  rules_ = std::move(rules);
}

std::shared_ptr<const EventExpiryRules> EventRetention::rules() const {
  std::lock_guard lock(mu_);
  return rules_;
}

void EventRetention::SetClock(const Clock* clock) {
  std::lock_guard lock(mu_);
  clock_ = clock;
}

int64_t EventRetention::NowSeconds() const {
  std::lock_guard lock(mu_);
  return clock_->NowSeconds();
}

std::unique_ptr<rocksdb::CompactionFilter> EventRetention::CreateCompactionFilter(
    const rocksdb::CompactionFilter::Context& context) {
  // Only the sweep's compactions (manual ones) drop expired events: the sweep
  // has subtracted their counts first, so an automatic compaction dropping
  // them earlier would leave the per-item counts too high.
  if (!context.is_manual_compaction) return nullptr;
  std::lock_guard lock(mu_);
  if (rules_ == nullptr || !rules_->any()) return nullptr;  // nothing expires
  return std::make_unique<EventExpiryFilter>(rules_, clock_->NowSeconds());
}

}  // namespace recdb::storage
