#include "engine/models/item_knn.h"

#include <algorithm>
#include <cmath>

#include "common/parallel_for.h"

namespace recdb::models {

void KeepMostSimilar(size_t keep, NeighbourRow* row) {
  auto by_sim = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (keep > 0 && row->size() > keep) {
    std::partial_sort(row->begin(), row->begin() + keep, row->end(), by_sim);
    row->resize(keep);
  } else {
    std::sort(row->begin(), row->end(), by_sim);
  }
}

ItemNeighbours ItemNeighbours::FromRows(std::vector<NeighbourRow> rows) {
  const size_t n = rows.size();
  std::vector<uint64_t> ptr(n + 1, 0);
  for (size_t i = 0; i < n; ++i) ptr[i + 1] = ptr[i] + rows[i].size();
  std::vector<uint32_t> item;
  std::vector<float> sim;
  item.reserve(ptr[n]);
  sim.reserve(ptr[n]);
  for (NeighbourRow& row : rows) {
    for (auto [j, s] : row) item.push_back(j), sim.push_back(s);
    NeighbourRow().swap(row);
  }
  ItemNeighbours nn;
  nn.ptr = StoredArray<uint64_t>(std::move(ptr));
  nn.item = StoredArray<uint32_t>(std::move(item));
  nn.sim = StoredArray<float>(std::move(sim));
  return nn;
}

ItemNeighbours BuildCosineNeighbours(const Dataset& data, size_t keep, int threads) {
  const uint32_t n = data.num_items();
  std::vector<float> norm(n);
  for (uint32_t i = 0; i < n; ++i) {
    norm[i] = std::sqrt(static_cast<float>(data.ItemUsers(i).size())) + 1e-9f;
  }
  std::vector<NeighbourRow> rows(n);
  struct Scratch {
    std::vector<uint32_t> count;
    std::vector<uint32_t> touched;
  };
  auto make_scratch = [n] { return Scratch{std::vector<uint32_t>(n, 0), {}}; };
  ParallelForWithScratch(n, threads, 1, make_scratch, [&](Scratch& scratch, size_t item) {
    const uint32_t i = static_cast<uint32_t>(item);
    std::vector<uint32_t>& count = scratch.count;
    std::vector<uint32_t>& touched = scratch.touched;
    touched.clear();
    for (uint32_t u : data.ItemUsers(i)) {
      for (uint32_t j : data.UserItems(u)) {
        if (count[j]++ == 0) touched.push_back(j);
      }
    }
    auto& row = rows[i];
    row.reserve(touched.size());
    for (uint32_t j : touched) {
      if (j != i) row.emplace_back(j, static_cast<float>(count[j]) / (norm[i] * norm[j]));
      count[j] = 0;
    }
    KeepMostSimilar(keep, &row);
  });
  return ItemNeighbours::FromRows(std::move(rows));
}

std::shared_ptr<const ItemNeighbours> NeighbourCache::Cosine(const Dataset& data, size_t keep,
                                                             int threads) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool same = nn_ && data_ == &data && interactions_ == data.interactions().data() &&
                    events_ == data.interactions().size() && users_ == data.num_users() &&
                    items_ == data.num_items() && keep_ == keep;
  if (!same) {
    nn_.reset();  // frees the old table before the new one is built
    nn_ = std::make_shared<const ItemNeighbours>(BuildCosineNeighbours(data, keep, threads));
    data_ = &data;
    interactions_ = data.interactions().data();
    events_ = data.interactions().size();
    users_ = data.num_users();
    items_ = data.num_items();
    keep_ = keep;
  }
  return nn_;
}

Status ItemKnn::Fit(const Dataset& data) {
  nn_ = BuildCosineNeighbours(data, options_.neighbours, options_.threads);
  return Status::OK();
}

void ItemKnn::Score(const UserQuery& query, std::span<float> scores) const {
  std::fill(scores.begin(), scores.end(), 0.0f);
  ForEachHistoryNeighbour(nn_, query.items, [&](uint32_t item, float s) { scores[item] += s; });
}

bool ItemKnn::SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const {
  ForEachHistoryNeighbour(nn_, query.items,
                          [&](uint32_t item, float s) { entries->push_back({item, s}); });
  return true;
}

bool ItemKnn::SparseAccumulate(const UserQuery& query, SparseAccumulator* acc) const {
  ForEachHistoryNeighbour(nn_, query.items, [&](uint32_t item, float s) { acc->Add(item, s); });
  return true;
}

Status RecentKnn::Fit(const Dataset& data) {
  if (!(options_.decay > 0.0) || options_.last_items == 0) {
    return Status::InvalidArgument("recentknn: decay must be > 0 and last_items >= 1");
  }
  nn_.reset();
  nn_ = options_.cache ? options_.cache->Cosine(data, options_.neighbours, options_.threads)
                       : std::make_shared<const ItemNeighbours>(
                             BuildCosineNeighbours(data, options_.neighbours, options_.threads));
  return Status::OK();
}

void RecentKnn::Score(const UserQuery& query, std::span<float> scores) const {
  std::fill(scores.begin(), scores.end(), 0.0f);
  if (!nn_) return;
  ForEachRecentNeighbour(*nn_, query.items, options_.last_items, options_.decay,
                         [&](uint32_t item, float s) { scores[item] += s; }, options_.neighbours);
}

bool RecentKnn::SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const {
  if (!nn_) return true;
  ForEachRecentNeighbour(*nn_, query.items, options_.last_items, options_.decay,
                         [&](uint32_t item, float s) { entries->push_back({item, s}); },
                         options_.neighbours);
  return true;
}

bool RecentKnn::SparseAccumulate(const UserQuery& query, SparseAccumulator* acc) const {
  if (!nn_) return true;
  ForEachRecentNeighbour(*nn_, query.items, options_.last_items, options_.decay,
                         [&](uint32_t item, float s) { acc->Add(item, s); }, options_.neighbours);
  return true;
}

}  // namespace recdb::models

namespace recdb::models {

void SaveNeighbours(const ItemNeighbours& nn, ModelWriter& out) {
  out.PutStored(nn.ptr.span());
  out.PutStored(nn.item.span());
  out.PutStored(nn.sim.span());
}

bool LoadNeighbours(ModelReader& in, ItemNeighbours* nn) {
  if (!in.GetStored(&nn->ptr) || !in.GetStored(&nn->item) || !in.GetStored(&nn->sim)) return false;
  // CSR invariants: monotone offsets ending at the entry count, ids in range.
  const uint32_t n = nn->num_items();
  bool ok = nn->item.size() == nn->sim.size() && (nn->ptr.empty() || nn->ptr[0] == 0) &&
            (nn->ptr.empty() ? nn->item.empty() : nn->ptr.back() == nn->item.size());
  for (size_t i = 1; ok && i < nn->ptr.size(); ++i) ok = nn->ptr[i - 1] <= nn->ptr[i];
  for (size_t e = 0; ok && e < nn->item.size(); ++e) ok = nn->item[e] < n;
  return in.Expect(ok, "neighbour lists");
}

Status ItemKnn::Save(ModelWriter& out) const {
  SaveNeighbours(nn_, out);
  return Status::OK();
}

Status ItemKnn::Load(ModelReader& in) {
  LoadNeighbours(in, &nn_);
  return in.status();
}

Status RecentKnn::Save(ModelWriter& out) const {
  if (!nn_) return Status::FailedPrecondition("recentknn: not fitted");
  out.PutShared<ItemNeighbours>(nn_, SaveNeighbours);
  return Status::OK();
}

Status RecentKnn::Load(ModelReader& in) {
  nn_.reset();
  in.GetShared<ItemNeighbours>(&nn_, LoadNeighbours);
  return in.status();
}

}  // namespace recdb::models
