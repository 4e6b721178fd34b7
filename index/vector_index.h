// VectorIndex: k-nearest-neighbour search over float vectors keyed by dense
// uint32 internal ids (docs/DESIGN.md decision 2).
//
// An index is a DERIVED structure: RocksDB holds the vectors, the index is
// rebuilt or caught up from it. It therefore records the source sequence
// number it covers (covered_sequence()), which is saved in its checkpoint file
// (index/FORMAT.md). The contract for the engine: every change with sequence
// <= covered_sequence() is in the index; changes after it MAY also be in it,
// so catch-up replays them and must treat the replay as idempotent (Upsert is;
// Remove of an already-removed id returns NotFound, which replay ignores).
//
// Scores: every result carries a score where HIGHER IS BETTER, so callers can
// fuse results of different metrics without flipping signs:
//   kCosine        score = cosine similarity in [-1, 1]
//   kInnerProduct  score = dot(query, vector)
//   kL2            score = -(squared Euclidean distance)   (<= 0)
// Results are sorted by descending score, ties by ascending id.
//
// Vectors: exactly dimension() finite floats. Wrong length, NaN or +-inf is
// InvalidArgument. Under kCosine, vectors and queries are normalised to unit
// length on the way in (an all-zero vector is InvalidArgument) and Get()
// returns the normalised vector.
//
// Thread-safety: implementations are thread-safe. Searches run concurrently
// with each other; writers (Upsert, Remove) are serialised against searches
// by the implementation. See each class for its locking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "recdb/status.h"

namespace recdb::index {

enum class Metric : uint32_t {
  kCosine = 0,
  kInnerProduct = 1,
  kL2 = 2,
};

// "cosine", "ip", "l2".
std::string_view MetricToString(Metric metric);

struct Neighbor {
  uint32_t id = 0;
  float score = 0;  // higher is better; see the header comment
  friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

// Restricts a search to some ids. The engine builds these from predicates
// ("category in set", "price in range", "available", "not seen"); the index
// only asks Allows() during traversal and uses the size hints to plan.
//
// REQUIRES: Allows() is safe to call concurrently (it is const and called from
// the searching thread only, but several searches may share one filter).
class SearchFilter {
 public:
  virtual ~SearchFilter() = default;

  // True if `id` may appear in the results.
  virtual bool Allows(uint32_t id) const = 0;

  // An estimate of how many ids pass, or -1 if unknown. The planner brute
  // forces small match sets exactly and runs filtered HNSW on large ones.
  virtual int64_t EstimatedMatches() const { return -1; }

  // If the filter can enumerate the ids that pass cheaply, appends them to
  // *ids (any order, no duplicates) and returns true; else returns false.
  virtual bool ListMatches(std::vector<uint32_t>* ids) const {
    (void)ids;
    return false;
  }
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual Metric metric() const = 0;
  virtual uint32_t dimension() const = 0;

  // Inserts `vector` under `id`. AlreadyExists if `id` is present (use Upsert
  // to replace). InvalidArgument for a malformed vector.
  virtual Status Add(uint32_t id, std::span<const float> vector) = 0;

  // Inserts or replaces the vector of `id`. InvalidArgument for a malformed
  // vector; ResourceExhausted if memory runs out.
  virtual Status Upsert(uint32_t id, std::span<const float> vector) = 0;

  // Removes `id`: afterwards it is never returned, and its vector bytes are
  // gone from memory and from any later checkpoint. NotFound if absent.
  virtual Status Remove(uint32_t id) = 0;

  virtual bool Contains(uint32_t id) const = 0;

  // The stored vector (normalised under kCosine). NotFound if absent.
  virtual StatusOr<std::vector<float>> Get(uint32_t id) const = 0;

  // Number of live (not removed) ids.
  virtual size_t Size() const = 0;

  // The min(k, matching ids) best live ids for `query`, best first. `filter`
  // may be null (every id matches). InvalidArgument for a malformed query or
  // k == 0. An index that is approximate says so in its class comment; every
  // implementation returns exactly min(k, number of matching ids) results.
  virtual StatusOr<std::vector<Neighbor>> Search(std::span<const float> query, size_t k,
                                                 const SearchFilter* filter = nullptr) const = 0;

  // The source sequence number whose changes this index includes (see the
  // header comment). 0 for a fresh index.
  virtual uint64_t covered_sequence() const = 0;
  virtual void set_covered_sequence(uint64_t sequence) = 0;
};

}  // namespace recdb::index
