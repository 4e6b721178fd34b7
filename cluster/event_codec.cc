#include "cluster/event_codec.h"

#include <cstring>
#include <map>
#include <variant>

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

namespace {

void PutF64(std::string* out, double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof(bits));
  PutU64(out, bits);
}

void PutStrings(std::string* out, const std::vector<std::string>& v) {
  PutU32(out, static_cast<uint32_t>(v.size()));
  for (const std::string& s : v) PutString(out, s);
}

void PutAttributes(std::string* out, const Attributes& attrs) {
  PutU32(out, static_cast<uint32_t>(attrs.size()));
  for (const auto& [k, v] : attrs) {
    PutString(out, k);
    out->push_back(static_cast<char>(v.index()));
    if (const auto* s = std::get_if<std::string>(&v)) PutString(out, *s);
    if (const auto* d = std::get_if<double>(&v)) PutF64(out, *d);
    if (const auto* b = std::get_if<bool>(&v)) out->push_back(*b ? 1 : 0);
    if (const auto* l = std::get_if<std::vector<std::string>>(&v)) PutStrings(out, *l);
  }
}

void PutContext(std::string* out, const std::map<std::string, std::string>& context) {
  PutU32(out, static_cast<uint32_t>(context.size()));
  for (const auto& [k, v] : context) {
    PutString(out, k);
    PutString(out, v);
  }
}

bool GetF64(Reader* r, double* d) {
  uint64_t bits = 0;
  if (!r->GetU64(&bits)) return false;
  std::memcpy(d, &bits, sizeof(bits));
  return true;
}

bool GetStrings(Reader* r, std::vector<std::string>* v) {
  uint32_t n = 0;
  if (!r->GetU32(&n)) return false;
  v->clear();
  for (uint32_t i = 0; i < n; ++i) {
    std::string s;
    if (!r->GetString(&s)) return false;
    v->push_back(std::move(s));
  }
  return true;
}

bool GetAttributes(Reader* r, Attributes* attrs) {
  uint32_t n = 0;
  if (!r->GetU32(&n)) return false;
  attrs->clear();
  for (uint32_t i = 0; i < n; ++i) {
    std::string k;
    uint8_t type = 0;
    if (!r->GetString(&k) || !r->GetU8(&type)) return false;
    AttributeValue v;
    if (type == 0) {
      std::string s;
      if (!r->GetString(&s)) return false;
      v = std::move(s);
    } else if (type == 1) {
      double d = 0;
      if (!GetF64(r, &d)) return false;
      v = d;
    } else if (type == 2) {
      uint8_t b = 0;
      if (!r->GetU8(&b)) return false;
      v = b != 0;
    } else if (type == 3) {
      std::vector<std::string> l;
      if (!GetStrings(r, &l)) return false;
      v = std::move(l);
    } else {
      return false;
    }
    attrs->emplace(std::move(k), std::move(v));
  }
  return true;
}

bool GetContext(Reader* r, std::map<std::string, std::string>* context) {
  uint32_t n = 0;
  if (!r->GetU32(&n)) return false;
  context->clear();
  for (uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!r->GetString(&k) || !r->GetString(&v)) return false;
    context->emplace(std::move(k), std::move(v));
  }
  return true;
}

}  // namespace

void EncodeItem(const Item& item, std::string* out) {
  out->push_back(static_cast<char>(kItemUpsertKind));
  PutString(out, item.id);
  PutString(out, item.title);
  PutString(out, item.description);
  PutStrings(out, item.categories);
  PutString(out, item.creator);
  PutU64(out, static_cast<uint64_t>(item.created_at));
  out->push_back(item.available ? 1 : 0);
  PutAttributes(out, item.attributes);
}

void EncodeUser(const User& user, std::string* out) {
  out->push_back(static_cast<char>(kUserUpsertKind));
  PutString(out, user.id);
  PutAttributes(out, user.attributes);
  out->push_back(static_cast<char>((user.consent.personalization ? 1 : 0) |
                                   (user.consent.store_events ? 2 : 0) |
                                   (user.consent.training ? 4 : 0)));
}

void EncodeImpression(const ImpressionRecord& imp, std::string* out) {
  out->push_back(static_cast<char>(kImpressionKind));
  PutString(out, imp.user);
  PutStrings(out, imp.items);
  PutU64(out, static_cast<uint64_t>(imp.context.timestamp));
  PutContext(out, imp.context.context);
  PutU32(out, static_cast<uint32_t>(imp.context.propensities.size()));
  for (double p : imp.context.propensities) PutF64(out, p);
}

const std::string& LogRecord::partition_user() const {
  static const std::string kNone;
  switch (kind) {
    case Kind::kEvent: return event.user;
    case Kind::kForget: return forget_user;
    case Kind::kUser: return user.id;
    case Kind::kImpression: return impression.user;
    case Kind::kItem: break;
  }
  return kNone;
}

Status DecodeLogRecord(std::string_view body, LogRecord* record) {
  const uint8_t kind = body.empty() ? 0 : static_cast<uint8_t>(body[0]);
  record->is_forget = kind == kForgetMarkerKind;
  if (kind == kEventFormatVersion) {
    record->kind = LogRecord::Kind::kEvent;
    return DecodeEvent(body, &record->event);
  }
  Reader r(body.substr(body.empty() ? 0 : 1));
  bool ok = false;
  const char* what = "log message";
  if (kind == kForgetMarkerKind) {
    record->kind = LogRecord::Kind::kForget;
    what = "forget marker";
    ok = r.GetString(&record->forget_user);
  } else if (kind == kItemUpsertKind) {
    record->kind = LogRecord::Kind::kItem;
    what = "item message";
    Item& it = record->item;
    it = Item();
    uint64_t created = 0;
    uint8_t available = 0;
    ok = r.GetString(&it.id) && r.GetString(&it.title) && r.GetString(&it.description) &&
         GetStrings(&r, &it.categories) && r.GetString(&it.creator) && r.GetU64(&created) &&
         r.GetU8(&available) && GetAttributes(&r, &it.attributes);
    it.created_at = static_cast<int64_t>(created);
    it.available = available != 0;
  } else if (kind == kUserUpsertKind) {
    record->kind = LogRecord::Kind::kUser;
    what = "user message";
    User& u = record->user;
    u = User();
    uint8_t bits = 0;
    ok = r.GetString(&u.id) && GetAttributes(&r, &u.attributes) && r.GetU8(&bits);
    u.consent.personalization = (bits & 1) != 0;
    u.consent.store_events = (bits & 2) != 0;
    u.consent.training = (bits & 4) != 0;
  } else if (kind == kImpressionKind) {
    record->kind = LogRecord::Kind::kImpression;
    what = "impression message";
    ImpressionRecord& imp = record->impression;
    imp = ImpressionRecord();
    uint64_t ts = 0;
    uint32_t n = 0;
    ok = r.GetString(&imp.user) && GetStrings(&r, &imp.items) && r.GetU64(&ts) &&
         GetContext(&r, &imp.context.context) && r.GetU32(&n);
    imp.context.timestamp = static_cast<int64_t>(ts);
    for (uint32_t i = 0; ok && i < n; ++i) {
      double p = 0;
      ok = GetF64(&r, &p);
      imp.context.propensities.push_back(p);
    }
  } else {
    return Status::Corruption("log message: unknown kind " + std::to_string(kind));
  }
  if (!ok) return Status::Corruption(std::string(what) + ": truncated");
  if (!r.AtEnd()) return Status::Corruption(std::string(what) + ": trailing bytes");
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
