// DBImpl: impressions -- what was shown to whom (engine/rerank/impression_log.h).
#include "engine/db_impl/db_impl.h"

namespace recdb {

Status DBImpl::RecordImpressions(const WriteOptions& wo, const std::string& user,
                                 const std::vector<std::string>& items,
                                 const ImpressionContext& context) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckWritable());
  // Serialised with ForgetUser: the user's iid is resolved and the impression
  // written with no forget in between, so none lands under a forgotten iid
  // after ForgetUser scanned the user's impressions to delete them.
  std::lock_guard write(write_mu_);
  return recommend_->RecordImpressions(wo, user, items, context);
}

}  // namespace recdb
