// Key codec: how recdb lays out RocksDB keys (storage/FORMAT.md is the
// reference). Every integer in a key is fixed-width big-endian so that
// bytewise key order equals numeric order; signed values are offset by 2^63
// first. Functions that write into a caller buffer never allocate, so the
// ingest path can build keys on the stack.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace recdb::storage {

// Entity kinds: the first byte of an "ids" key.
enum class EntityKind : uint8_t { kItem = 'i', kUser = 'u' };

inline void EncodeFixed32BE(char* dst, uint32_t v) {
  dst[0] = static_cast<char>(v >> 24);
  dst[1] = static_cast<char>(v >> 16);
  dst[2] = static_cast<char>(v >> 8);
  dst[3] = static_cast<char>(v);
}
inline void EncodeFixed16BE(char* dst, uint16_t v) {
  dst[0] = static_cast<char>(v >> 8);
  dst[1] = static_cast<char>(v);
}
inline void EncodeFixed64BE(char* dst, uint64_t v) {
  EncodeFixed32BE(dst, static_cast<uint32_t>(v >> 32));
  EncodeFixed32BE(dst + 4, static_cast<uint32_t>(v));
}
inline uint32_t DecodeFixed32BE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
inline uint16_t DecodeFixed16BE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
inline uint64_t DecodeFixed64BE(const char* p) {
  return (uint64_t{DecodeFixed32BE(p)} << 32) | DecodeFixed32BE(p + 4);
}
// Signed <-> order-preserving unsigned (flip the sign bit).
inline uint64_t OrderedFromSigned(int64_t v) {
  return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
}
inline int64_t SignedFromOrdered(uint64_t v) {
  return static_cast<int64_t>(v ^ (uint64_t{1} << 63));
}

// Little-endian fixed-width values (counters, item_stats), not keys.
inline void EncodeFixed64LE(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint64_t DecodeFixed64LE(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}

// --- "ids": kind byte + external id -> internal id --------------------------
std::string IdKey(EntityKind kind, std::string_view external_id);

// "ids" value: the internal id (4 bytes BE); for users followed by one byte
// of consent bits, a copy of User.consent kept in the same batch so open
// can load consent without decoding every user record.
inline constexpr uint8_t kConsentPersonalization = 1;
inline constexpr uint8_t kConsentStoreEvents = 2;
inline constexpr uint8_t kConsentTraining = 4;
inline constexpr uint8_t kConsentAll = 7;
std::string ItemIdValue(uint32_t iid);
std::string UserIdValue(uint32_t iid, uint8_t consent_bits);
// False unless `value` is 4 bytes (items) or 5 bytes (users).
bool ParseIdValue(EntityKind kind, std::string_view value, uint32_t* iid, uint8_t* consent_bits);

// --- "items" / "users": internal id ----------------------------------------
inline constexpr size_t kEntityKeySize = 4;
std::string EntityKey(uint32_t iid);
// Decodes an entity key; false if it is not kEntityKeySize bytes.
bool ParseEntityKey(std::string_view key, uint32_t* iid);

// --- "events": user iid (4) + ordered timestamp (8) + sequence (8) ----------
inline constexpr size_t kEventKeySize = 20;
inline void EncodeEventKey(char* dst, uint32_t user, int64_t timestamp, uint64_t sequence) {
  EncodeFixed32BE(dst, user);
  EncodeFixed64BE(dst + 4, OrderedFromSigned(timestamp));
  EncodeFixed64BE(dst + 12, sequence);
}
std::string EventKey(uint32_t user, int64_t timestamp, uint64_t sequence);
// The smallest key of `user`'s events with timestamp >= `timestamp`.
std::string EventKeyLowerBound(uint32_t user, int64_t timestamp);
// All events of `user` lie in [UserEventsBegin(user), UserEventsEnd(user)).
std::string UserEventsBegin(uint32_t user);
std::string UserEventsEnd(uint32_t user);

struct EventKeyParts {
  uint32_t user = 0;
  int64_t timestamp = 0;
  uint64_t sequence = 0;
};
// False if `key` is not kEventKeySize bytes.
bool ParseEventKey(std::string_view key, EventKeyParts* out);

// --- "item_stats" ------------------------------------------------------------
// All-time count: item iid (4) + 0x00 + type id (2).
// Daily count:    item iid (4) + 0x01 + ordered day (8) + type id (2).
// One item's counters are one contiguous range, all-time first, then days in
// ascending order.
inline constexpr size_t kStatsAllTimeKeySize = 7;
inline constexpr size_t kStatsDayKeySize = 15;
inline constexpr char kStatsAllTimeTag = 0x00;
inline constexpr char kStatsDayTag = 0x01;
inline void EncodeStatsAllTimeKey(char* dst, uint32_t item, uint16_t type) {
  EncodeFixed32BE(dst, item);
  dst[4] = kStatsAllTimeTag;
  EncodeFixed16BE(dst + 5, type);
}
inline void EncodeStatsDayKey(char* dst, uint32_t item, int64_t day, uint16_t type) {
  EncodeFixed32BE(dst, item);
  dst[4] = kStatsDayTag;
  EncodeFixed64BE(dst + 5, OrderedFromSigned(day));
  EncodeFixed16BE(dst + 13, type);
}
// UTC day number of a timestamp (floor division, so negative times work too).
inline int64_t DayOf(int64_t timestamp) {
  return timestamp >= 0 ? timestamp / 86400 : -((-timestamp + 86399) / 86400);
}

struct StatsKeyParts {
  uint32_t item = 0;
  bool all_time = false;
  int64_t day = 0;  // meaningful when !all_time
  uint16_t type = 0;
};
// False if `key` is not a well-formed stats key.
bool ParseStatsKey(std::string_view key, StatsKeyParts* out);

// --- "meta" --------------------------------------------------------------------
// Fixed string keys; see FORMAT.md.
inline constexpr std::string_view kMetaFormatVersion = "format_version";
inline constexpr std::string_view kMetaNextItemId = "counter/next_item_iid";
inline constexpr std::string_view kMetaNextUserId = "counter/next_user_iid";
inline constexpr std::string_view kMetaNextEventSeq = "counter/next_event_seq";
inline constexpr std::string_view kMetaItemCount = "counter/items";
inline constexpr std::string_view kMetaUserCount = "counter/users";
inline constexpr std::string_view kMetaEventCount = "counter/events";
inline constexpr std::string_view kMetaEventTypePrefix = "event_type/";
// "applied_position/" + caller's key: WriteOptions::applied_position_key.
inline constexpr std::string_view kMetaAppliedPositionPrefix = "applied_position/";
// "event_type/" + type id (2 bytes BE).
std::string EventTypeKey(uint16_t type_id);
// False if `key` is not an event type key.
bool ParseEventTypeKey(std::string_view key, uint16_t* type_id);

// Counter values: 8 bytes little-endian.
std::string EncodeCounter(uint64_t v);
// False if `value` is not 8 bytes.
bool DecodeCounter(std::string_view value, uint64_t* v);

}  // namespace recdb::storage
