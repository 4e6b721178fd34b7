// IdMap: the in-memory map between external ids (strings) and dense internal
// ids of one entity kind, loaded from the "ids" column family at open so the
// write path resolves ids without a RocksDB read.
//
// Memory: per entity one std::string in a deque (32 bytes, plus the id's
// bytes on the heap when longer than 15) and 16-32 bytes of open-addressing
// slots (8 bytes each, table at most half full): about 50-64 bytes + id
// length. 1M users with short ids cost ~60 MB; 10M ~0.6 GB.
//
// Internal ids are dense: Insert must be called with iid == size() or an iid
// below size() whose slot is empty (loading out of order at open).
//
// Thread-safety: none. The owner (DBImpl) guards it with a shared_mutex:
// readers share, the single writer inserts under the exclusive lock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace recdb::storage {

class IdMap {
 public:
  IdMap() = default;
  IdMap(const IdMap&) = delete;
  IdMap& operator=(const IdMap&) = delete;

  // The internal id of `external`, or nullopt.
  std::optional<uint32_t> Find(std::string_view external) const {
    if (slots_.empty()) return std::nullopt;
    const uint32_t h = HashOf(external);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.iid == kEmpty) return std::nullopt;
      if (s.hash == h && s.iid != kErased && externals_[s.iid] == external) return s.iid;
    }
  }

  // The external id of `iid`; empty if iid >= size() or the slot is unused.
  std::string_view External(uint32_t iid) const {
    return iid < externals_.size() ? std::string_view(externals_[iid]) : std::string_view();
  }

  // Maps `external` <-> `iid`. REQUIRES: neither is mapped yet, iid below
  // kErased.
  void Insert(std::string_view external, uint32_t iid) {
    if (iid >= externals_.size()) externals_.resize(size_t{iid} + 1);
    externals_[iid].assign(external.data(), external.size());
    if ((mapped_ + erased_ + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(16, mapped_ * 4));
    const uint32_t h = HashOf(external);
    size_t i = h & mask_;
    while (slots_[i].iid != kEmpty && slots_[i].iid != kErased) i = (i + 1) & mask_;
    if (slots_[i].iid == kErased) --erased_;
    slots_[i] = Slot{h, iid};
    ++mapped_;
  }

  // Unmaps `iid` (a forgotten user); its slot stays empty, never reused.
  void Erase(uint32_t iid) {
    if (iid >= externals_.size() || slots_.empty()) return;
    const uint32_t h = HashOf(externals_[iid]);
    for (size_t i = h & mask_; slots_[i].iid != kEmpty; i = (i + 1) & mask_) {
      if (slots_[i].iid == iid) {
        slots_[i].iid = kErased;  // a tombstone: later probes continue past it
        --mapped_;
        ++erased_;
        break;
      }
    }
    std::string().swap(externals_[iid]);
  }

  // Number of internal-id slots (the next dense id when loaded densely).
  uint32_t size() const { return static_cast<uint32_t>(externals_.size()); }
  // Number of mapped ids.
  size_t mapped() const { return mapped_; }

  void Reserve(size_t n) {
    if (n * 2 > slots_.size()) Rehash(n * 2);
  }

 private:
  // Open addressing with linear probing, at most half full (tombstones
  // included). A slot holds the low 32 bits of the id's hash, compared
  // before the id itself, so a probe usually touches one slot and one string.
  struct Slot {
    uint32_t hash;
    uint32_t iid;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr uint32_t kErased = UINT32_MAX - 1;

  static uint32_t HashOf(std::string_view s) {
    return static_cast<uint32_t>(std::hash<std::string_view>{}(s));
  }

  // Rebuilds the table with a power-of-two capacity >= min_slots, dropping
  // tombstones.
  void Rehash(size_t min_slots) {
    size_t cap = 16;
    while (cap < min_slots) cap *= 2;
    const std::vector<Slot> previous = std::exchange(slots_, std::vector<Slot>(cap, Slot{0, kEmpty}));
    mask_ = cap - 1;
    erased_ = 0;
    for (const Slot& s : previous) {
      if (s.iid == kEmpty || s.iid == kErased) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].iid != kEmpty) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::deque<std::string> externals_;  // by internal id
  std::vector<Slot> slots_;            // empty, or a power of two
  size_t mask_ = 0;
  size_t mapped_ = 0;
  size_t erased_ = 0;
};

}  // namespace recdb::storage
