// Space codec: the keys and values of embedding spaces in RocksDB
// (storage/FORMAT.md, section "Embedding spaces", is the reference).
//
// CF "vectors":
//   space id (4 BE) + kind (1) + internal id (4 BE)  -> fb.StoredVector
//   00000000 'S' + space id (4 BE)                   -> fb.SpaceDefinition
//   00000000 'T' + space id (4 BE)                   -> log truncated through (8 LE)
//   00000000 'M' + space id (4 BE)                   -> built-in text model bytes
//   00000000 'N'                                     -> next space id (8 LE)
//   00000000 'Q'                                     -> next log sequence (8 LE)
// Space ids start at 1, so space id 0 is free to hold the metadata above and
// one space's vectors are one contiguous range [sid, sid + 1).
// CF "vector_log":
//   space id (4 BE) + log sequence (8 BE)            -> fb.VectorLogEntry
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/embedding.h"
#include "recdb/status.h"
#include "storage/key_codec.h"

namespace recdb::spaces {

inline constexpr size_t kVectorKeySize = 9;
inline constexpr size_t kLogKeySize = 12;

// storage::EntityKind byte of a public EntityKind ('i' / 'u').
storage::EntityKind ToStorageKind(EntityKind kind);
const char* KindName(EntityKind kind);  // "item" / "user"

std::string VectorKey(uint32_t space_id, EntityKind kind, uint32_t iid);
// All vectors of (space, kind): [begin, end).
std::string VectorKindBegin(uint32_t space_id, EntityKind kind);
std::string VectorKindEnd(uint32_t space_id, EntityKind kind);
// All vectors of a space: [SpaceBegin(id), SpaceBegin(id + 1)).
std::string SpaceBegin(uint32_t space_id);
// False unless `key` is a kVectorKeySize vector key.
bool ParseVectorKey(std::string_view key, uint32_t* space_id, storage::EntityKind* kind,
                    uint32_t* iid);

std::string LogKey(uint32_t space_id, uint64_t sequence);
bool ParseLogKey(std::string_view key, uint32_t* space_id, uint64_t* sequence);

std::string SpaceDefinitionKey(uint32_t space_id);
std::string SpaceDefinitionPrefix();  // every definition key starts with it
std::string TruncatedKey(uint32_t space_id);
std::string TextModelKey(uint32_t space_id);
std::string NextSpaceIdKey();
std::string NextLogSequenceKey();

struct SpaceDefinition {
  uint32_t id = 0;
  SpaceOptions options;
  int64_t created_at = 0;
};
std::string EncodeSpaceDefinition(const SpaceDefinition& def);
// Corruption if the bytes do not verify or hold out-of-range fields.
Status DecodeSpaceDefinition(std::string_view bytes, SpaceDefinition* out);

std::string EncodeVector(const float* values, size_t n);
// Corruption unless the bytes verify and hold exactly `dimension` floats.
Status DecodeVector(std::string_view bytes, uint32_t dimension, std::vector<float>* out);

enum class LogOp : uint8_t { kPut = 'P', kDelete = 'D' };
struct LogEntry {
  storage::EntityKind kind = storage::EntityKind::kItem;
  uint32_t iid = 0;
  LogOp op = LogOp::kPut;
};
std::string EncodeLogEntry(const LogEntry& entry);
Status DecodeLogEntry(std::string_view bytes, LogEntry* out);

// Valid space name: [A-Za-z0-9_.-]{1,kMaxSpaceNameBytes}.
bool IsValidSpaceName(std::string_view name);

}  // namespace recdb::spaces
