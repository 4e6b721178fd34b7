#include "engine/models/trending.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/crc32c.h"

namespace recdb::models {

Status Trending::Fit(const Dataset& data) {
  if (!(options_.half_life_seconds > 0)) {
    return Status::InvalidArgument("trending: half_life_seconds must be > 0");
  }
  const uint32_t n = data.num_items();
  const auto& ev = data.interactions();
  item_rank_ = data.item_rank();
  item_categories_ = data.item_categories();
  final_ = Table_(std::vector<float>(n, 0.0f));
  snapshots_.clear();
  by_context_.clear();
  summaries_.clear();
  summaries_adopted_ = false;
  if (ev.empty()) return Status::OK();
  t0_ = std::numeric_limits<int64_t>::max();
  t_end_ = std::numeric_limits<int64_t>::min();
  uint32_t contexts = 0;
  for (const Interaction& e : ev) {
    t0_ = std::min(t0_, e.ts);
    t_end_ = std::max(t_end_, e.ts);
    if (e.context != kNoContext) contexts = std::max(contexts, e.context + 1);
  }
  const double lambda = std::log(2.0) / options_.half_life_seconds;
  // Final and per-context tables, decayed to t_end_ (doubles: exact enough for
  // any span, since the exponent is at most 0).
  std::vector<double> fin(n, 0.0);
  std::vector<std::vector<double>> ctx(contexts, std::vector<double>(n, 0.0));
  for (const Interaction& e : ev) {
    const double w = e.weight * std::exp(-lambda * static_cast<double>(t_end_ - e.ts));
    fin[e.item] += w;
    if (e.context != kNoContext) ctx[e.context][e.item] += w;
  }
  final_ = Table_(std::vector<float>(fin.begin(), fin.end()));
  for (auto& c : ctx) by_context_.emplace_back(std::vector<float>(c.begin(), c.end()));

  if (options_.snapshot_seconds > 0) {
    const int64_t span = t_end_ - t0_ + 1;
    const int64_t max_snapshots = static_cast<int64_t>(std::clamp<uint64_t>(
        options_.max_snapshot_bytes / (std::max<uint64_t>(n, 1) * sizeof(float)), 1,
        std::max<uint64_t>(options_.max_snapshots, 1)));
    bucket_ = std::max<int64_t>(options_.snapshot_seconds, (span + max_snapshots - 1) / max_snapshots);
    const size_t buckets = static_cast<size_t>((span + bucket_ - 1) / bucket_);
    std::vector<uint32_t> order(ev.size());
    for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return ev[a].ts < ev[b].ts; });
    const double step = std::exp(-lambda * static_cast<double>(bucket_));
    std::vector<double> cur(n, 0.0);
    snapshots_.reserve(buckets);
    size_t k = 0;
    for (size_t b = 0; b < buckets; ++b) {
      for (double& v : cur) v *= step;
      const int64_t end = t0_ + static_cast<int64_t>(b + 1) * bucket_;
      for (; k < order.size() && ev[order[k]].ts < end; ++k) {
        const Interaction& e = ev[order[k]];
        cur[e.item] += e.weight * std::exp(-lambda * static_cast<double>(end - e.ts));
      }
      snapshots_.emplace_back(std::vector<float>(cur.begin(), cur.end()));
    }
  }
  return Status::OK();
}

void Trending::PopularityAt(int64_t now, std::span<float> out) const {
  if (snapshots_.empty() || now >= t_end_) {
    std::copy(final_.begin(), final_.end(), out.begin());
    return;
  }
  const int64_t b = now < t0_ ? 0 : (now - t0_) / bucket_;
  const auto& snap = snapshots_[std::min<size_t>(static_cast<size_t>(b), snapshots_.size() - 1)];
  std::copy(snap.begin(), snap.end(), out.begin());
}

void Trending::Score(const UserQuery& query, std::span<float> scores) const {
  const Table_& t = Table(query);
  std::copy(t.begin(), t.end(), scores.begin());
}

const Trending::Table_& Trending::Table(const UserQuery& query) const {
  if (query.context != kNoContext && query.context < by_context_.size()) {
    return by_context_[query.context];
  }
  int64_t now = query.now;
  if (now == 0) now = query.timestamps.empty() ? t_end_ : query.timestamps.back();
  if (snapshots_.empty() || now >= t_end_) return final_;
  const int64_t b = now < t0_ ? 0 : (now - t0_) / bucket_;
  return snapshots_[std::min<size_t>(static_cast<size_t>(b), snapshots_.size() - 1)];
}

Recommender::DeferredWork Trending::PrepareRetrieval(std::span<const uint32_t> item_rank,
                                                     bool /*may_defer*/) {
  const uint32_t rank_crc = Crc32c(item_rank.data(), item_rank.size_bytes());
  if (summaries_adopted_ && rank_crc == summaries_rank_crc_) return {};  // LoadRetrieval's
  summaries_adopted_ = false;
  summaries_rank_crc_ = rank_crc;
  summaries_.clear();
  std::vector<const Table_*> tables = {&final_};
  for (const auto& t : snapshots_) tables.push_back(&t);
  for (const auto& t : by_context_) tables.push_back(&t);
  const uint32_t n = num_items();
  const size_t depth = std::min<size_t>(options_.retrieval_depth, n);
  std::vector<uint32_t> order(n);
  for (const Table_* t : tables) {
    TableSummary summary;
    for (float v : *t) summary.sum += v, summary.sum_sq += static_cast<double>(v) * v;
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(depth), order.end(),
                      [&](uint32_t a, uint32_t b) {
                        if ((*t)[a] != (*t)[b]) return (*t)[a] > (*t)[b];
                        return item_rank[a] < item_rank[b];
                      });
    summary.best.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(depth));
    summaries_.push_back(std::move(summary));
  }
  return {};
}

const Trending::TableSummary* Trending::Summary(const Table_& table) const {
  if (summaries_.empty()) return nullptr;
  if (&table == &final_) return &summaries_[0];
  if (!snapshots_.empty() && &table >= &snapshots_.front() && &table <= &snapshots_.back()) {
    return &summaries_[1 + static_cast<size_t>(&table - &snapshots_.front())];
  }
  if (!by_context_.empty() && &table >= &by_context_.front() && &table <= &by_context_.back()) {
    return &summaries_[1 + snapshots_.size() + static_cast<size_t>(&table - &by_context_.front())];
  }
  return nullptr;
}

void Trending::ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                          std::span<float> out) const {
  const Table_& t = Table(query);
  for (size_t r = 0; r < items.size(); ++r) out[r] = t[items[r]];
}

bool Trending::Retrieve(const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
                        std::vector<uint32_t>* out) const {
  const TableSummary* s = Summary(Table(query));
  if (!s) return false;
  k = std::min<size_t>(k, num_items() - exclude.size());
  std::vector<uint32_t> got;
  for (uint32_t i : s->best) {
    if (got.size() == k) break;
    if (!std::binary_search(exclude.begin(), exclude.end(), i)) got.push_back(i);
  }
  if (got.size() < k) return false;  // too many excluded: the blend scores every item
  out->insert(out->end(), got.begin(), got.end());
  return true;
}

bool Trending::ScoreMoments(const UserQuery& query, std::span<const uint32_t> exclude,
                            double* sum, double* sum_sq) const {
  const Table_& t = Table(query);
  const TableSummary* s = Summary(t);
  if (!s) return false;
  double a = s->sum, b = s->sum_sq;
  for (uint32_t i : exclude) a -= t[i], b -= static_cast<double>(t[i]) * t[i];
  *sum = a;
  *sum_sq = b;
  return true;
}

std::vector<ScoredItem> Trending::Top(size_t k, uint32_t category, uint32_t context) const {
  std::vector<float> s;
  if (context != kNoContext && context < by_context_.size()) {
    s.assign(by_context_[context].begin(), by_context_[context].end());
  } else if (context != kNoContext) {
    s.assign(final_.size(), 0.0f);
  } else {
    s.assign(final_.begin(), final_.end());
  }
  if (category != kNoCategory) {
    for (uint32_t i = 0; i < s.size(); ++i) {
      const auto* cats = item_categories_.empty() ? nullptr : &item_categories_[i];
      if (!cats || !std::binary_search(cats->begin(), cats->end(), category)) {
        s[i] = -std::numeric_limits<float>::infinity();
      }
    }
  }
  for (float& v : s) {
    if (v <= 0.0f) v = -std::numeric_limits<float>::infinity();  // never seen: not trending
  }
  return TopK(s, k, item_rank_);
}

}  // namespace recdb::models

namespace recdb::models {

Status Trending::Save(ModelWriter& out) const {
  out.Put(t0_);
  out.Put(t_end_);
  out.Put(bucket_);
  // The PutVector / PutNested layout (GetVectorView / GetNestedView read it).
  auto put_table = [&out](const Table_& t) { out.PutArray(t.data(), t.size()); };
  auto put_tables = [&](const std::vector<Table_>& ts) {
    out.Put<uint64_t>(ts.size());
    for (const Table_& t : ts) put_table(t);
  };
  put_table(final_);
  put_tables(snapshots_);
  put_tables(by_context_);
  out.PutVector(item_rank_);
  out.PutNested(item_categories_);
  return Status::OK();
}

Status Trending::Load(ModelReader& in) {
  summaries_.clear();
  summaries_adopted_ = false;
  // The tables are views of the mapped model file (no copy, no zero-fill).
  if (!in.Get(&t0_) || !in.Get(&t_end_) || !in.Get(&bucket_) || !in.GetVectorView(&final_) ||
      !in.GetNestedView(&snapshots_) || !in.GetNestedView(&by_context_) ||
      !in.GetVector(&item_rank_) ||
      !in.GetNested(&item_categories_)) {
    return in.status();
  }
  const size_t n = final_.size();
  bool ok = item_rank_.size() == n && (item_categories_.empty() || item_categories_.size() == n) &&
            (snapshots_.empty() || bucket_ > 0);
  for (const auto& s : snapshots_) ok = ok && s.size() == n;
  for (const auto& s : by_context_) ok = ok && s.size() == n;
  for (uint32_t r : item_rank_) ok = ok && r < n;
  in.Expect(ok, "trending tables");
  return in.status();
}

uint32_t Trending::FinalCrc() const { return Crc32c(final_.data(), final_.size() * sizeof(float)); }

bool Trending::SaveRetrieval(ModelWriter& out) const {
  if (summaries_.empty()) return false;
  out.Put<uint64_t>(num_items());
  out.Put<uint64_t>(summaries_.size());
  out.Put<uint32_t>(FinalCrc());
  out.Put<uint32_t>(summaries_rank_crc_);
  for (const TableSummary& t : summaries_) {
    out.Put(t.sum);
    out.Put(t.sum_sq);
    out.PutVector(t.best);
  }
  return true;
}

bool Trending::LoadRetrieval(ModelReader& in) {
  uint64_t items = 0, tables = 0;
  uint32_t final_crc = 0, rank_crc = 0;
  if (!in.Get(&items) || !in.Get(&tables) || !in.Get(&final_crc) || !in.Get(&rank_crc)) return false;
  const size_t depth = std::min<size_t>(options_.retrieval_depth, num_items());
  std::vector<TableSummary> got(1 + snapshots_.size() + by_context_.size());
  const bool ours = items == num_items() && tables == got.size() && final_crc == FinalCrc();
  for (uint64_t j = 0; j < tables; ++j) {
    TableSummary t;
    if (!in.Get(&t.sum) || !in.Get(&t.sum_sq) || !in.GetVector(&t.best, num_items())) return false;
    if (ours) got[j] = std::move(t);
  }
  if (!ours) return false;  // another fit's (read in full above, not adopted)
  for (const TableSummary& t : got) {  // built with other options: build them again
    bool ok = t.best.size() == depth;
    for (uint32_t i : t.best) ok = ok && i < items;
    if (!ok) return false;
  }
  summaries_ = std::move(got);
  summaries_adopted_ = true;
  summaries_rank_crc_ = rank_crc;
  return true;
}

}  // namespace recdb::models
