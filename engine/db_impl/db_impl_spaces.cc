// DBImpl's embedding-space methods: the lifecycle check, then SpaceManager.
#include "engine/db_impl/db_impl.h"

namespace recdb {

Status DBImpl::CreateSpace(const SpaceOptions& options) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->CreateSpace(options);
}

Status DBImpl::DropSpace(const std::string& name) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->DropSpace(name);
}

StatusOr<std::vector<SpaceInfo>> DBImpl::ListSpaces() {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->ListSpaces();
}

StatusOr<SpaceInfo> DBImpl::DescribeSpace(const std::string& name) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->DescribeSpace(name);
}

Status DBImpl::PutVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                          const std::vector<VectorRecord>& records) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->PutVectors(wo, space, kind, records);
}

StatusOr<std::vector<float>> DBImpl::GetVector(const std::string& space, EntityKind kind,
                                               const std::string& id) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->GetVector(space, kind, id);
}

Status DBImpl::DeleteVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                             const std::vector<std::string>& ids) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->DeleteVectors(wo, space, kind, ids);
}

StatusOr<std::vector<ScoredItem>> DBImpl::SearchSimilar(const std::string& space,
                                                        const std::vector<float>& query, size_t k,
                                                        const ItemFilter& filter) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->SearchSimilar(space, query, k, filter);
}

StatusOr<std::vector<ScoredItem>> DBImpl::SearchSimilarToItem(const std::string& space,
                                                              const std::string& item_id, size_t k,
                                                              const ItemFilter& filter) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->SearchSimilarToItem(space, item_id, k, filter);
}

Status DBImpl::CheckpointIndexes() {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return spaces_->Checkpoint();
}

}  // namespace recdb
