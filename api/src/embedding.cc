#include "recdb/embedding.h"

namespace recdb {

const char* MetricName(Metric m) {
  switch (m) {
    case Metric::kCosine: return "cosine";
    case Metric::kInnerProduct: return "ip";
    case Metric::kL2: return "l2";
  }
  return "unknown";
}

}  // namespace recdb
