// DBImpl: the serving side -- item catalog, recommendations, evaluation.
#include <atomic>
#include <thread>
#include <utility>

#include "engine/db_impl/db_impl.h"
#include "engine/no_throw.h"
#include "engine/recommend/content_vectors.h"
#include "engine/recommend/evaluation.h"
#include "engine/recommend/recommend_service.h"
#include "engine/recommend/training_data.h"

namespace recdb {

Status DBImpl::OpenEngine() {
  catalog_ = std::make_unique<ItemCatalog>();
  recommend_ = std::make_unique<RecommendService>(this, catalog_.get());
  // The item catalog loads on a second thread while the stored model is
  // mapped, verified (CRC-32C) and parsed: Open's two longest steps overlap
  // (at 10M events / 100K items each is about a third of Open's CPU).
  // Nothing reads the catalog before LoadStoredModel calls catalog_ready.
  Status catalog_status;
  std::thread catalog_loader([this, &catalog_status] {
    catalog_status = ForEachItem([this](const Item& item) -> Status {
      if (auto iid = FindItemIid(item.id)) catalog_->Upsert(*iid, item);
      return Status::OK();
    });
  });
  bool catalog_joined = false;
  auto catalog_ready = [&] {
    if (!std::exchange(catalog_joined, true)) catalog_loader.join();
  };
  // The model the last Train stored serves at once (no refit); a damaged or
  // foreign one is left unused (GetStats().model_problem says why).
  Status loaded =
      NoThrow([&] { return recommend_->LoadStoredModel(catalog_ready, stored_model_); });
  stored_model_.reset();
  catalog_ready();
  RECDB_RETURN_IF_ERROR(catalog_status);
  RECDB_RETURN_IF_ERROR(loaded);
  if (!options_.read_only && options_.retrain_interval_seconds > 0 && !scheduler_->manual()) {
    // Retrain when events arrived since the last training: at the first tick
    // unless the stored model covers every write.
    int64_t events_at_open = -1;
    auto [version, sequence] = recommend_->ModelVersionAndSequence();
    if (version != 0 && sequence == store_->LatestSequenceNumber()) {
      std::shared_lock lock(state_mu_);
      events_at_open = static_cast<int64_t>(counters_.events);
    }
    auto last_events = std::make_shared<std::atomic<int64_t>>(events_at_open);
    scheduler_->Every("retrain", std::chrono::seconds(options_.retrain_interval_seconds),
                      [this, last_events]() -> Status {
                        auto stats = GetStats();
                        RECDB_RETURN_IF_ERROR(stats.status());
                        if (stats->events == last_events->load()) return Status::OK();
                        TrainOptions background;
                        background.low_priority = true;
                        RECDB_RETURN_IF_ERROR(recommend_->Train(background).status());
                        last_events->store(stats->events);
                        return Status::OK();
                      });
  }
  return Status::OK();
}

StatusOr<TrainReport> DBImpl::Train(const TrainOptions& options) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return recommend_->Train(options);
}

StatusOr<TrainReport> DBImpl::GetModelReport() {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return recommend_ ? recommend_->ModelReport() : TrainReport{};
}

Status DBImpl::InstallModel(const std::string& dir) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return recommend_->InstallModel(dir);
}

StatusOr<RecommendResponse> DBImpl::Recommend(const RecommendRequest& request) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return recommend_->Recommend(request);
}

StatusOr<RecommendResponse> DBImpl::SimilarItems(const std::string& item_id, size_t k,
                                                 const ItemFilter& filter) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  return recommend_->SimilarItems(item_id, k, filter);
}

StatusOr<EvaluationReport> DBImpl::Evaluate(const EvaluateOptions& options) {
  std::shared_lock lifecycle(lifecycle_mu_);
  RECDB_RETURN_IF_ERROR(CheckOpen());
  RECDB_ASSIGN_OR_RETURN(models::Dataset data, BuildTrainingDataset(*this, *catalog_, nullptr));
  if (data.interactions().empty()) {
    return Status::FailedPrecondition("eval: no events with a positive weight");
  }
  std::shared_ptr<const models::ItemVectors> content;
  RECDB_ASSIGN_OR_RETURN(std::string space, ChooseContentSpace(*this, options.content_space));
  if (!space.empty()) {
    RECDB_ASSIGN_OR_RETURN(content, LoadItemVectors(*this, space, data.num_items()));
    if (content->count() == 0) content.reset();
  }
  return EvaluateRecommenders(data, options, content, options_.aggregate_privacy.min_pair_users);
}

}  // namespace recdb
