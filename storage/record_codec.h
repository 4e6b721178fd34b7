// Record codec: recdb records <-> FlatBuffers bytes (schema/records.fbs).
//
// Every Decode* runs flatbuffers::Verifier over the bytes first and returns
// Status::Corruption (naming the record kind) when they do not verify, so a
// damaged value read from disk never crashes the process.
//
// Thread-safety: pure functions; a FlatBufferBuilder passed in belongs to the
// caller.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/records.h"
#include "recdb/status.h"

namespace recdb::storage {

std::string EncodeItem(const Item& item);
Status DecodeItem(std::string_view bytes, Item* out);

std::string EncodeUser(const User& user);
Status DecodeUser(std::string_view bytes, User* out);

// The part of an event stored in the value (the user and timestamp are in
// the key, see key_codec.h).
struct EventPayload {
  uint32_t item = 0;
  uint16_t type = 0;
  double value = 0.0;
  bool has_value = false;
};

// Builds an EventRecord into `fbb` (which is Clear()ed first); the bytes are
// then fbb->GetBufferPointer() / GetSize(). Reusing one builder keeps the
// ingest path free of per-event allocations.
void BuildEventRecord(const EventPayload& payload,
                      const std::map<std::string, std::string>& context,
                      flatbuffers::FlatBufferBuilder* fbb);
std::string EncodeEventRecord(const EventPayload& payload,
                              const std::map<std::string, std::string>& context);

// Decodes the fixed fields only (the training scan). `context` may be null to
// skip decoding the context map.
Status DecodeEventRecord(std::string_view bytes, EventPayload* out,
                         std::map<std::string, std::string>* context);

// One per-item counter delta: `count` events of `type` on `item` on UTC `day`.
struct ItemStatsDeltaEntry {
  uint32_t item = 0;
  uint16_t type = 0;
  int64_t day = 0;
  int64_t count = 0;
};
// Builds an ItemStatsDelta (a "stats_log" value) into `fbb` (Clear()ed first).
void BuildItemStatsDelta(const ItemStatsDeltaEntry* entries, size_t n,
                         flatbuffers::FlatBufferBuilder* fbb);
// Appends the entries of a verified "stats_log" value to `out`.
Status DecodeItemStatsDelta(std::string_view bytes, std::vector<ItemStatsDeltaEntry>* out);

std::string EncodeEventType(const EventType& type);
Status DecodeEventType(std::string_view bytes, EventType* out);

}  // namespace recdb::storage
