// Offline metrics on one ranked list (accuracy and beyond-accuracy) and on the
// exposure of a whole run. Every function is pure; lists are item ids, best
// first.
//
// Definitions (documented here because papers differ):
//  - NdcgAtK: binary relevance, DCG = sum 1/log2(rank+2) over hits in the
//    first k; ideal DCG counts min(k, |relevant|) hits. 0 if nothing relevant.
//  - RecallAtK: hits in the first k / min(k, |relevant|).
//  - IntraListDiversity: mean pairwise Jaccard DISTANCE (1 - |A∩B|/|A∪B|)
//    between the category sets of the listed items; two category-less items
//    are at distance 0. 0 for lists shorter than 2.
//  - Novelty: mean self-information -log2(pop(i) / num_users) of the listed
//    items, pop = distinct training users of the item, clamped to >= 1.
//  - Gini: Gini coefficient of exposure counts over the whole catalogue
//    (0 = every item recommended equally often, ->1 = one item gets all).
//  - CalibrationKl (Steck 2018): KL(p || q~) in nats, p = category
//    distribution of the user's history, q = of the list, q~ = (1-a) q + a p.
//    Each item spreads weight 1/|categories| over its categories.
//  - Long-tail share: fraction of listed items outside the short head, the most
//    popular items that together hold `short_head_share` of the interactions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace recdb::eval {

// `relevant` must be sorted ascending.
double NdcgAtK(std::span<const uint32_t> ranked, std::span<const uint32_t> relevant, size_t k);
double RecallAtK(std::span<const uint32_t> ranked, std::span<const uint32_t> relevant, size_t k);

double IntraListDiversity(std::span<const uint32_t> ranked,
                          const std::vector<std::vector<uint32_t>>& item_categories);

double Novelty(std::span<const uint32_t> ranked, std::span<const float> popularity,
               uint32_t num_users);

double Gini(std::span<const double> exposure);

// Category distribution of `items` (size num_categories, sums to 1 unless no
// item has a category, then all zeros).
std::vector<double> CategoryDistribution(std::span<const uint32_t> items,
                                         const std::vector<std::vector<uint32_t>>& item_categories,
                                         uint32_t num_categories);

double CalibrationKl(std::span<const double> p, std::span<const double> q, double alpha = 0.01);

// is_short_head[i]: item i is among the most popular items that together
// account for `share` of the total popularity mass.
std::vector<bool> ShortHead(std::span<const float> popularity, double share);

// Share of `list` outside the short head (ShortHead); 0 for an empty list.
double LongTailShare(std::span<const uint32_t> list, const std::vector<bool>& is_short_head);

}  // namespace recdb::eval
