#include "tools/bench/bench.h"

namespace recdb::bench {

std::map<std::string, BenchInfo>& Registry() {
  static std::map<std::string, BenchInfo> registry;
  return registry;
}

}  // namespace recdb::bench
