// IdMap: the in-memory map between external ids (strings) and dense internal
// ids of one entity kind, loaded from the "ids" column family at open so the
// write path resolves ids without a RocksDB read.
//
// Memory: per entity one std::string in a deque (32 bytes, plus the id's
// bytes on the heap when longer than 15) and one hash node with its bucket
// slot (~40 bytes): about 75 bytes + id length. 1M users with short ids
// cost ~75 MB; 10M ~0.75 GB.
//
// Internal ids are dense: Insert must be called with iid == size() or an iid
// below size() whose slot is empty (loading out of order at open).
//
// Thread-safety: none. The owner (DBImpl) guards it with a shared_mutex:
// readers share, the single writer inserts under the exclusive lock.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace recdb::storage {

class IdMap {
 public:
  IdMap() = default;
  IdMap(const IdMap&) = delete;
  IdMap& operator=(const IdMap&) = delete;

  // The internal id of `external`, or nullopt.
  std::optional<uint32_t> Find(std::string_view external) const {
    auto it = by_external_.find(external);
    if (it == by_external_.end()) return std::nullopt;
    return it->second;
  }

  // The external id of `iid`; empty if iid >= size() or the slot is unused.
  std::string_view External(uint32_t iid) const {
    return iid < externals_.size() ? std::string_view(externals_[iid]) : std::string_view();
  }

  // Maps `external` <-> `iid`. REQUIRES: neither is mapped yet.
  void Insert(std::string_view external, uint32_t iid) {
    if (iid >= externals_.size()) externals_.resize(size_t{iid} + 1);
    externals_[iid].assign(external.data(), external.size());
    // The key views the deque's string: std::deque never moves its elements
    // on growth at the ends, so the view stays valid.
    by_external_.emplace(std::string_view(externals_[iid]), iid);
  }

  // Unmaps `iid` (a forgotten user); its slot stays empty, never reused.
  void Erase(uint32_t iid) {
    if (iid >= externals_.size()) return;
    by_external_.erase(std::string_view(externals_[iid]));
    std::string().swap(externals_[iid]);
  }

  // Number of internal-id slots (the next dense id when loaded densely).
  uint32_t size() const { return static_cast<uint32_t>(externals_.size()); }
  // Number of mapped ids.
  size_t mapped() const { return by_external_.size(); }

  void Reserve(size_t n) { by_external_.reserve(n); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::deque<std::string> externals_;  // by internal id
  std::unordered_map<std::string_view, uint32_t, Hash, std::equal_to<>> by_external_;
};

}  // namespace recdb::storage
