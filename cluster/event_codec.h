// The bytes of one event message on the cluster's JetStream stream, and the
// user -> partition function. Both are part of the wire format: every node
// and every producer must agree on them, so they never change within a
// stream (a new format gets a new version byte).
//
// Message body (little-endian): version byte 1, then the Event's user, item,
// type as (u32 length, bytes), has_value (u8), value (f64 bits), timestamp
// (i64), context count (u32) and each context key, value as (u32 length,
// bytes), in the map's (sorted) order. The event id travels as the JetStream
// message id (header Nats-Msg-Id), never in the body.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/records.h"
#include "recdb/recommend.h"
#include "recdb/status.h"

namespace recdb::cluster {

inline constexpr uint8_t kEventFormatVersion = 1;
// A forget marker's first byte, then the user id as (u32 length, bytes).
inline constexpr uint8_t kForgetMarkerKind = 2;

// Appends the encoding of `event` to *out.
void EncodeEvent(const Event& event, std::string* out);

// Decodes a message body. Errors: Corruption for a truncated body, trailing
// bytes or an unknown version.
Status DecodeEvent(std::string_view body, Event* event);

// The other kinds of message, each a first byte then its fields:
//   item upsert   3, Item: id, title, description, categories (u32 count,
//                 strings), creator, created_at (i64), available (u8),
//                 attributes;
//   user upsert   4, User: id, attributes, consent bits (u8:
//                 1 personalization, 2 store_events, 4 training);
//   impression    5, user, items (u32 count, strings), timestamp (i64, set
//                 by the producer: never 0 on the log), context (as an
//                 event's), propensities (u32 count, f64 bits each).
// Attributes: u32 count, then per entry (map order) key, a type byte (0
// string, 1 number as f64 bits, 2 bool as u8, 3 list as u32 count + strings)
// and the value.
inline constexpr uint8_t kItemUpsertKind = 3;
inline constexpr uint8_t kUserUpsertKind = 4;
inline constexpr uint8_t kImpressionKind = 5;

// One list shown to a user (DB::RecordImpressions' arguments).
struct ImpressionRecord {
  std::string user;
  std::vector<std::string> items;
  ImpressionContext context;
};

// One message of the log.
struct LogRecord {
  enum class Kind { kEvent, kForget, kItem, kUser, kImpression };
  Kind kind = Kind::kEvent;
  bool is_forget = false;   // kind == kForget
  Event event;              // kEvent
  std::string forget_user;  // kForget
  Item item;                // kItem
  User user;                // kUser
  ImpressionRecord impression;  // kImpression
  // The user whose partition the message belongs to ("" for an item: items
  // are global).
  const std::string& partition_user() const;
};

// Appends a forget marker for `user` to *out.
void EncodeForgetMarker(const std::string& user, std::string* out);
void EncodeItem(const Item& item, std::string* out);
void EncodeUser(const User& user, std::string* out);
void EncodeImpression(const ImpressionRecord& impression, std::string* out);

// Decodes any kind. Errors: Corruption as DecodeEvent, or an unknown kind.
Status DecodeLogRecord(std::string_view body, LogRecord* record);

// The partition of `user` among `partitions` (> 0): FNV-1a 64 of the id's
// bytes, modulo. Stable across platforms and releases.
uint32_t PartitionOf(std::string_view user, uint32_t partitions);

// FNV-1a 64 of `bytes`, continuing from `hash` (start with kFnvOffset).
inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;
uint64_t Fnv1a64(std::string_view bytes, uint64_t hash = kFnvOffset);

}  // namespace recdb::cluster
