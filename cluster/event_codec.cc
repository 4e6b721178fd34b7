#include "cluster/event_codec.h"

#include <cstring>

namespace recdb::cluster {

namespace {

void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}

void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// A cursor over a body; every Get fails (returns false) past the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool GetU8(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool GetU32(uint32_t* v) {
    if (in_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(4);
    return true;
  }
  bool GetU64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return true;
  }
  bool GetString(std::string* s) {
    uint32_t n = 0;
    if (!GetU32(&n) || in_.size() < n) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool AtEnd() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

void EncodeEvent(const Event& e, std::string* out) {
  out->push_back(static_cast<char>(kEventFormatVersion));
  PutString(out, e.user);
  PutString(out, e.item);
  PutString(out, e.type);
  out->push_back(e.has_value ? 1 : 0);
  uint64_t bits = 0;
  std::memcpy(&bits, &e.value, sizeof(bits));
  PutU64(out, bits);
  PutU64(out, static_cast<uint64_t>(e.timestamp));
  PutU32(out, static_cast<uint32_t>(e.context.size()));
  for (const auto& [k, v] : e.context) {
    PutString(out, k);
    PutString(out, v);
  }
}

Status DecodeEvent(std::string_view body, Event* e) {
  Reader r(body);
  uint8_t version = 0;
  if (!r.GetU8(&version)) return Status::Corruption("event message: empty body");
  if (version != kEventFormatVersion) {
    return Status::Corruption("event message: unknown format version " + std::to_string(version));
  }
  *e = Event();
  uint8_t has_value = 0;
  uint64_t bits = 0;
  uint64_t ts = 0;
  uint32_t n = 0;
  if (!r.GetString(&e->user) || !r.GetString(&e->item) || !r.GetString(&e->type) ||
      !r.GetU8(&has_value) || !r.GetU64(&bits) || !r.GetU64(&ts) || !r.GetU32(&n)) {
    return Status::Corruption("event message: truncated");
  }
  e->has_value = has_value != 0;
  std::memcpy(&e->value, &bits, sizeof(bits));
  e->timestamp = static_cast<int64_t>(ts);
  for (uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!r.GetString(&k) || !r.GetString(&v)) return Status::Corruption("event message: truncated");
    e->context.emplace(std::move(k), std::move(v));
  }
  if (!r.AtEnd()) return Status::Corruption("event message: trailing bytes");
  return Status::OK();
}

void EncodeForgetMarker(const std::string& user, std::string* out) {
  out->push_back(static_cast<char>(kForgetMarkerKind));
  PutString(out, user);
}

Status DecodeLogRecord(std::string_view body, LogRecord* record) {
  record->is_forget = !body.empty() && static_cast<uint8_t>(body[0]) == kForgetMarkerKind;
  if (!record->is_forget) return DecodeEvent(body, &record->event);
  Reader r(body.substr(1));
  if (!r.GetString(&record->forget_user)) return Status::Corruption("forget marker: truncated");
  if (!r.AtEnd()) return Status::Corruption("forget marker: trailing bytes");
  return Status::OK();
}

uint64_t Fnv1a64(std::string_view bytes, uint64_t hash) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

uint32_t PartitionOf(std::string_view user, uint32_t partitions) {
  return static_cast<uint32_t>(Fnv1a64(user) % partitions);
}

}  // namespace recdb::cluster
