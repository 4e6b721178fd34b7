#include "storage/key_codec.h"

namespace recdb::storage {

std::string IdKey(EntityKind kind, std::string_view external_id) {
  std::string key;
  key.reserve(1 + external_id.size());
  key.push_back(static_cast<char>(kind));
  key.append(external_id);
  return key;
}

std::string ItemIdValue(uint32_t iid) { return EntityKey(iid); }

std::string UserIdValue(uint32_t iid, uint8_t consent_bits) {
  std::string v = EntityKey(iid);
  v.push_back(static_cast<char>(consent_bits));
  return v;
}

bool ParseIdValue(EntityKind kind, std::string_view value, uint32_t* iid, uint8_t* consent_bits) {
  const size_t want = kind == EntityKind::kUser ? 5 : 4;
  if (value.size() != want) return false;
  *iid = DecodeFixed32BE(value.data());
  *consent_bits = kind == EntityKind::kUser ? static_cast<uint8_t>(value[4]) : kConsentAll;
  return (*consent_bits & ~kConsentAll) == 0;
}

std::string EntityKey(uint32_t iid) {
  std::string key(kEntityKeySize, '\0');
  EncodeFixed32BE(key.data(), iid);
  return key;
}

bool ParseEntityKey(std::string_view key, uint32_t* iid) {
  if (key.size() != kEntityKeySize) return false;
  *iid = DecodeFixed32BE(key.data());
  return true;
}

std::string EventKey(uint32_t user, int64_t timestamp, uint64_t sequence) {
  std::string key(kEventKeySize, '\0');
  EncodeEventKey(key.data(), user, timestamp, sequence);
  return key;
}

std::string EventKeyLowerBound(uint32_t user, int64_t timestamp) {
  return EventKey(user, timestamp, 0);
}

std::string UserEventsBegin(uint32_t user) { return EntityKey(user); }

std::string UserEventsEnd(uint32_t user) {
  // The 4-byte prefix of the next user; for the last possible user id, a
  // 5-byte key that sorts after every 20-byte key with prefix 0xFFFFFFFF...
  // is impossible, so use the 4-byte prefix followed by 0xFF * 17.
  if (user == UINT32_MAX) return std::string(4, '\xff') + std::string(17, '\xff');
  return EntityKey(user + 1);
}

bool ParseEventKey(std::string_view key, EventKeyParts* out) {
  if (key.size() != kEventKeySize) return false;
  out->user = DecodeFixed32BE(key.data());
  out->timestamp = SignedFromOrdered(DecodeFixed64BE(key.data() + 4));
  out->sequence = DecodeFixed64BE(key.data() + 12);
  return true;
}

bool ParseStatsKey(std::string_view key, StatsKeyParts* out) {
  if (key.size() == kStatsAllTimeKeySize && key[4] == kStatsAllTimeTag) {
    out->item = DecodeFixed32BE(key.data());
    out->all_time = true;
    out->day = 0;
    out->type = DecodeFixed16BE(key.data() + 5);
    return true;
  }
  if (key.size() == kStatsDayKeySize && key[4] == kStatsDayTag) {
    out->item = DecodeFixed32BE(key.data());
    out->all_time = false;
    out->day = SignedFromOrdered(DecodeFixed64BE(key.data() + 5));
    out->type = DecodeFixed16BE(key.data() + 13);
    return true;
  }
  return false;
}

std::string EventTypeKey(uint16_t type_id) {
  std::string key(kMetaEventTypePrefix);
  key.resize(key.size() + 2);
  EncodeFixed16BE(key.data() + kMetaEventTypePrefix.size(), type_id);
  return key;
}

bool ParseEventTypeKey(std::string_view key, uint16_t* type_id) {
  if (key.size() != kMetaEventTypePrefix.size() + 2 || !key.starts_with(kMetaEventTypePrefix)) {
    return false;
  }
  *type_id = DecodeFixed16BE(key.data() + kMetaEventTypePrefix.size());
  return true;
}

std::string EncodeCounter(uint64_t v) {
  std::string s(8, '\0');
  EncodeFixed64LE(s.data(), v);
  return s;
}

bool DecodeCounter(std::string_view value, uint64_t* v) {
  if (value.size() != 8) return false;
  *v = DecodeFixed64LE(value.data());
  return true;
}

}  // namespace recdb::storage
