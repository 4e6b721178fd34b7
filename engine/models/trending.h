// Trending: time-decayed popularity, overall, per category and per context
// bucket. An event of weight w at time t contributes w * 0.5^((now - t) /
// half_life) to its item.
//
// The overall table is kept "as of" the end of every snapshot bucket
// (snapshot_seconds wide, at most max_snapshots of them: wider buckets when
// the data span more), so Score can answer for a past `now` (offline
// evaluation, or a user whose history ends in the past). The per-context and
// per-category rankings are as of the end of the fitted data.
//
// Memory: (snapshots + contexts) * num_items floats.
// Thread-safety: see Recommender.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/models/recommender.h"

namespace recdb::models {

struct TrendingOptions {
  double half_life_seconds = 7 * 86400.0;  // Default: 7 days
  int64_t snapshot_seconds = 86400;         // Default: 1 day; 0 = only the final table
  uint32_t max_snapshots = 1024;            // Default: 1024
  // Memory bound of the snapshot tables (items x snapshots floats): fewer,
  // wider buckets past it. Default: 64 MiB (ml-100k's 1,682 items keep all
  // 1024 snapshots; 100K items keep 167).
  uint64_t max_snapshot_bytes = uint64_t{64} << 20;
  // Two-stage serving: items kept per table for Retrieve (4 bytes each).
  // Default: 2048 (candidates_per_model 200 plus long histories).
  uint32_t retrieval_depth = 2048;
};

class Trending final : public Recommender {
 public:
  explicit Trending(TrendingOptions options = {}) : options_(options) {}
  std::string_view Name() const override { return "trending"; }
  Status Fit(const Dataset& data) override;
  Status Save(ModelWriter& out) const override;
  Status Load(ModelReader& in) override;
  uint32_t num_items() const override { return static_cast<uint32_t>(final_.size()); }
  // Decayed popularity as of query.now (or the last history timestamp). A
  // query with a context bucket seen in training scores by that bucket's
  // popularity (as of the end of the data) instead.
  void Score(const UserQuery& query, std::span<float> scores) const override;

  // Two-stage serving (recommender.h): Score copies one of a few fixed
  // tables (the final one, a snapshot, a context bucket's), so
  // PrepareRetrieval keeps each table's sum, sum of squares and best
  // retrieval_depth items (by score, then item rank); Retrieve, ScoreMoments
  // and ScoreItems then cost O(k + history), not O(items). Retrieve answers
  // false (the blend scores every item) when k plus the excluded items
  // exceed that depth.
  void ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                  std::span<float> out) const override;
  bool Retrieve(const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
                std::vector<uint32_t>* out) const override;
  bool ScoreMoments(const UserQuery& query, std::span<const uint32_t> exclude, double* sum,
                    double* sum_sq) const override;
  DeferredWork PrepareRetrieval(std::span<const uint32_t> item_rank, bool may_defer) override;
  // The summaries above, stored beside the model (fused.retrieval) so that
  // Open does not sort every table again: adopted only for the same item
  // count, table count and CRC-32C of the final table (PrepareRetrieval then
  // keeps them only for the item rank they were built with).
  bool SaveRetrieval(ModelWriter& out) const override;
  bool LoadRetrieval(ModelReader& in) override;

  // Decayed popularity of every item as of `now` (clamped to the fitted span),
  // scaled so that values are comparable across calls for the same `now`.
  void PopularityAt(int64_t now, std::span<float> out) const;

  // The k most trending items as of the end of the data, optionally only
  // items of `category` and/or popularity within `context`.
  std::vector<ScoredItem> Top(size_t k, uint32_t category = kNoCategory,
                              uint32_t context = kNoContext) const;

  static constexpr uint32_t kNoCategory = 0xffffffffu;

 private:
  TrendingOptions options_;
  int64_t t0_ = 0, t_end_ = 0, bucket_ = 0;
  // The tables: owned after Fit, views of the mapped model file after Load.
  using Table_ = StoredArray<float>;
  std::vector<Table_> snapshots_;  // as of the end of bucket b
  Table_ final_;                   // as of t_end_
  std::vector<Table_> by_context_; // [context][item] as of t_end_
  std::vector<uint32_t> item_rank_;
  std::vector<std::vector<uint32_t>> item_categories_;

  // The table Score copies for `query`.
  const Table_& Table(const UserQuery& query) const;
  // Two-stage serving, per table (PrepareRetrieval); empty until prepared.
  struct TableSummary {
    double sum = 0, sum_sq = 0;
    std::vector<uint32_t> best;  // the best retrieval_depth items, best first
  };
  std::vector<TableSummary> summaries_;  // final, snapshots..., contexts...
  bool summaries_adopted_ = false;  // read by LoadRetrieval, not built
  // CRC-32C of the item rank the summaries were built with (ties order by
  // it): PrepareRetrieval keeps adopted summaries only for the same rank.
  uint32_t summaries_rank_crc_ = 0;
  const TableSummary* Summary(const Table_& table) const;
  // What LoadRetrieval checks besides the counts: CRC-32C of final_.
  uint32_t FinalCrc() const;
};

}  // namespace recdb::models
