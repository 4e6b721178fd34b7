// Embedding spaces, vectors and similarity search: the public vocabulary.
//
// A space is a named vector space produced by one model (a text or image
// model, or recdb's own learned factors): fixed dimension and metric. Items
// and users may each have one vector per space. Vectors are stored in RocksDB
// (the source of truth); each space keeps an HNSW index over them, derived,
// checkpointed and rebuilt as needed (index/FORMAT.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recdb/export.h"

namespace recdb {

inline constexpr int kMaxVectorDimension = 4096;
inline constexpr size_t kMaxSpaceNameBytes = 64;  // [A-Za-z0-9_.-]+

enum class Metric {
  kCosine,        // score = cosine similarity, in [-1, 1]
  kInnerProduct,  // score = inner product
  kL2,            // score = -(squared Euclidean distance)
};

// Higher score is always more similar, whatever the metric.
RECDB_EXPORT const char* MetricName(Metric m);  // "cosine", "ip", "l2"

enum class EntityKind { kItem, kUser };

struct SpaceOptions {
  std::string name;           // unique; [A-Za-z0-9_.-]{1,64}
  int dimension = 0;          // 1..kMaxVectorDimension
  Metric metric = Metric::kCosine;
  std::string model_name;     // e.g. "all-MiniLM-L6-v2", "recdb-text", "ials"
  std::string model_version;  // free text
  // HNSW parameters. M: graph degree (memory ~ 2*M*4 bytes per vector, recall
  // rises with it); ef_construction: build effort; ef_search: query effort
  // (recall and latency both rise with it). Defaults suit up to ~10M vectors.
  int hnsw_m = 16;
  int hnsw_ef_construction = 200;
  int hnsw_ef_search = 64;

  friend bool operator==(const SpaceOptions&, const SpaceOptions&) = default;
};

struct SpaceInfo {
  SpaceOptions options;
  int64_t item_vectors = 0;
  int64_t user_vectors = 0;
  // Change-log position the on-disk index checkpoint covers (0 = none yet).
  uint64_t checkpoint_sequence = 0;
};

struct VectorRecord {
  std::string id;  // external item or user id
  std::vector<float> values;
};

// Which items a search may return. All given conditions must hold.
struct ItemFilter {
  // Item has at least one of these categories (empty: no condition).
  std::vector<std::string> categories_any;
  // String / bool attributes equal to the given text ("true"/"false" for bools;
  // for string lists: the list contains it).
  std::map<std::string, std::string> attribute_equals;
  struct NumericRange {
    double min = -1e308;
    double max = 1e308;
  };
  // Numeric attributes within [min, max].
  std::map<std::string, NumericRange> attribute_range;
  // Only items whose `available` flag is set. Default: true.
  bool available_only = true;
  // Never return these item ids.
  std::vector<std::string> exclude_ids;

  bool empty() const {
    return categories_any.empty() && attribute_equals.empty() && attribute_range.empty() &&
           !available_only && exclude_ids.empty();
  }
};

struct ScoredItem {
  std::string id;
  float score = 0;  // higher is more similar (see Metric)
};

}  // namespace recdb
