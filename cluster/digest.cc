#include "cluster/digest.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "cluster/event_codec.h"

namespace recdb::cluster {

namespace {

// Appends canonical, self-delimiting bytes of each value.
class Canonical {
 public:
  void Tag(char t) { out_.push_back(t); }
  void Str(const std::string& s) {
    U64(s.size());
    out_ += s;
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void F64(double d) {
    uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof(bits));
    U64(bits);
  }
  void Attributes(const recdb::Attributes& attrs) {
    U64(attrs.size());
    for (const auto& [k, v] : attrs) {  // std::map: key order
      Str(k);
      U64(v.index());
      if (const auto* s = std::get_if<std::string>(&v)) Str(*s);
      if (const auto* d = std::get_if<double>(&v)) F64(*d);
      if (const auto* b = std::get_if<bool>(&v)) U64(*b ? 1 : 0);
      if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
        U64(l->size());
        for (const auto& e : *l) Str(e);
      }
    }
  }
  // Hashes what was appended and clears it.
  void Flush(RecordDigest* d) {
    d->hash = Fnv1a64(out_, d->hash);
    d->bytes += out_.size();
    out_.clear();
  }

 private:
  std::string out_;
};

}  // namespace

std::string RecordDigest::ToString() const {
  char buf[192];
  std::snprintf(buf, sizeof(buf),
                "fnv1a64=%016llx users=%lld events=%lld impressions=%lld items=%lld bytes=%llu",
                static_cast<unsigned long long>(hash), static_cast<long long>(users),
                static_cast<long long>(events), static_cast<long long>(impressions),
                static_cast<long long>(items), static_cast<unsigned long long>(bytes));
  return buf;
}

StatusOr<RecordDigest> ComputeRecordDigest(DB& db, uint32_t partitions,
                                           const std::vector<uint32_t>& owned) {
  std::vector<bool> mine(partitions, owned.empty());
  for (uint32_t p : owned) {
    if (p < partitions) mine[p] = true;
  }
  std::vector<User> users;
  RECDB_RETURN_IF_ERROR(db.ForEachUser([&](const User& u) {
    if (mine[PartitionOf(u.id, partitions)]) users.push_back(u);
    return Status::OK();
  }));
  std::sort(users.begin(), users.end(),
            [](const User& a, const User& b) { return a.id < b.id; });
  RecordDigest d;
  d.hash = kFnvOffset;
  Canonical c;
  for (const User& u : users) {
    c.Tag('U');
    c.Str(u.id);
    c.Attributes(u.attributes);
    c.U64((u.consent.personalization ? 1 : 0) | (u.consent.store_events ? 2 : 0) |
          (u.consent.training ? 4 : 0));
    RECDB_ASSIGN_OR_RETURN(std::vector<Event> history, db.GetUserHistory(u.id));
    c.U64(history.size());
    for (const Event& e : history) {
      c.Tag('E');
      c.Str(e.item);
      c.Str(e.type);
      c.U64(e.has_value ? 1 : 0);
      c.F64(e.value);
      c.U64(static_cast<uint64_t>(e.timestamp));
      c.U64(e.context.size());
      for (const auto& [k, v] : e.context) {
        c.Str(k);
        c.Str(v);
      }
    }
    RECDB_ASSIGN_OR_RETURN(std::vector<ShownList> shown, db.GetUserImpressions(u.id));
    c.U64(shown.size());
    for (const ShownList& list : shown) {
      c.Tag('S');
      c.U64(static_cast<uint64_t>(list.context.timestamp));
      c.U64(list.items.size());
      for (const std::string& item : list.items) c.Str(item);
      c.U64(list.context.context.size());
      for (const auto& [k, v] : list.context.context) {
        c.Str(k);
        c.Str(v);
      }
      c.U64(list.context.propensities.size());
      for (double p : list.context.propensities) c.F64(p);
    }
    c.Flush(&d);
    d.users++;
    d.events += static_cast<int64_t>(history.size());
    d.impressions += static_cast<int64_t>(shown.size());
  }
  // Items: global, but an event auto-creates its item with the default
  // record only on the nodes that own the event's user; items upserted
  // through the log (any other record) are on every node.
  std::vector<Item> items;
  RECDB_RETURN_IF_ERROR(db.ForEachItem([&](const Item& it) {
    Item bare;
    bare.id = it.id;
    if (!(it == bare)) items.push_back(it);
    return Status::OK();
  }));
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
  for (const Item& it : items) {
    c.Tag('I');
    c.Str(it.id);
    c.Str(it.title);
    c.Str(it.description);
    c.U64(it.categories.size());
    for (const std::string& cat : it.categories) c.Str(cat);
    c.Str(it.creator);
    c.U64(static_cast<uint64_t>(it.created_at));
    c.U64(it.available ? 1 : 0);
    c.Attributes(it.attributes);
    c.Flush(&d);
    d.items++;
  }
  return d;
}

}  // namespace recdb::cluster
