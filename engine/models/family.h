// The family of a blend component, by its name: how its evidence reads in an
// explanation (engine/explain) and whether it is a popularity signal, the only
// kind the cold-start fallback of serving keeps (engine/recommend). One table,
// so that a new component (a plugin's, modules/seq) is classified alike
// everywhere.
#pragma once

#include <string_view>

namespace recdb::models {

enum class Family { kItemBased, kCollaborative, kPopularity, kContent, kSequence };

inline Family FamilyOf(std::string_view component) {
  if (component == "seq") return Family::kSequence;
  if (component == "trending" || component == "mostpop" || component == "context_pop") {
    return Family::kPopularity;
  }
  if (component == "content") return Family::kContent;
  if (component == "ials" || component == "ease") return Family::kCollaborative;
  return Family::kItemBased;  // itemknn, recentknn*, cooc_*
}

}  // namespace recdb::models
