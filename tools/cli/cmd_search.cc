// recdb search DIR --space NAME (--item ID | --vector "0.1,...") [-k N]:
// nearest items in an embedding space, filtered.
#include <cmath>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"

namespace recdb::cli {
namespace {

StatusOr<std::vector<float>> ParseVector(const std::string& text) {
  std::vector<float> v;
  std::stringstream ss(text);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    char* end = nullptr;
    const float f = std::strtof(tok.c_str(), &end);
    while (end != nullptr && (*end == ' ' || *end == '\t')) ++end;
    if (tok.empty() || end == tok.c_str() || *end != '\0' || !std::isfinite(f)) {
      return Status::InvalidArgument("--vector: \"" + tok + "\" is not a finite number");
    }
    v.push_back(f);
  }
  if (v.empty()) return Status::InvalidArgument("--vector is empty");
  return v;
}

int SearchMain(int argc, char** argv) {
  ArgParser args("search", "Find the items nearest to an item or a vector in an embedding space.",
                 "Exactly one of --item and --vector. Scores: higher is more similar\n"
                 "(cosine similarity, inner product, or minus the squared L2 distance).");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("space", "NAME", "the embedding space");
  args.AddFlag("item", "ID", "query with this item's vector (the item itself is excluded)");
  args.AddFlag("vector", "V1,V2,...", "query with this vector");
  args.AddFlag("k", "N", "number of items", "10");
  args.AddRepeatedFlag("category", "NAME", "only items in this category (repeatable: any of them)");
  args.AddSwitch("include-unavailable", "also return items marked unavailable");
  args.AddSwitch("json", "print {\"items\": [{\"id\", \"score\"}]} as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (!args.Has("space")) {
    std::cerr << "recdb search: --space NAME is required\n";
    return kExitUsage;
  }
  if (args.Has("item") == args.Has("vector")) {
    std::cerr << "recdb search: give exactly one of --item ID and --vector V1,V2,...\n";
    return kExitUsage;
  }
  auto k = args.GetInt("k");
  if (!k.ok()) return UsageError("search", k.status());
  if (*k < 1 || *k > 10000) return UsageError("search", "--k: must be in [1, 10000]");
  ItemFilter filter;
  filter.categories_any = args.GetAll("category");
  filter.available_only = !args.Has("include-unavailable");

  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadOnly);
  if (!db.ok()) return Fail("search", db.status());
  const std::string space = args.Get("space");
  StatusOr<std::vector<ScoredItem>> hits = Status::Internal("unset");
  if (args.Has("item")) {
    hits = (*db)->SearchSimilarToItem(space, args.Get("item"), static_cast<size_t>(*k), filter);
  } else {
    auto v = ParseVector(args.Get("vector"));
    if (!v.ok()) return Fail("search", v.status());
    hits = (*db)->SearchSimilar(space, *v, static_cast<size_t>(*k), filter);
  }
  if (!hits.ok()) return Fail("search", hits.status());
  if (args.Has("json")) {
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const ScoredItem& h : *hits) items.push_back({{"id", h.id}, {"score", h.score}});
    std::cout << nlohmann::ordered_json{{"items", items}}.dump(2) << "\n";
  } else {
    int rank = 1;
    for (const ScoredItem& h : *hits) {
      auto item = (*db)->GetItem(h.id);
      std::printf("%3d  %-24s %8.4f  %s\n", rank++, h.id.c_str(), h.score,
                  item.ok() ? item->title.c_str() : "");
    }
    if (hits->empty()) std::cout << "no items match\n";
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("search", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("search", SearchMain, 63, "nearest items in an embedding space");
}  // namespace recdb::cli
