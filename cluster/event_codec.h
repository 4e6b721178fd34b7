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

#include "recdb/records.h"
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

// One message of the log: an event, or a forget marker for `forget_user`.
struct LogRecord {
  bool is_forget = false;
  Event event;              // when !is_forget
  std::string forget_user;  // when is_forget
};

// Appends a forget marker for `user` to *out.
void EncodeForgetMarker(const std::string& user, std::string* out);

// Decodes either kind. Errors: Corruption as DecodeEvent.
Status DecodeLogRecord(std::string_view body, LogRecord* record);

// The partition of `user` among `partitions` (> 0): FNV-1a 64 of the id's
// bytes, modulo. Stable across platforms and releases.
uint32_t PartitionOf(std::string_view user, uint32_t partitions);

// FNV-1a 64 of `bytes`, continuing from `hash` (start with kFnvOffset).
inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;
uint64_t Fnv1a64(std::string_view bytes, uint64_t hash = kFnvOffset);

}  // namespace recdb::cluster
