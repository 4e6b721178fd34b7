#include "engine/explain/explainer.h"

#include <algorithm>
#include <cmath>

#include "engine/models/cooccurrence.h"
#include "engine/models/family.h"

namespace recdb::explain {

namespace {

using models::Family;
using models::FamilyOf;

std::string Percent(double share) {
  return std::to_string(static_cast<int>(std::lround(share * 100))) + "%";
}

Evidence Make(std::string kind, std::string text) {
  Evidence e;
  e.kind = std::move(kind);
  e.text = std::move(text);
  return e;
}

}  // namespace

std::vector<uint32_t> CitableItems(std::span<const HistoryEvent> events) {
  // Per event type, the range and mean of the user's values. A user has
  // events of a handful of types: a linear scan beats a map.
  struct Range {
    uint16_t type = 0;
    double sum = 0, min = 0, max = 0;
    size_t count = 0;
  };
  std::vector<Range> ranges;
  auto range_of = [&ranges](uint16_t type) -> Range& {
    for (Range& r : ranges) {
      if (r.type == type) return r;
    }
    ranges.push_back(Range{type});
    return ranges.back();
  };
  for (const HistoryEvent& e : events) {
    if (!e.has_value) continue;
    Range& r = range_of(e.type);
    if (r.count == 0) r.min = r.max = e.value;
    r.sum += e.value;
    r.min = std::min(r.min, e.value);
    r.max = std::max(r.max, e.value);
    ++r.count;
  }
  std::vector<uint32_t> low;
  for (const HistoryEvent& e : events) {
    if (!e.has_value) continue;
    const Range& r = range_of(e.type);
    const double neutral = std::max(r.sum / r.count, (r.min + r.max) / 2);
    if (e.value < neutral) low.push_back(e.item);
  }
  std::sort(low.begin(), low.end());
  std::vector<uint32_t> out;
  out.reserve(events.size());
  for (const HistoryEvent& e : events) {
    if (!std::binary_search(low.begin(), low.end(), e.item)) out.push_back(e.item);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void ExplainResult(const ExplainContext& ctx, uint32_t item, const rerank::Placed* placed,
                   Recommendation* rec) {
  Explanation& ex = rec->explanation;
  ex.evidence.clear();

  // Shares: each recommender's positive contribution over the sum of them.
  double positive = 0;
  for (const auto& [name, c] : rec->contributions) positive += std::max(0.0, c);
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [name, c] : rec->contributions) {
    if (c > 0 && positive > 0) ranked.push_back({c / positive, name});
  }
  // No recommender contributed positively (every part below its average, a
  // weak list under a narrow filter): no recommender is named as the reason,
  // and no share is claimed for one.
  std::sort(ranked.rbegin(), ranked.rend());
  for (const auto& [share, name] : ranked) {
    Evidence e = Make("recommender", name + " (" + Percent(share) + ")");
    e.recommender = name;
    e.share = share;
    ex.evidence.push_back(std::move(e));
  }

  // The user's own item that best explains it: the history item with the
  // strongest co-occurrence with the recommended one.
  std::string because;
  if (ctx.cooccurrence && !ctx.reasons.empty()) {
    // ctx.reasons is sorted (CitableItems).
    float best = 0;
    uint32_t best_item = 0;
    for (const auto& nb : ctx.cooccurrence->Neighbours(item)) {
      if (nb.score > best &&
          std::binary_search(ctx.reasons.begin(), ctx.reasons.end(), nb.item)) {
        best = nb.score, best_item = nb.item;
      }
    }
    if (best > 0) {
      because = ctx.catalog->Title(best_item);
      Evidence e = Make("because_item", "you interacted with " + because);
      e.recommender = "cooc_symmetric";
      e.item = ctx.external_id(best_item);
      ex.evidence.push_back(std::move(e));
    }
  }

  // The recent items the sequence model attended to, when it contributed.
  std::string attended;
  if (!ctx.attended.empty() && !ctx.attended_by.empty()) {
    bool contributed = false;
    for (const auto& [share, name] : ranked) contributed = contributed || name == ctx.attended_by;
    if (contributed) {
      for (size_t i = 0; i < ctx.attended.size() && i < 2; ++i) {
        if (i) attended += " and ";
        attended += ctx.catalog->Title(ctx.attended[i]);
      }
      Evidence e = Make("attended_items", "you just interacted with " + attended);
      e.recommender = ctx.attended_by;
      e.item = ctx.external_id(ctx.attended[0]);
      ex.evidence.push_back(std::move(e));
    }
  }

  // Trending in one of its own categories.
  std::string popular_in;
  if (ctx.facts && item < ctx.facts->categories.size()) {
    for (uint32_t c : ctx.facts->categories[item]) {
      if (!ctx.facts->TrendingIn(item, c)) continue;
      popular_in = ctx.catalog->CategoryName(c);
      if (popular_in.empty()) continue;
      Evidence e = Make("popular_in_category", "popular in " + popular_in + " this week");
      e.category = popular_in;
      ex.evidence.push_back(std::move(e));
      break;
    }
  }

  // What the care stages did.
  std::string care_sentence;
  const auto category_name = [&](uint32_t c) {
    return c == rerank::kNoCategory ? std::string() : ctx.catalog->CategoryName(c);
  };
  if (ctx.boosted) ex.evidence.push_back(Make("boosted", "promoted by a business rule"));
  if (placed) {
    switch (placed->why) {
      case rerank::Placement::kPinned:
        ex.evidence.push_back(Make("pinned", "pinned to the top by a business rule"));
        care_sentence = "Featured.";
        break;
      case rerank::Placement::kExploration:
        if (rec->contributions.empty()) {  // a cold item no recommender ranked
          ex.evidence.push_back(Make("exploration", "new: not yet seen by enough people to rank"));
          care_sentence = "New here: we are finding out who likes it.";
        } else {
          ex.evidence.push_back(Make("exploration", "new, and close to what you like"));
          care_sentence = "New, and close to what you like.";
        }
        break;
      case rerank::Placement::kDiversity: {
        const std::string cat = category_name(placed->category);
        Evidence e = Make("diversity", cat.empty() ? "added for variety"
                                                   : "added for variety: " + cat);
        e.category = cat;
        ex.evidence.push_back(std::move(e));
        // Only an item relevance alone would not have listed was "added".
        if (placed->relevance_rank >= ctx.k) {
          care_sentence = cat.empty() ? "Added for variety." : "Added for variety: some " + cat + ".";
        }
        break;
      }
      case rerank::Placement::kCalibration: {
        const std::string cat = category_name(placed->category);
        Evidence e = Make("calibration", cat.empty() ? "keeps the list's mix close to your history"
                                                     : "you also like " + cat);
        e.category = cat;
        ex.evidence.push_back(std::move(e));
        if (placed->relevance_rank >= ctx.k && !cat.empty()) {
          care_sentence = "Because you also like " + cat + ".";
        }
        break;
      }
      case rerank::Placement::kFairness:
        ex.evidence.push_back(
            Make("fair_exposure", "a less-known item, given a fair share of the list"));
        care_sentence = "A less-known pick, so the list is not only the most popular.";
        break;
      case rerank::Placement::kRelevance:
        break;
    }
  }

  // The sentence names the main reason: the recommender with the largest
  // positive contribution, and "because you interacted with X" only when
  // that recommender is item-based (X is its evidence).
  const std::string top = ranked.empty() ? "" : ranked.front().second;
  if (ctx.cold_start && care_sentence.empty()) {
    Evidence e = Make("cold_start",
                      "no history to go on: the popularity fallback every new visitor gets");
    ex.evidence.push_back(std::move(e));
    const std::string why = ctx.personal ? "recdb does not know your tastes yet."
                                          : "personalisation is off for you.";
    ex.sentence = popular_in.empty() ? "Popular right now; " + why
                                     : "Popular in " + popular_in + " this week; " + why;
    return;
  }
  if (!care_sentence.empty()) {
    ex.sentence = care_sentence;
    if (!because.empty() && placed && placed->why != rerank::Placement::kPinned) {
      ex.sentence.pop_back();  // one sentence: "Added for variety (you interacted with X)."
      ex.sentence += " (you interacted with " + because + ").";
    }
  } else if (!top.empty() && FamilyOf(top) == Family::kPopularity) {
    if (top == "context_pop") {
      ex.sentence = "Popular with people in your situation right now.";
    } else {
      ex.sentence = popular_in.empty() ? "Popular right now with people on this service."
                                       : "Popular in " + popular_in + " this week.";
    }
  } else if (!top.empty() && FamilyOf(top) == Family::kContent) {
    ex.sentence = "Close to what you like.";
  } else if (!top.empty() && FamilyOf(top) == Family::kSequence && !attended.empty()) {
    ex.sentence = "Because you just interacted with " + attended + ".";
  } else if (!top.empty() && FamilyOf(top) == Family::kSequence) {
    ex.sentence = "What usually comes next after your latest items.";
  } else if (!top.empty() && FamilyOf(top) == Family::kCollaborative) {
    ex.sentence = "People with tastes like yours liked it.";
  } else if (!top.empty() && !because.empty()) {
    ex.sentence = "Because you interacted with " + because + ".";
  } else if (!top.empty()) {
    ex.sentence = "Often chosen together with items in your history.";
  } else {
    ex.sentence = "No recommender scored it above its average; it fills the list.";
  }
}

void ExplainSimilar(const std::string& seed_title, Recommendation* rec) {
  Explanation& ex = rec->explanation;
  std::string top;  // evidence is ordered: the first recommender has the largest share
  for (Evidence& e : ex.evidence) {
    if (e.kind == "recommender" && top.empty()) top = e.recommender;
    if (e.kind == "because_item") e.text = "often chosen together with " + seed_title;
  }
  // Care stages (diversity, pins, ...) stay in the evidence; the sentence is
  // about the seed item, since there is no user to address.
  if (top.empty()) {
    ex.sentence = "Listed after the items most similar to " + seed_title + ".";
    return;
  }
  switch (FamilyOf(top)) {
    case Family::kPopularity:
      ex.sentence = "Popular with people who chose " + seed_title + ".";
      break;
    case Family::kContent:
      ex.sentence = "Close in content to " + seed_title + ".";
      break;
    case Family::kCollaborative:
      ex.sentence = "People who liked " + seed_title + " liked it too.";
      break;
    case Family::kSequence:
      ex.sentence = "Often chosen right after " + seed_title + ".";
      break;
    case Family::kItemBased:
      ex.sentence = "Often chosen together with " + seed_title + ".";
      break;
  }
}

}  // namespace recdb::explain
