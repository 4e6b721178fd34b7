#include "engine/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace recdb::eval {

namespace {

size_t Hits(std::span<const uint32_t> ranked, std::span<const uint32_t> relevant, size_t k) {
  size_t hits = 0;
  for (size_t r = 0; r < std::min(k, ranked.size()); ++r) {
    hits += std::binary_search(relevant.begin(), relevant.end(), ranked[r]) ? 1 : 0;
  }
  return hits;
}

}  // namespace

double NdcgAtK(std::span<const uint32_t> ranked, std::span<const uint32_t> relevant, size_t k) {
  if (relevant.empty() || k == 0) return 0.0;
  double dcg = 0.0;
  for (size_t r = 0; r < std::min(k, ranked.size()); ++r) {
    if (std::binary_search(relevant.begin(), relevant.end(), ranked[r])) {
      dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    }
  }
  double idcg = 0.0;
  for (size_t r = 0; r < std::min(k, relevant.size()); ++r) {
    idcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
  }
  return dcg / idcg;
}

double RecallAtK(std::span<const uint32_t> ranked, std::span<const uint32_t> relevant, size_t k) {
  if (relevant.empty() || k == 0) return 0.0;
  return static_cast<double>(Hits(ranked, relevant, k)) /
         static_cast<double>(std::min(k, relevant.size()));
}

double IntraListDiversity(std::span<const uint32_t> ranked,
                          const std::vector<std::vector<uint32_t>>& item_categories) {
  if (ranked.size() < 2 || item_categories.empty()) return 0.0;
  double sum = 0.0;
  size_t pairs = 0;
  for (size_t a = 0; a < ranked.size(); ++a) {
    const auto& ca = item_categories[ranked[a]];
    for (size_t b = a + 1; b < ranked.size(); ++b) {
      const auto& cb = item_categories[ranked[b]];
      size_t inter = 0, x = 0, y = 0;
      while (x < ca.size() && y < cb.size()) {
        if (ca[x] == cb[y]) {
          ++inter, ++x, ++y;
        } else if (ca[x] < cb[y]) {
          ++x;
        } else {
          ++y;
        }
      }
      const size_t uni = ca.size() + cb.size() - inter;
      sum += uni == 0 ? 0.0 : 1.0 - static_cast<double>(inter) / static_cast<double>(uni);
      ++pairs;
    }
  }
  return sum / static_cast<double>(pairs);
}

double Novelty(std::span<const uint32_t> ranked, std::span<const float> popularity,
               uint32_t num_users) {
  if (ranked.empty() || num_users == 0) return 0.0;
  double sum = 0.0;
  for (uint32_t i : ranked) {
    const double pop = std::max(1.0, static_cast<double>(popularity[i]));
    sum += -std::log2(pop / num_users);
  }
  return sum / static_cast<double>(ranked.size());
}

double Gini(std::span<const double> exposure) {
  const size_t n = exposure.size();
  if (n == 0) return 0.0;
  std::vector<double> x(exposure.begin(), exposure.end());
  std::sort(x.begin(), x.end());
  const double total = std::accumulate(x.begin(), x.end(), 0.0);
  if (total <= 0.0) return 0.0;
  double num = 0.0;
  for (size_t i = 0; i < n; ++i) {
    num += (2.0 * static_cast<double>(i + 1) - static_cast<double>(n) - 1.0) * x[i];
  }
  return num / (static_cast<double>(n) * total);
}

std::vector<double> CategoryDistribution(std::span<const uint32_t> items,
                                         const std::vector<std::vector<uint32_t>>& item_categories,
                                         uint32_t num_categories) {
  std::vector<double> dist(num_categories, 0.0);
  if (item_categories.empty()) return dist;
  double total = 0.0;
  for (uint32_t i : items) {
    const auto& cats = item_categories[i];
    if (cats.empty()) continue;
    const double w = 1.0 / static_cast<double>(cats.size());
    for (uint32_t c : cats) dist[c] += w;
    total += 1.0;
  }
  if (total > 0) {
    for (double& v : dist) v /= total;
  }
  return dist;
}

double CalibrationKl(std::span<const double> p, std::span<const double> q, double alpha) {
  double kl = 0.0;
  for (size_t g = 0; g < p.size(); ++g) {
    if (p[g] <= 0.0) continue;
    const double qt = (1.0 - alpha) * q[g] + alpha * p[g];
    kl += p[g] * std::log(p[g] / qt);
  }
  return kl;
}

std::vector<bool> ShortHead(std::span<const float> popularity, double share) {
  std::vector<uint32_t> order(popularity.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return popularity[a] > popularity[b]; });
  const double total = std::accumulate(popularity.begin(), popularity.end(), 0.0);
  std::vector<bool> head(popularity.size(), false);
  double acc = 0.0;
  for (uint32_t i : order) {
    if (acc >= share * total) break;
    head[i] = true;
    acc += popularity[i];
  }
  return head;
}

double LongTailShare(std::span<const uint32_t> list, const std::vector<bool>& is_short_head) {
  if (list.empty()) return 0.0;
  size_t tail = 0;
  for (uint32_t i : list) tail += is_short_head[i] ? 0 : 1;
  return static_cast<double>(tail) / list.size();
}

}  // namespace recdb::eval
