#include "engine/models/cooccurrence.h"

#include <algorithm>
#include <cmath>

#include "common/parallel_for.h"

namespace recdb::models {

Status Cooccurrence::Fit(const Dataset& data) {
  const CooccurrenceOptions& o = options_;
  if (o.window_events == 0 || o.shrinkage < 0 || !(o.decay > 0) || o.last_items == 0) {
    return Status::InvalidArgument("cooccurrence: bad window, shrinkage or decay");
  }
  const uint32_t n = data.num_items();
  const auto& ev = data.interactions();
  // Occurrences of each item: (user, position in the user's timeline).
  std::vector<uint64_t> occ_ptr(n + 1, 0);
  for (const Interaction& e : ev) ++occ_ptr[e.item + 1];
  for (uint32_t i = 0; i < n; ++i) occ_ptr[i + 1] += occ_ptr[i];
  std::vector<std::pair<uint32_t, uint32_t>> occ(ev.size());
  {
    std::vector<uint64_t> fill(occ_ptr.begin(), occ_ptr.end() - 1);
    for (uint32_t u = 0; u < data.num_users(); ++u) {
      auto tl = data.UserTimeline(u);
      for (uint32_t p = 0; p < tl.size(); ++p) occ[fill[ev[tl[p]].item]++] = {u, p};
    }
  }
  std::vector<double> users(n);
  for (uint32_t i = 0; i < n; ++i) users[i] = static_cast<double>(data.ItemUsers(i).size());

  std::vector<NeighbourRow> rows(n);
  struct Scratch {
    std::vector<uint32_t> count, last_user, touched;
  };
  auto make_scratch = [n] {
    return Scratch{std::vector<uint32_t>(n, 0), std::vector<uint32_t>(n, kUnknownUser), {}};
  };
  ParallelForWithScratch(n, o.threads, 1, make_scratch, [&](Scratch& scratch, size_t item) {
    const uint32_t i = static_cast<uint32_t>(item);
    std::vector<uint32_t>& count = scratch.count;
    std::vector<uint32_t>& last_user = scratch.last_user;
    std::vector<uint32_t>& touched = scratch.touched;
    touched.clear();
    for (uint64_t k = occ_ptr[i]; k < occ_ptr[i + 1]; ++k) {
      const auto [u, p] = occ[k];
      auto tl = data.UserTimeline(u);
      const int64_t t = ev[tl[p]].ts;
      const size_t lo = o.directed ? p + 1 : (p >= o.window_events ? p - o.window_events : 0);
      const size_t hi = std::min<size_t>(tl.size(), static_cast<size_t>(p) + o.window_events + 1);
      for (size_t q = lo; q < hi; ++q) {
        const Interaction& e = ev[tl[q]];
        if (e.item == i || q == p) continue;
        if (o.window_seconds > 0 && std::llabs(e.ts - t) > o.window_seconds) continue;
        if (last_user[e.item] == u) continue;  // distinct users only
        last_user[e.item] = u;
        if (count[e.item]++ == 0) touched.push_back(e.item);
      }
    }
    auto& row = rows[i];
    for (uint32_t j : touched) {
      const double c = count[j];
      if (count[j] >= o.min_users) {
        const double s = c / std::sqrt(users[i] * users[j]) * c / (c + o.shrinkage);
        row.emplace_back(j, static_cast<float>(s));
      }
      count[j] = 0;
      last_user[j] = kUnknownUser;
    }
    KeepMostSimilar(o.neighbours, &row);
  });
  nn_ = ItemNeighbours::FromRows(std::move(rows));
  return Status::OK();
}

void Cooccurrence::Score(const UserQuery& query, std::span<float> scores) const {
  std::fill(scores.begin(), scores.end(), 0.0f);
  ForEachRecentNeighbour(nn_, query.items, options_.last_items, options_.decay,
                         [&](uint32_t item, float s) { scores[item] += s; });
}

bool Cooccurrence::SparseScore(const UserQuery& query, std::vector<ScoredItem>* entries) const {
  ForEachRecentNeighbour(nn_, query.items, options_.last_items, options_.decay,
                         [&](uint32_t item, float s) { entries->push_back({item, s}); });
  return true;
}

bool Cooccurrence::SparseAccumulate(const UserQuery& query, SparseAccumulator* acc) const {
  ForEachRecentNeighbour(nn_, query.items, options_.last_items, options_.decay,
                         [&](uint32_t item, float s) { acc->Add(item, s); });
  return true;
}

std::vector<ScoredItem> Cooccurrence::Neighbours(uint32_t item) const {
  std::vector<ScoredItem> out;
  if (item >= num_items()) return out;
  for (uint64_t k = nn_.ptr[item]; k < nn_.ptr[item + 1]; ++k) out.push_back({nn_.item[k], nn_.sim[k]});
  return out;
}

}  // namespace recdb::models

namespace recdb::models {

Status Cooccurrence::Save(ModelWriter& out) const {
  SaveNeighbours(nn_, out);
  return Status::OK();
}

Status Cooccurrence::Load(ModelReader& in) {
  LoadNeighbours(in, &nn_);
  return in.status();
}

}  // namespace recdb::models
