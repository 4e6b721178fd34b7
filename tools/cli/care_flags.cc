#include "tools/cli/care_flags.h"

#include <utility>

namespace recdb::cli {

StatusOr<bool> ReadCareFlags(const ArgParser& args, CareOptions* care) {
  bool any = false;
  for (const auto& [flag, knob] : {std::pair<const char*, double*>{"diversity", &care->diversity},
                                   {"calibration", &care->calibration},
                                   {"fair-share", &care->fair_share},
                                   {"exploration", &care->exploration}}) {
    if (!args.Has(flag)) continue;
    auto v = args.GetDouble(flag);
    if (!v.ok()) return v.status();
    *knob = *v;
    any = true;
  }
  if (args.Has("calibration-recent")) {
    auto v = args.GetInt("calibration-recent");
    if (!v.ok()) return v.status();
    if (*v < 0) return Status::InvalidArgument("--calibration-recent must be >= 0");
    care->calibration_recent_items = static_cast<size_t>(*v);
    any = true;
  }
  return any;
}

void AddCareFlags(ArgParser* args) {
  args->AddFlag("diversity", "X", "care: MMR diversity over categories, in [0, 1]");
  args->AddFlag("calibration", "X", "care: follow the history's category mix, in [0, 1]");
  args->AddFlag("calibration-recent", "N",
                "care: calibration counts the last N distinct items with the list (0 = off)");
  args->AddFlag("fair-share", "X", "care: minimum share of long-tail slots, in [0, 1]");
  args->AddFlag("exploration", "X", "care: share of exploration slots, in [0, 1]");
}

}  // namespace recdb::cli
