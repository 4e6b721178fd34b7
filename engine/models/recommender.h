// Recommender: the interface every in-memory recommendation model implements,
// and the top-k selection shared by serving and offline evaluation.
//
// Lifecycle: construct with options, Fit once on a Dataset, then only const
// calls. A fitted model is an immutable snapshot: the engine fits a fresh
// object in the background and swaps a std::shared_ptr<const Recommender>, so
// serving never waits for training.
//
// Thread-safety: Fit is not thread-safe; after Fit returns every const method
// may be called concurrently.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/models/dataset.h"
#include "engine/models/model_io.h"
#include "recdb/export.h"
#include "recdb/status.h"

namespace recdb::models {

// Who to score for. The history is the user's current interactions, oldest
// first; it may be newer than the fitted data (real-time) and may name items
// the model has not seen (id >= num_items()), which models ignore.
struct UserQuery {
  uint32_t user = kUnknownUser;            // dense id in the fitted Dataset, or unknown
  std::span<const uint32_t> items;         // history, oldest first
  std::span<const int64_t> timestamps;     // empty, or one per history item
  std::span<const float> weights;          // empty (all 1), or one per history item
  uint32_t context = kNoContext;           // context bucket of this request
  // Context features of the request (ids into the Dataset's context
  // vocabulary, dataset.h), besides the ones derived from context_time.
  std::span<const uint32_t> context_features;
  // When the request happens, for the daypart / weekend features; 0 = `now`
  // (or the last history timestamp).
  int64_t context_time = 0;
  // Request time for time-aware models; 0 means "the last history timestamp"
  // (or the end of the fitted data when there is no history).
  int64_t now = 0;
};

struct ScoredItem {
  uint32_t item;
  float score;
};

// A dense row over the items into which a sparse model sums its entries
// (Recommender::SparseAccumulate): each item's sum, and the items that got
// an entry in first-entry order. The owner keeps it across requests (Fused:
// one per sparse component per serving thread) and empties it with Clear,
// O(touched), so that a request never costs O(items) here.
class SparseAccumulator {
 public:
  // Covers items [0, n); REQUIRES: empty (new, or after Clear/ClearAll).
  void Resize(uint32_t n) {
    if (value_.size() < n) value_.resize(n, 0.0f), seen_.resize(n, 0);
    size_ = n;
  }
  uint32_t size() const { return size_; }
  // Items it can cover without allocating (0: never sized).
  uint32_t capacity() const { return static_cast<uint32_t>(value_.size()); }
  // Adds `s` to `item`'s sum, in call order (the sums are bit-equal to
  // adding the same entries in the same order from 0); ids >= size() are
  // ignored.
  void Add(uint32_t item, float s) {
    if (item >= size_) return;
    if (!seen_[item]) {
      seen_[item] = 1;
      touched_.push_back(item);
    }
    value_[item] += s;
  }
  // REQUIRES: item < size().
  bool Has(uint32_t item) const { return seen_[item] != 0; }
  float Value(uint32_t item) const { return value_[item]; }
  const std::vector<uint32_t>& touched() const { return touched_; }
  // Back to empty: O(touched).
  void Clear() {
    for (uint32_t i : touched_) value_[i] = 0.0f, seen_[i] = 0;
    touched_.clear();
  }
  // Back to empty whatever happened (a request that threw half-way): O(items).
  void ClearAll() {
    std::fill(value_.begin(), value_.end(), 0.0f);
    std::fill(seen_.begin(), seen_.end(), uint8_t{0});
    touched_.clear();
  }

 private:
  std::vector<float> value_;
  std::vector<uint8_t> seen_;
  std::vector<uint32_t> touched_;
  uint32_t size_ = 0;
};

// RECDB_EXPORT (plugin interface, tests/abi/public_symbols.txt): a component
// plugin (modules/seq) derives from it, so its typeinfo and vtable, which
// recommender.cc holds (Save is the key function), must be visible to the
// plugin; the inline members stay hidden (-fvisibility-inlines-hidden).
class RECDB_EXPORT Recommender {
 public:
  virtual ~Recommender() = default;

  // Stable lower-case name, e.g. "ials".
  virtual std::string_view Name() const = 0;

  // Fits on `data`. Returns InvalidArgument for unusable options and
  // ResourceExhausted when the data exceed a documented model limit.
  virtual Status Fit(const Dataset& data) = 0;

  // Number of items the fitted model scores (the Dataset's num_items).
  virtual uint32_t num_items() const = 0;

  // Writes a score for every item into `scores` (size num_items()); higher is
  // better. Scores are comparable only within one call.
  // REQUIRES: Fit returned OK; scores.size() == num_items().
  virtual void Score(const UserQuery& query, std::span<float> scores) const = 0;

  // Persistence (model_io.h). Save writes the fitted state; Load restores it
  // into an unfitted object constructed with the same options, which then
  // behaves as after Fit. REQUIRES for Save: Fit or Load returned OK.
  // Errors: NotSupported for a model that is not persisted (the default);
  // Load: Corruption when the bytes are short or inconsistent.
  virtual Status Save(ModelWriter& out) const;
  virtual Status Load(ModelReader& in);

  // Incremental retraining: the next Fit may start from `previous`, a
  // fitted model of the same kind (fewer iterations from a closer start).
  // Returns false (and changes nothing) for a model that does not warm-start
  // (the default: counting models recompute in one pass anyway) or a
  // `previous` of another kind. Ids must be stable across the two fits.
  virtual bool WarmStart(std::shared_ptr<const Recommender> previous) {
    (void)previous;
    return false;
  }

  // Two-stage serving (Fused, engine/models/fused.h): the hooks that let a
  // blend score a few hundred retrieved candidates instead of every item.
  // Each has a default that is always correct; models override where the
  // maths gives the same numbers more cheaply.
  //
  // Scores of `items` only, out[r] for items[r], equal to what Score writes
  // for them. Default: Score over every item, then a gather (O(num_items));
  // SparseScore models look their entries up.
  // REQUIRES: out.size() == items.size(); every id < num_items().
  virtual void ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                          std::span<float> out) const;

  // For models whose Score is 0 for all but a few items (neighbour lists,
  // co-occurrence): appends (item, score) entries, any order, and returns
  // true; an item's score is the sum of its entries (an item may appear
  // several times) and every item without an entry scores exactly 0.
  // Default: false (dense scores).
  virtual bool SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const {
    (void)query;
    (void)entries;
    return false;
  }

  // SparseScore's entries added into `acc` (SparseAccumulator::Add) in the
  // order SparseScore lists them, without listing them; false (and `acc`
  // untouched) for a model without SparseScore. Default: through
  // SparseScore. The neighbour-list models override it: a request's entries
  // number up to history x list length (about 10^6 at 10M events), and
  // listing them first cost as much as summing them.
  virtual bool SparseAccumulate(const UserQuery& query, SparseAccumulator* acc) const {
    std::vector<ScoredItem> entries;
    if (!SparseScore(query, &entries)) return false;
    for (const ScoredItem& e : entries) acc->Add(e.item, e.score);
    return true;
  }

  // For dense models with an index over their items (iALS): appends about
  // the k best items by Score, skipping `exclude` (sorted ascending), and
  // returns true; approximate (an ANN index). Default: false.
  virtual bool Retrieve(const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
                        std::vector<uint32_t>* out) const {
    (void)query, (void)k, (void)exclude, (void)out;
    return false;
  }

  // The sum and sum of squares of Score over every item not in `exclude`
  // (sorted ascending, ids < num_items()), without scoring every item (iALS:
  // from the item factors' mean and Gramian). Default: false.
  virtual bool ScoreMoments(const UserQuery& query, std::span<const uint32_t> exclude,
                            double* sum, double* sum_sq) const {
    (void)query, (void)exclude, (void)sum, (void)sum_sq;
    return false;
  }

  // Builds what Retrieve needs (iALS: an HNSW index over the item factors).
  // Called once after Fit or Load by a blend that serves two-stage; nothing
  // to build when LoadRetrieval adopted stored state for this fit. `item_rank` (Dataset::item_rank(), one per item)
  // orders ties, as TopK does. Without `may_defer` the build is done on
  // return. With it (at Load: Open must not wait) a component may return the
  // costly part as work for the caller to run in the background (the DB's
  // Scheduler, decision 7); until that work has run, Retrieve answers false
  // and the blend scores the component in full, which is exact. The work is
  // safe to run at any time, even after the component is destroyed, refitted
  // or reloaded (it then does nothing), and may never run; it gives up early
  // when its `stop` argument turns true (the caller closing). Default: nothing.
  using DeferredWork = std::function<void(const std::atomic<bool>& stop)>;
  virtual DeferredWork PrepareRetrieval(std::span<const uint32_t> item_rank, bool may_defer) {
    (void)item_rank, (void)may_defer;
    return {};
  }

  // Two-stage state worth storing beside the model because it is slow to
  // build (iALS: the HNSW index and the score moments; engine/models/
  // README.md, "Two-stage serving"): SaveRetrieval writes it and returns
  // true, or writes nothing and returns false when there is none (not
  // prepared, or a deferred build still running). LoadRetrieval, after Load
  // and before PrepareRetrieval, reads what SaveRetrieval wrote and adopts it
  // only if it belongs to exactly this fit (iALS: same item count, factors
  // and a checksum of the item factors): true when adopted. It reads the
  // whole record either way; a damaged record fails `in` (in.ok() false).
  // Defaults: nothing stored.
  virtual bool SaveRetrieval(ModelWriter& out) const {
    (void)out;
    return false;
  }
  virtual bool LoadRetrieval(ModelReader& in) {
    (void)in;
    return false;
  }

  // Explanation: the history items that most shaped this model's scores
  // for `query` -- (index into query.items, weight), heaviest first, at
  // most k -- e.g. a sequence model's attention. Empty (the default) when
  // the model has no such per-history evidence.
  virtual std::vector<std::pair<size_t, float>> HistoryEvidence(const UserQuery& query,
                                                                size_t k) const {
    (void)query;
    (void)k;
    return {};
  }
};

// The k best items by (score descending, item_rank ascending), skipping items
// whose score is -inf or NaN. Returned best first.
std::vector<ScoredItem> TopK(std::span<const float> scores, size_t k,
                             std::span<const uint32_t> item_rank);

// Scores `query` and returns the k best items not in `exclude` (item ids; any
// order; ids >= num_items() ignored). `item_rank` is the tie-break order
// (Dataset::item_rank()).
std::vector<ScoredItem> Recommend(const Recommender& model, const UserQuery& query, size_t k,
                                  std::span<const uint32_t> exclude,
                                  std::span<const uint32_t> item_rank);

}  // namespace recdb::models
