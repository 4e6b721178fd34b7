#include "engine/eval/movielens.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace recdb::eval {

namespace {

std::vector<std::string> SplitFields(std::string line) {
  for (size_t p; (p = line.find("::")) != std::string::npos;) line.replace(p, 2, "\t");
  std::replace(line.begin(), line.end(), ',', '\t');
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(std::move(f));
  return out;
}

// Dense ids in ItemIdLess order.
std::unordered_map<std::string, uint32_t> DenseIds(std::vector<std::string>& ids) {
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
    return models::ItemIdLess(a, b);
  });
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::unordered_map<std::string, uint32_t> map;
  for (uint32_t k = 0; k < ids.size(); ++k) map.emplace(ids[k], k);
  return map;
}

}  // namespace

StatusOr<models::Dataset> LoadMovieLens(const std::string& ratings_path,
                                        const std::string& items_path) {
  std::ifstream in(ratings_path);
  if (!in) return Status::IOError("cannot read " + ratings_path);
  struct Row {
    std::string user, item;
    int64_t ts;
  };
  std::vector<Row> rows;
  std::string line;
  for (size_t lineno = 1; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r\n") == std::string::npos || line.rfind("userId", 0) == 0) {
      continue;
    }
    auto f = SplitFields(line);
    if (f.size() < 4) {
      return Status::Corruption(ratings_path + ":" + std::to_string(lineno) + ": too few fields");
    }
    double ts = 0;
    try {
      ts = std::stod(f[3]);
    } catch (...) {
      return Status::Corruption(ratings_path + ":" + std::to_string(lineno) + ": bad timestamp");
    }
    rows.push_back({f[0], f[1], static_cast<int64_t>(ts)});
  }
  std::vector<std::string> users, items;
  for (const Row& r : rows) users.push_back(r.user), items.push_back(r.item);
  auto user_id = DenseIds(users);
  auto item_id = DenseIds(items);

  models::DatasetSpec spec;
  spec.num_users = static_cast<uint32_t>(users.size());
  spec.num_items = static_cast<uint32_t>(items.size());
  spec.interactions.reserve(rows.size());
  for (const Row& r : rows) {
    spec.interactions.push_back({user_id[r.user], item_id[r.item], r.ts, 1.0f, models::kNoContext});
  }
  spec.item_ids = items;

  if (!items_path.empty()) {
    std::ifstream it(items_path, std::ios::binary);  // ISO-8859-1: bytes are fine
    if (!it) return Status::IOError("cannot read " + items_path);
    constexpr uint32_t kGenres = 19;
    spec.num_categories = kGenres;
    spec.item_categories.assign(spec.num_items, {});
    for (size_t lineno = 1; std::getline(it, line); ++lineno) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      std::vector<std::string> f;
      size_t start = 0;
      for (size_t p; (p = line.find('|', start)) != std::string::npos; start = p + 1) {
        f.push_back(line.substr(start, p - start));
      }
      f.push_back(line.substr(start));
      if (f.size() < kGenres + 1) {
        return Status::Corruption(items_path + ":" + std::to_string(lineno) + ": too few fields");
      }
      auto found = item_id.find(f[0]);
      if (found == item_id.end()) continue;  // an item nobody rated
      auto& cats = spec.item_categories[found->second];
      for (uint32_t g = 0; g < kGenres; ++g) {
        if (f[f.size() - kGenres + g] == "1") cats.push_back(g);
      }
    }
  }
  return models::Dataset::Build(std::move(spec));
}

StatusOr<models::Dataset> LoadMovieLens100k(const std::string& dir) {
  std::string items = dir + "/u.item";
  if (!std::filesystem::exists(items)) items.clear();
  return LoadMovieLens(dir + "/u.data", items);
}

}  // namespace recdb::eval
