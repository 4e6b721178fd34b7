// recdb/embed.h over the engine's embedding providers
// (SpaceManager::EmbedItemsWith*, engine/spaces/space_embedding.cc).
#include "recdb/embed.h"

#include "engine/db_impl/db_impl.h"

namespace recdb {

StatusOr<EmbedTextReport> EmbedItemTexts(DB* db, const std::string& space,
                                         const EmbedTextOptions& options) {
  auto* impl = dynamic_cast<DBImpl*>(db);
  if (impl == nullptr || impl->spaces() == nullptr) {
    return Status::NotSupported("EmbedItemTexts: not a database DB::Open returned");
  }
  StatusOr<EmbedReport> report = Status::Internal("unset");
  if (options.builtin) {
    report = impl->spaces()->EmbedItemsWithTextModel(space, options.progress);
  } else {
    EndpointEmbedOptions o;
    o.endpoint.url = options.endpoint_url;
    o.endpoint.model = options.model;
    o.endpoint.api_key = options.api_key;
    o.endpoint.timeout_ms = options.timeout_ms;
    o.endpoint.max_retries = options.max_retries;
    o.fields = options.fields;
    o.batch_size = options.batch_size;
    report = impl->spaces()->EmbedItemsWithEndpoint(space, o, options.progress);
  }
  if (!report.ok()) return report.status();
  EmbedTextReport out;
  out.items = report->items;
  out.embedded = report->embedded;
  out.skipped_empty = report->skipped_empty;
  return out;
}

}  // namespace recdb
