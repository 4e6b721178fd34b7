// Only in librecdb_seq.so: registers the component when the core dlopen()s
// the plugin (engine/models/component_registry.h).
#include "modules/seq/seq_recommender.h"

namespace {
[[maybe_unused]] const bool kRegistered = (recdb::seq::RegisterSeqComponent(), true);
}  // namespace
