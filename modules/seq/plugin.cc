// The plugin's entry: loading librecdb_seq.so registers the "seq" component
// (engine/models/component_registry.h).
#include "engine/models/component_registry.h"
#include "modules/seq/seq_recommender.h"

namespace recdb::seq {

void RegisterSeqComponent(const SeqOptions& base) {
  models::RegisterComponent("seq", [base](const models::ComponentConfig& config) -> models::RecommenderFactory {
    (void)config;  // the blend's thread count is not used: SeqOptions::threads
    return [base]() -> std::unique_ptr<models::Recommender> {
      return std::make_unique<SeqRecommender>(base);
    };
  }, /*in_default_blend=*/false);  // opt in: RECDB_COMPONENTS=seq (README.md)
}

}  // namespace recdb::seq
