// Space: the in-memory state of one embedding space (engine-internal, shared
// by space_manager.cc and space_embedding.cc). See space_manager.h for the
// lock order.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "engine/spaces/space_codec.h"
#include "index/hnsw_index.h"

namespace recdb::spaces {

inline int KindSlot(EntityKind kind) { return kind == EntityKind::kItem ? 0 : 1; }
inline constexpr EntityKind kKinds[2] = {EntityKind::kItem, EntityKind::kUser};

inline index::Metric ToIndexMetric(Metric m) {
  switch (m) {
    case Metric::kCosine:
      return index::Metric::kCosine;
    case Metric::kInnerProduct:
      return index::Metric::kInnerProduct;
    case Metric::kL2:
      return index::Metric::kL2;
  }
  return index::Metric::kCosine;
}

inline index::HnswOptions ToHnswOptions(const SpaceOptions& o) {
  index::HnswOptions h;
  h.m = static_cast<size_t>(o.hnsw_m);
  h.ef_construction = static_cast<size_t>(o.hnsw_ef_construction);
  h.ef_search = static_cast<size_t>(o.hnsw_ef_search);
  return h;
}

struct Space {
  explicit Space(SpaceDefinition d) : def(std::move(d)) {}

  const SpaceDefinition def;  // immutable

  // Checkpoints and background rebuilds of this space, one at a time (a
  // rebuild must not see the log truncated under it).
  std::mutex maintenance_mu;
  // Serialises writes: commit + index update, so index order == log order.
  std::mutex write_mu;
  bool dropped = false;  // GUARDED_BY(write_mu); set by DropSpace

  // The current index per kind; swapped whole by a background rebuild.
  mutable std::mutex index_mu;
  std::shared_ptr<index::HnswIndex> index[2];  // GUARDED_BY(index_mu)

  std::shared_ptr<index::HnswIndex> Index(EntityKind kind) const {
    std::lock_guard lock(index_mu);
    return index[KindSlot(kind)];
  }
  void SetIndex(EntityKind kind, std::shared_ptr<index::HnswIndex> idx) {
    std::lock_guard lock(index_mu);
    index[KindSlot(kind)] = std::move(idx);
  }

  // Covered log position of the checkpoint file on disk (0 = none).
  std::atomic<uint64_t> saved_covered[2] = {0, 0};
  // Log entries <= this were deleted (their checkpoints cover them).
  uint64_t truncated_through = 0;  // GUARDED_BY(maintenance_mu)
  // Vectors were deleted since the last checkpoint: compact their range.
  std::atomic<bool> deletions_pending{false};
  // An index update failed after its commit: the index misses a change, so
  // it is never checkpointed, and is rebuilt from RocksDB.
  std::atomic<bool> broken[2] = {false, false};
  // A background rebuild (broken, or too many removed nodes) is queued.
  std::atomic<bool> rebuild_scheduled[2] = {false, false};
};

}  // namespace recdb::spaces
