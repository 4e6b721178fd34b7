// HnswIndex: approximate k-NN over hnswlib 0.6.2's HierarchicalNSW<float>,
// with filtered search, removal that erases vector bytes, checkpoint files
// (index/FORMAT.md) and compaction.
//
// Thread-safety: hnswlib does not allow an insert to run concurrently with a
// search, nor a resize with anything. The wrapper enforces this with one
// std::shared_mutex:
//   shared     Search, Get, Contains, Size, DeletedFraction, Save (while it
//              copies the graph out), CompactCopy (while it copies vectors out)
//   exclusive  Add, Upsert, Remove (and the capacity growth inside them),
//              set_ef_search
// Save only reads the graph, so searches continue during a checkpoint; only
// writers wait, and only while the bytes are copied into the file's buffer,
// not for the fsync. Every hnswlib exception is caught here and returned as a
// Status; if hnswlib throws in the middle of an insert the graph may be
// damaged, so the index answers Internal and the engine should rebuild it.
//
// Removal: hnswlib only marks a node deleted and keeps its vector. Remove()
// also overwrites the vector bytes with zeros at once, so a removed vector is
// gone from memory and from every later checkpoint (docs/DESIGN.md decision 9).
// Its slot stays (with its id, a dense integer, not personal data) until
// CompactCopy(), but no link list leads to it any more: the nodes that linked
// to it take its live neighbours instead (a zeroed node scored as if it sat
// at the origin made later inserts and updates cut every link into some live
// nodes, which no search then found; issue #4). Only a removed entry point
// with no live node on its level to replace it keeps its own links.
//
// Search is approximate (recall depends on ef_search) but always returns
// exactly min(k, matching live ids) results: when the graph yields fewer
// (heavy deletions, a selective filter), it falls back to an exact scan.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/vector_index.h"
#include "recdb/env.h"

namespace recdb::index {

struct IndexFileHeader;

struct HnswOptions {
  // Graph out-degree: M links per node on upper layers, 2*M on layer 0. Higher
  // gives better recall per visited node at the cost of memory (8*M + 4 bytes
  // per vector on layer 0) and build time. Default: 16. Fixed at creation and
  // stored in the checkpoint (a loaded index uses the file's value).
  size_t m = 16;

  // Candidate list size while inserting. Higher builds a better graph, more
  // slowly (roughly linear). Default: 200. Fixed at creation, like m.
  size_t ef_construction = 200;

  // Candidate list size while searching; a search uses max(ef_search, k).
  // The recall/latency knob. Default: 64. Changeable at runtime with
  // set_ef_search().
  size_t ef_search = 64;

  // Slots allocated up front; the index doubles its capacity when full (an
  // exclusive, O(size) realloc). Default: 1024.
  size_t initial_capacity = 1024;

  // Seed of hnswlib's level generator: the same inserts in the same order
  // build the same graph. Default: 100 (hnswlib's).
  uint64_t random_seed = 100;

  // Filter planner: a filtered search whose filter reports at most
  // max(filter_exact_max_matches, filter_exact_max_fraction * Size())
  // matching ids (SearchFilter::EstimatedMatches) scores those ids exactly
  // instead of walking the graph: at low selectivity the graph walk visits
  // ~ef/selectivity nodes to admit ef of them, more work than scoring the
  // matches directly. Measured with `recdb bench ann` (tools/bench/ann.cc):
  // the crossover lies between 5% and 10% of the index (docs/BENCHMARKS.md,
  // "Vector index").
  // Defaults: 1000 and 0.05.
  size_t filter_exact_max_matches = 1000;
  double filter_exact_max_fraction = 0.05;
};

// How a search ran; for tests, benchmarks and EXPLAIN-style diagnostics.
enum class SearchPlan {
  kAuto,   // (request only) let the planner choose
  kGraph,  // HNSW graph walk, filter applied during traversal
  kExact,  // exact scan over the matching ids
};

struct SearchStats {
  SearchPlan plan = SearchPlan::kAuto;  // the plan that ran first
  bool fell_back_to_exact = false;      // the graph gave < k results
};

class HnswIndex final : public VectorIndex {
 public:
  // An empty index. InvalidArgument if dimension == 0, m < 2 or
  // ef_construction == 0; ResourceExhausted if memory runs out.
  static StatusOr<std::unique_ptr<HnswIndex>> Create(uint32_t dimension, Metric metric,
                                                     const HnswOptions& options = {});

  // Loads a checkpoint written by Save(). The file must hold an HNSW index of
  // `dimension` and `metric`; m and ef_construction come from the file, the
  // other options from `options`. Errors as ReadIndexFile (IOError,
  // Corruption, NotSupported, InvalidArgument), plus Corruption if the graph
  // inside a checksum-valid file is inconsistent. Never trusts the file: it
  // is fully verified before any of it reaches hnswlib. The file is read
  // through `env` (a database passes its Options::env).
  static StatusOr<std::unique_ptr<HnswIndex>> Load(const std::string& path, uint32_t dimension,
                                                   Metric metric, const HnswOptions& options = {},
                                                   Env* env = Env::Default());

  ~HnswIndex() override;
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  Metric metric() const override { return metric_; }
  uint32_t dimension() const override { return dimension_; }

  Status Add(uint32_t id, std::span<const float> vector) override;
  // Adds ids[k] with vectors[k * dimension() ...] for every k, on up to
  // `threads` threads (hnswlib's inserts of distinct ids run concurrently
  // under its per-node locks), holding the exclusive lock throughout: a bulk
  // build. The ids must be distinct and not in the index (InvalidArgument /
  // AlreadyExists before anything is added). `stopped`, when set, is polled
  // between inserts: once it returns true the remaining ids are skipped and
  // Aborted is returned (the index then holds some of them). With threads
  // <= 1 the graph is the one Add builds in the same order; with more, which
  // node draws which level and the order of links depend on scheduling, so
  // graphs differ between runs but not in recall (tests/index:
  // ParallelBuildHasTheRecallOfTheSerialBuild; `recdb bench two-stage
  // --serial-build`).
  Status AddMany(std::span<const uint32_t> ids, std::span<const float> vectors, int threads,
                 const std::function<bool()>& stopped = {});
  Status Upsert(uint32_t id, std::span<const float> vector) override;
  Status Remove(uint32_t id) override;
  // Removes every id of `ids` that is in the index (absent ones and repeats
  // are skipped) and returns how many: Remove for a batch, in one pass over
  // the link lists instead of one per id (`recdb bench ann --removals 1000`;
  // figures in docs/BENCHMARKS.md, "Vector index").
  StatusOr<size_t> RemoveMany(std::span<const uint32_t> ids);
  bool Contains(uint32_t id) const override;
  StatusOr<std::vector<float>> Get(uint32_t id) const override;
  size_t Size() const override;

  StatusOr<std::vector<Neighbor>> Search(std::span<const float> query, size_t k,
                                         const SearchFilter* filter = nullptr) const override {
    return Search(query, k, filter, SearchPlan::kAuto, nullptr);
  }
  // As above, with the plan forced (kGraph/kExact) or chosen (kAuto), and
  // what ran reported in *stats (may be null).
  StatusOr<std::vector<Neighbor>> Search(std::span<const float> query, size_t k,
                                         const SearchFilter* filter, SearchPlan plan,
                                         SearchStats* stats) const;

  uint64_t covered_sequence() const override { return covered_sequence_.load(); }
  void set_covered_sequence(uint64_t sequence) override { covered_sequence_.store(sequence); }

  // Writes a checkpoint (with covered_sequence()) to `path` via `<path>.tmp`,
  // fsync and rename, through `env` (a database passes its Options::env).
  // IOError on failure; the previous file is then intact.
  Status Save(const std::string& path, Env* env = Env::Default()) const;

  // The index as bytes, for a container that checksums and stamps them
  // itself (the iALS index stored beside a trained model): a small header
  // (magic, dimension, metric, M, ef_construction, counts, covered
  // sequence) and the checkpoint payload of index/FORMAT.md. Appended to
  // *out under the shared lock. ResourceExhausted if memory runs out.
  Status AppendSerialized(std::string* out) const;
  // Reads bytes AppendSerialized wrote, verifying them as Load verifies a
  // file (Corruption for anything inconsistent; InvalidArgument for an index
  // of another dimension or metric); m and ef_construction come from the
  // bytes, the other options from `options`.
  static StatusOr<std::unique_ptr<HnswIndex>> Deserialize(std::string_view bytes,
                                                          uint32_t dimension, Metric metric,
                                                          const HnswOptions& options = {});

  // Makes every live node reachable on layer 0 from the entry point again:
  // a breadth-first walk finds the live nodes no link path leads to (inserts
  // and hnswlib's updatePoint prune link lists and, rarely, cut all links
  // into a node; issue #4), and each gets a link from the nearest node a
  // search for its own vector reaches. Returns how many were re-linked.
  // O(nodes * 2M) plus one search per re-linked node. Load runs it; the
  // engine runs it again after replaying the change log into a loaded index.
  size_t RepairReachability();

  // Removed nodes / all nodes in the graph, in [0, 1]. Removed nodes cost
  // memory and search time; compact when this grows (say past 0.2).
  double DeletedFraction() const;

  // A new index holding only the live vectors, built from a snapshot taken
  // under the shared lock (searches and, after the snapshot, writes continue
  // on this index meanwhile). The copy's covered_sequence() is this index's
  // at snapshot time: replay later changes into the copy, then swap it in.
  StatusOr<std::unique_ptr<HnswIndex>> CompactCopy() const;

  size_t ef_search() const;
  void set_ef_search(size_t ef);
  // The options in force (m and ef_construction as built or loaded).
  HnswOptions options() const;

  // Bytes of hnswlib memory (vectors, links, labels), for sizing.
  size_t MemoryBytes() const;

 private:
  struct Impl;  // holds the hnswlib objects (index/hnswlib_shim.h)

  HnswIndex(uint32_t dimension, Metric metric, const HnswOptions& options,
            std::unique_ptr<Impl> impl);
  // Load and Deserialize: an index from a verified header and its payload.
  static StatusOr<std::unique_ptr<HnswIndex>> FromPayload(const IndexFileHeader& h,
                                                          std::string_view payload,
                                                          uint32_t dimension, Metric metric,
                                                          const HnswOptions& options,
                                                          const std::string& what);
  Status Insert(uint32_t id, std::span<const float> vector, bool replace);
  // REQUIRES: mu_ held exclusively; `v` validated and normalised.
  Status InsertLocked(uint32_t id, const float* v, bool replace);
  // REQUIRES: mu_ held exclusively.
  size_t RepairReachabilityLocked();

  const uint32_t dimension_;
  const Metric metric_;
  HnswOptions options_;  // m/ef_construction fixed; ef_search GUARDED_BY(mu_)
  mutable std::shared_mutex mu_;
  std::unique_ptr<Impl> impl_;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> covered_sequence_{0};
};

}  // namespace recdb::index
