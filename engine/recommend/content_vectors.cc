#include "engine/recommend/content_vectors.h"

#include "engine/db_impl/db_impl.h"
#include "engine/spaces/space_manager.h"

namespace recdb {

StatusOr<std::string> ChooseContentSpace(DBImpl& db, const std::string& requested) {
  if (requested == "none" || db.spaces() == nullptr) return std::string();
  if (!requested.empty()) {
    RECDB_ASSIGN_OR_RETURN(SpaceInfo info, db.spaces()->DescribeSpace(requested));
    if (info.options.metric != Metric::kCosine) {
      return Status::InvalidArgument("content space '" + requested + "' must use the cosine metric");
    }
    return requested;
  }
  RECDB_ASSIGN_OR_RETURN(std::vector<SpaceInfo> spaces, db.spaces()->ListSpaces());
  std::string best;
  int64_t most = 0;
  for (const SpaceInfo& s : spaces) {
    if (s.options.metric != Metric::kCosine || s.options.model_name == "ials" ||
        s.item_vectors <= most) {
      continue;  // collaborative factors are not a content space
    }
    most = s.item_vectors;
    best = s.options.name;
  }
  return best;
}

StatusOr<std::shared_ptr<const models::ItemVectors>> LoadItemVectors(DBImpl& db,
                                                                     const std::string& space,
                                                                     uint32_t num_items) {
  RECDB_ASSIGN_OR_RETURN(SpaceInfo info, db.spaces()->DescribeSpace(space));
  auto vectors = std::make_shared<models::ItemVectors>(num_items, info.options.dimension);
  for (uint32_t iid = 0; iid < num_items; ++iid) {
    const std::string id = db.ItemExternalId(iid);
    if (id.empty()) continue;
    auto v = db.spaces()->GetVector(space, EntityKind::kItem, id);
    if (v.status().IsNotFound()) continue;
    RECDB_RETURN_IF_ERROR(v.status());
    vectors->Set(iid, *v);
  }
  return std::shared_ptr<const models::ItemVectors>(std::move(vectors));
}

}  // namespace recdb
