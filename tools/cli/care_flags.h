// The care knob flags shared by `recdb recommend`, `recdb eval` and
// `recdb eval --off-policy`: AddCareFlags is the one place that declares
// them and ReadCareFlags the one place that reads them.
#pragma once

#include "recdb/care.h"
#include "recdb/status.h"
#include "tools/cli/args.h"

namespace recdb::cli {

// Sets each of --diversity, --calibration, --fair-share, --exploration and
// --calibration-recent (CareOptions::calibration_recent_items) that is given
// on *care; returns whether any was. InvalidArgument (a usage
// error) for a value that is not a number.
StatusOr<bool> ReadCareFlags(const ArgParser& args, CareOptions* care);

// Declares those five flags on *args (the exploration seed, which each
// command documents in its own terms, is declared by the command).
void AddCareFlags(ArgParser* args);

}  // namespace recdb::cli
