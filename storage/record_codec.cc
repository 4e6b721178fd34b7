#include "storage/record_codec.h"

#include <bit>
#include <cstring>
#include <utility>
#include <vector>

#include "storage/aligned_bytes.h"
#include "storage/schema/records_generated.h"

namespace recdb::storage {

// BuildItemStatsDelta writes scalars in host order into FlatBuffers vectors.
static_assert(std::endian::native == std::endian::little, "recdb assumes a little-endian host");

namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

std::string ToString(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : std::string(s->data(), s->size());
}

std::string Bytes(const FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Offset<flatbuffers::Vector<Offset<fb::Attribute>>> BuildAttributes(FlatBufferBuilder& fbb,
                                                                   const Attributes& attrs) {
  if (attrs.empty()) return 0;
  std::vector<Offset<fb::Attribute>> offsets;
  offsets.reserve(attrs.size());
  for (const auto& [key, value] : attrs) {
    auto key_off = fbb.CreateString(key);
    Offset<flatbuffers::String> str_off = 0;
    Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> list_off = 0;
    fb::AttributeKind kind = fb::AttributeKind::String;
    double num = 0;
    bool flag = false;
    if (const auto* s = std::get_if<std::string>(&value)) {
      str_off = fbb.CreateString(*s);
    } else if (const auto* d = std::get_if<double>(&value)) {
      kind = fb::AttributeKind::Double;
      num = *d;
    } else if (const auto* b = std::get_if<bool>(&value)) {
      kind = fb::AttributeKind::Bool;
      flag = *b;
    } else {
      kind = fb::AttributeKind::StringList;
      list_off = fbb.CreateVectorOfStrings(std::get<std::vector<std::string>>(value));
    }
    fb::AttributeBuilder ab(fbb);
    ab.add_key(key_off);
    ab.add_kind(kind);
    if (!str_off.IsNull()) ab.add_str(str_off);
    ab.add_num(num);
    ab.add_flag(flag);
    if (!list_off.IsNull()) ab.add_list(list_off);
    offsets.push_back(ab.Finish());
  }
  return fbb.CreateVector(offsets);
}

Status ReadAttributes(const flatbuffers::Vector<Offset<fb::Attribute>>* attrs, Attributes* out,
                      std::string_view what) {
  out->clear();
  if (attrs == nullptr) return Status::OK();
  for (const fb::Attribute* a : *attrs) {
    std::string key = ToString(a->key());
    switch (a->kind()) {
      case fb::AttributeKind::String:
        (*out)[key] = ToString(a->str());
        break;
      case fb::AttributeKind::Double:
        (*out)[key] = a->num();
        break;
      case fb::AttributeKind::Bool:
        (*out)[key] = a->flag();
        break;
      case fb::AttributeKind::StringList: {
        std::vector<std::string> list;
        if (a->list() != nullptr) {
          list.reserve(a->list()->size());
          for (const flatbuffers::String* s : *a->list()) list.push_back(ToString(s));
        }
        (*out)[key] = std::move(list);
        break;
      }
      default:
        return Status::Corruption(std::string(what) + ": unknown attribute kind");
    }
  }
  return Status::OK();
}

}  // namespace

std::string EncodeItem(const Item& item) {
  FlatBufferBuilder fbb(256 + item.title.size() + item.description.size());
  auto id = fbb.CreateString(item.id);
  auto title = item.title.empty() ? 0 : fbb.CreateString(item.title);
  auto description = item.description.empty() ? 0 : fbb.CreateString(item.description);
  auto categories = item.categories.empty() ? 0 : fbb.CreateVectorOfStrings(item.categories);
  auto creator = item.creator.empty() ? 0 : fbb.CreateString(item.creator);
  auto attributes = BuildAttributes(fbb, item.attributes);
  fb::ItemBuilder b(fbb);
  b.add_id(id);
  if (!title.IsNull()) b.add_title(title);
  if (!description.IsNull()) b.add_description(description);
  if (!categories.IsNull()) b.add_categories(categories);
  if (!creator.IsNull()) b.add_creator(creator);
  b.add_created_at(item.created_at);
  b.add_available(item.available);
  if (!attributes.IsNull()) b.add_attributes(attributes);
  fbb.Finish(b.Finish());
  return Bytes(fbb);
}

Status DecodeItem(std::string_view bytes, Item* out) {
  AlignedBytes aligned(bytes);
  const fb::Item* r = VerifiedRoot<fb::Item>(aligned);
  if (r == nullptr) return Status::Corruption("item record fails verification");
  out->id = ToString(r->id());
  out->title = ToString(r->title());
  out->description = ToString(r->description());
  out->categories.clear();
  if (r->categories() != nullptr) {
    out->categories.reserve(r->categories()->size());
    for (const flatbuffers::String* s : *r->categories()) out->categories.push_back(ToString(s));
  }
  out->creator = ToString(r->creator());
  out->created_at = r->created_at();
  out->available = r->available();
  return ReadAttributes(r->attributes(), &out->attributes, "item record");
}

std::string EncodeUser(const User& user) {
  FlatBufferBuilder fbb(128);
  auto id = fbb.CreateString(user.id);
  auto attributes = BuildAttributes(fbb, user.attributes);
  fb::ConsentFlags consent(user.consent.personalization, user.consent.store_events,
                           user.consent.training);
  fb::UserBuilder b(fbb);
  b.add_id(id);
  if (!attributes.IsNull()) b.add_attributes(attributes);
  b.add_consent(&consent);
  fbb.Finish(b.Finish());
  return Bytes(fbb);
}

Status DecodeUser(std::string_view bytes, User* out) {
  AlignedBytes aligned(bytes);
  const fb::User* r = VerifiedRoot<fb::User>(aligned);
  if (r == nullptr) return Status::Corruption("user record fails verification");
  out->id = ToString(r->id());
  if (const fb::ConsentFlags* c = r->consent(); c != nullptr) {
    out->consent = Consent{c->personalization(), c->store_events(), c->training()};
  } else {
    out->consent = Consent{};
  }
  return ReadAttributes(r->attributes(), &out->attributes, "user record");
}

void BuildEventRecord(const EventPayload& payload,
                      const std::map<std::string, std::string>& context, FlatBufferBuilder* fbb) {
  fbb->Clear();
  Offset<flatbuffers::Vector<Offset<fb::ContextEntry>>> ctx = 0;
  if (!context.empty()) {
    // At most kMaxContextEntries (validated), so a stack array suffices.
    Offset<fb::ContextEntry> entries[kMaxContextEntries];
    size_t n = 0;
    for (const auto& [k, v] : context) {
      if (n == kMaxContextEntries) break;
      auto ko = fbb->CreateString(k);
      auto vo = fbb->CreateString(v);
      entries[n++] = fb::CreateContextEntry(*fbb, ko, vo);
    }
    ctx = fbb->CreateVector(entries, n);
  }
  fb::EventRecordBuilder b(*fbb);
  b.add_value(payload.value);
  b.add_item(payload.item);
  if (!ctx.IsNull()) b.add_context(ctx);
  b.add_type(payload.type);
  b.add_has_value(payload.has_value);
  fbb->Finish(b.Finish());
}

std::string EncodeEventRecord(const EventPayload& payload,
                              const std::map<std::string, std::string>& context) {
  FlatBufferBuilder fbb(64);
  BuildEventRecord(payload, context, &fbb);
  return Bytes(fbb);
}

Status DecodeEventRecord(std::string_view bytes, EventPayload* out,
                         std::map<std::string, std::string>* context) {
  AlignedBytes aligned(bytes);
  const fb::EventRecord* r = VerifiedRoot<fb::EventRecord>(aligned);
  if (r == nullptr) return Status::Corruption("event record fails verification");
  out->item = r->item();
  out->type = r->type();
  out->value = r->value();
  out->has_value = r->has_value();
  if (context != nullptr) {
    context->clear();
    if (r->context() != nullptr) {
      for (const fb::ContextEntry* e : *r->context()) {
        context->emplace(ToString(e->key()), ToString(e->value()));
      }
    }
  }
  return Status::OK();
}

void BuildItemStatsDelta(const ItemStatsDeltaEntry* entries, size_t n, FlatBufferBuilder* fbb) {
  fbb->Clear();
  // Each vector is filled right after it is created: a later allocation in
  // the builder may move the buffer and invalidate the pointer. Host order
  // equals FlatBuffers order (little-endian, asserted above).
  uint32_t* items = nullptr;
  auto items_off = fbb->CreateUninitializedVector(n, &items);
  for (size_t i = 0; i < n; ++i) items[i] = entries[i].item;
  uint16_t* types = nullptr;
  auto types_off = fbb->CreateUninitializedVector(n, &types);
  for (size_t i = 0; i < n; ++i) types[i] = entries[i].type;
  int64_t* days = nullptr;
  auto days_off = fbb->CreateUninitializedVector(n, &days);
  for (size_t i = 0; i < n; ++i) days[i] = entries[i].day;
  int64_t* counts = nullptr;
  auto counts_off = fbb->CreateUninitializedVector(n, &counts);
  for (size_t i = 0; i < n; ++i) counts[i] = entries[i].count;
  fb::ItemStatsDeltaBuilder b(*fbb);
  b.add_item(items_off);
  b.add_type(types_off);
  b.add_day(days_off);
  b.add_count(counts_off);
  fbb->Finish(b.Finish());
}

Status DecodeItemStatsDelta(std::string_view bytes, std::vector<ItemStatsDeltaEntry>* out) {
  AlignedBytes aligned(bytes);
  const fb::ItemStatsDelta* r = VerifiedRoot<fb::ItemStatsDelta>(aligned);
  if (r == nullptr || r->item() == nullptr || r->type() == nullptr || r->day() == nullptr ||
      r->count() == nullptr || r->type()->size() != r->item()->size() ||
      r->day()->size() != r->item()->size() || r->count()->size() != r->item()->size()) {
    return Status::Corruption("item stats delta fails verification");
  }
  for (flatbuffers::uoffset_t i = 0; i < r->item()->size(); ++i) {
    out->push_back({r->item()->Get(i), r->type()->Get(i), r->day()->Get(i), r->count()->Get(i)});
  }
  return Status::OK();
}

std::string EncodeEventType(const EventType& type) {
  FlatBufferBuilder fbb(64);
  auto name = fbb.CreateString(type.name);
  fb::EventTypeRecordBuilder b(fbb);
  b.add_name(name);
  b.add_weight(type.weight);
  fbb.Finish(b.Finish());
  return Bytes(fbb);
}

Status DecodeEventType(std::string_view bytes, EventType* out) {
  AlignedBytes aligned(bytes);
  const fb::EventTypeRecord* r = VerifiedRoot<fb::EventTypeRecord>(aligned);
  if (r == nullptr) return Status::Corruption("event type record fails verification");
  out->name = ToString(r->name());
  out->weight = r->weight();
  return Status::OK();
}

}  // namespace recdb::storage
