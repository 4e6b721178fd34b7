// `recdb eval DIR --off-policy`: off-policy estimates (IPS, SNIPS) of the
// database's own recommender from its impression log (recdb/off_policy.h).
#pragma once

#include "tools/cli/args.h"

namespace recdb::cli {

// Declares the flags --off-policy uses beyond eval's own (--recommenders,
// the care knobs, --seed, --json).
void AddOffPolicyFlags(ArgParser* args);

// Runs the evaluation `args` describes and prints it; returns the exit code.
int EvalOffPolicy(const ArgParser& args);

}  // namespace recdb::cli
