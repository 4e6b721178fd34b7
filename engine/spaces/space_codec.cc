#include "engine/spaces/space_codec.h"

#include <flatbuffers/flatbuffers.h>

#include <cmath>

#include "storage/aligned_bytes.h"
#include "storage/schema/spaces_generated.h"

namespace recdb::spaces {
namespace {

constexpr char kMetaSpaceId[4] = {0, 0, 0, 0};

std::string MetaKey(char tag) {
  std::string k(kMetaSpaceId, 4);
  k.push_back(tag);
  return k;
}

std::string MetaKey(char tag, uint32_t space_id) {
  std::string k = MetaKey(tag);
  char buf[4];
  storage::EncodeFixed32BE(buf, space_id);
  k.append(buf, 4);
  return k;
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

}  // namespace

storage::EntityKind ToStorageKind(EntityKind kind) {
  return kind == EntityKind::kItem ? storage::EntityKind::kItem : storage::EntityKind::kUser;
}

const char* KindName(EntityKind kind) { return kind == EntityKind::kItem ? "item" : "user"; }

std::string VectorKey(uint32_t space_id, EntityKind kind, uint32_t iid) {
  std::string k(kVectorKeySize, '\0');
  storage::EncodeFixed32BE(k.data(), space_id);
  k[4] = static_cast<char>(ToStorageKind(kind));
  storage::EncodeFixed32BE(k.data() + 5, iid);
  return k;
}

std::string VectorKindBegin(uint32_t space_id, EntityKind kind) {
  std::string k(5, '\0');
  storage::EncodeFixed32BE(k.data(), space_id);
  k[4] = static_cast<char>(ToStorageKind(kind));
  return k;
}

std::string VectorKindEnd(uint32_t space_id, EntityKind kind) {
  std::string k = VectorKindBegin(space_id, kind);
  k[4] = static_cast<char>(k[4] + 1);
  return k;
}

std::string SpaceBegin(uint32_t space_id) {
  std::string k(4, '\0');
  storage::EncodeFixed32BE(k.data(), space_id);
  return k;
}

bool ParseVectorKey(std::string_view key, uint32_t* space_id, storage::EntityKind* kind,
                    uint32_t* iid) {
  if (key.size() != kVectorKeySize) return false;
  *space_id = storage::DecodeFixed32BE(key.data());
  *kind = static_cast<storage::EntityKind>(key[4]);
  if (*kind != storage::EntityKind::kItem && *kind != storage::EntityKind::kUser) return false;
  *iid = storage::DecodeFixed32BE(key.data() + 5);
  return *space_id != 0;
}

std::string LogKey(uint32_t space_id, uint64_t sequence) {
  std::string k(kLogKeySize, '\0');
  storage::EncodeFixed32BE(k.data(), space_id);
  storage::EncodeFixed64BE(k.data() + 4, sequence);
  return k;
}

bool ParseLogKey(std::string_view key, uint32_t* space_id, uint64_t* sequence) {
  if (key.size() != kLogKeySize) return false;
  *space_id = storage::DecodeFixed32BE(key.data());
  *sequence = storage::DecodeFixed64BE(key.data() + 4);
  return true;
}

std::string SpaceDefinitionKey(uint32_t space_id) { return MetaKey('S', space_id); }
std::string SpaceDefinitionPrefix() { return MetaKey('S'); }
std::string TruncatedKey(uint32_t space_id) { return MetaKey('T', space_id); }
std::string TextModelKey(uint32_t space_id) { return MetaKey('M', space_id); }
std::string NextSpaceIdKey() { return MetaKey('N'); }
std::string NextLogSequenceKey() { return MetaKey('Q'); }

std::string EncodeSpaceDefinition(const SpaceDefinition& def) {
  flatbuffers::FlatBufferBuilder fbb(256);
  const SpaceOptions& o = def.options;
  auto name = fbb.CreateString(o.name);
  auto model = fbb.CreateString(o.model_name);
  auto version = fbb.CreateString(o.model_version);
  fb::SpaceDefinitionBuilder b(fbb);
  b.add_id(def.id);
  b.add_name(name);
  b.add_dimension(static_cast<uint32_t>(o.dimension));
  b.add_metric(static_cast<uint8_t>(o.metric));
  b.add_model_name(model);
  b.add_model_version(version);
  b.add_hnsw_m(static_cast<uint32_t>(o.hnsw_m));
  b.add_hnsw_ef_construction(static_cast<uint32_t>(o.hnsw_ef_construction));
  b.add_hnsw_ef_search(static_cast<uint32_t>(o.hnsw_ef_search));
  b.add_created_at(def.created_at);
  fbb.Finish(b.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Status DecodeSpaceDefinition(std::string_view bytes, SpaceDefinition* out) {
  const storage::AlignedBytes aligned(bytes);  // RocksDB values may be misaligned
  const fb::SpaceDefinition* d = storage::VerifiedRoot<fb::SpaceDefinition>(aligned);
  if (d == nullptr) return Status::Corruption("space definition fails verification");
  if (d->id() == 0 || d->dimension() == 0 || d->dimension() > kMaxVectorDimension ||
      d->metric() > static_cast<uint8_t>(Metric::kL2) || d->hnsw_m() < 2 ||
      d->hnsw_m() > 1024 || d->hnsw_ef_construction() == 0 || d->hnsw_ef_search() == 0) {
    return Status::Corruption("space definition holds out-of-range fields");
  }
  out->id = d->id();
  out->created_at = d->created_at();
  SpaceOptions& o = out->options;
  o.name = Str(d->name());
  o.dimension = static_cast<int>(d->dimension());
  o.metric = static_cast<Metric>(d->metric());
  o.model_name = Str(d->model_name());
  o.model_version = Str(d->model_version());
  o.hnsw_m = static_cast<int>(d->hnsw_m());
  o.hnsw_ef_construction = static_cast<int>(d->hnsw_ef_construction());
  o.hnsw_ef_search = static_cast<int>(d->hnsw_ef_search());
  return Status::OK();
}

std::string EncodeVector(const float* values, size_t n) {
  flatbuffers::FlatBufferBuilder fbb(n * sizeof(float) + 32);
  auto v = fbb.CreateVector(values, n);
  fb::StoredVectorBuilder b(fbb);
  b.add_values(v);
  fbb.Finish(b.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Status DecodeVector(std::string_view bytes, uint32_t dimension, std::vector<float>* out) {
  const storage::AlignedBytes aligned(bytes);  // RocksDB values may be misaligned
  const fb::StoredVector* v = storage::VerifiedRoot<fb::StoredVector>(aligned);
  if (v == nullptr || v->values() == nullptr) {
    return Status::Corruption("stored vector fails verification");
  }
  if (v->values()->size() != dimension) {
    return Status::Corruption("stored vector has " + std::to_string(v->values()->size()) +
                              " values, the space has dimension " + std::to_string(dimension));
  }
  out->assign(v->values()->begin(), v->values()->end());
  for (float f : *out) {
    if (!std::isfinite(f)) return Status::Corruption("stored vector holds a non-finite value");
  }
  return Status::OK();
}

std::string EncodeLogEntry(const LogEntry& entry) {
  flatbuffers::FlatBufferBuilder fbb(32);
  fb::VectorLogEntryBuilder b(fbb);
  b.add_kind(static_cast<uint8_t>(entry.kind));
  b.add_iid(entry.iid);
  b.add_op(static_cast<uint8_t>(entry.op));
  fbb.Finish(b.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Status DecodeLogEntry(std::string_view bytes, LogEntry* out) {
  const storage::AlignedBytes aligned(bytes);  // RocksDB values may be misaligned
  const fb::VectorLogEntry* e = storage::VerifiedRoot<fb::VectorLogEntry>(aligned);
  if (e == nullptr) return Status::Corruption("vector log entry fails verification");
  const auto kind = static_cast<storage::EntityKind>(e->kind());
  const auto op = static_cast<LogOp>(e->op());
  if ((kind != storage::EntityKind::kItem && kind != storage::EntityKind::kUser) ||
      (op != LogOp::kPut && op != LogOp::kDelete)) {
    return Status::Corruption("vector log entry holds an unknown kind or op");
  }
  out->kind = kind;
  out->iid = e->iid();
  out->op = op;
  return Status::OK();
}

bool IsValidSpaceName(std::string_view name) {
  if (name.empty() || name.size() > kMaxSpaceNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace recdb::spaces
