// DBImpl: impressions -- what was shown to whom (engine/rerank/impression_log.h).
#include "engine/db_impl/db_impl.h"
#include "engine/no_throw.h"
#include "engine/rerank/impression_log.h"

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

StatusOr<std::vector<ShownList>> DBImpl::GetUserImpressions(const std::string& user_id) {
  return NoThrow([&]() -> StatusOr<std::vector<ShownList>> {
    std::shared_lock lifecycle(lifecycle_mu_);
    RECDB_RETURN_IF_ERROR(CheckOpen());
    std::optional<uint32_t> uid = FindUserIid(user_id);
    if (!uid) return Status::NotFound("no user \"" + user_id + "\"");
    RECDB_ASSIGN_OR_RETURN(
        std::vector<rerank::Shown> shown,
        rerank::ImpressionLog(this).UserImpressions(*uid, kMinTimestamp, kMaxTimestamp + 1,
                                                    /*with_context=*/true));
    std::vector<ShownList> out(shown.size());
    for (size_t i = 0; i < shown.size(); ++i) {
      for (uint32_t iid : shown[i].items) out[i].items.push_back(ItemExternalId(iid));
      out[i].context.timestamp = shown[i].timestamp;
      out[i].context.context = std::move(shown[i].context);
      out[i].context.propensities = std::move(shown[i].propensities);
    }
    return out;
  });
}

}  // namespace recdb
