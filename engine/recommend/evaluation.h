// Offline evaluation of every recommender on a Dataset with the DESIGN.md
// protocol (engine/eval/), as `recdb eval DIR` and DB::Evaluate report it.
#pragma once

#include "engine/models/dataset.h"
#include "recdb/recommend.h"
#include "recdb/status.h"

namespace recdb {

// Splits `data` by time, fits each requested recommender on the train part
// (the fused one learns its weights on a validation split carved from that
// train part only) and measures it on the test part.
// Errors: InvalidArgument for an unknown recommender name.
StatusOr<EvaluationReport> EvaluateRecommenders(const models::Dataset& data,
                                                const EvaluateOptions& options);

}  // namespace recdb
