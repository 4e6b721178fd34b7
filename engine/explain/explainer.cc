#include "engine/explain/explainer.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/models/cooccurrence.h"

namespace recdb::explain {

namespace {

// How a recommender's evidence reads in an explanation.
enum class Family { kItemBased, kCollaborative, kPopularity, kContent };

Family FamilyOf(const std::string& name) {
  if (name == "trending" || name == "mostpop" || name == "context_pop") return Family::kPopularity;
  if (name == "content") return Family::kContent;
  if (name == "ials" || name == "ease") return Family::kCollaborative;
  return Family::kItemBased;  // itemknn, recentknn*, cooc_*
}

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
  if (ranked.empty() && !rec->contributions.empty()) {
    // Every part is below the user's average (a weak list, e.g. a narrow
    // filter): the least negative recommender is what placed it.
    auto best = std::max_element(rec->contributions.begin(), rec->contributions.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    ranked.push_back({1.0, best->first});
  }
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
  if (ctx.cooccurrence && !ctx.history.empty()) {
    std::set<uint32_t> in_history(ctx.history.begin(), ctx.history.end());
    float best = 0;
    uint32_t best_item = 0;
    for (const auto& nb : ctx.cooccurrence->Neighbours(item)) {
      if (in_history.count(nb.item) && nb.score > best) best = nb.score, best_item = nb.item;
    }
    if (best > 0) {
      because = ctx.catalog->Title(best_item);
      Evidence e = Make("because_item", "you interacted with " + because);
      e.recommender = "cooc_symmetric";
      e.item = ctx.external_id(best_item);
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
        ex.evidence.push_back(Make("exploration", "new, and close to what you like"));
        care_sentence = "New, and close to what you like.";
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

  const std::string top = ranked.empty() ? "" : ranked.front().second;
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
  } else if (!because.empty()) {
    ex.sentence = "Because you interacted with " + because + ".";
  } else if (!top.empty() && FamilyOf(top) == Family::kCollaborative) {
    ex.sentence = "People with tastes like yours liked it.";
  } else if (!top.empty()) {
    ex.sentence = "Often chosen together with items in your history.";
  } else {
    ex.sentence = "Ranked by the blend of recdb's recommenders.";
  }
}

}  // namespace recdb::explain
