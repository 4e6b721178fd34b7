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
  if (args.Has("calibration-recent")) {  // declared by the commands that take it
    auto v = args.GetInt("calibration-recent");
    if (!v.ok()) return v.status();
    if (*v < 0) return Status::InvalidArgument("--calibration-recent must be >= 0");
    care->calibration_recent_items = static_cast<size_t>(*v);
    any = true;
  }
  return any;
}

}  // namespace recdb::cli
