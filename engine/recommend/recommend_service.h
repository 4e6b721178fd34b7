// RecommendService: trains the fused recommender from the event log and
// answers Recommend / SimilarItems / RecommendForSession.
//
// Training reads one consistent RocksDB snapshot of the events (skipping
// users whose consent excludes training and events whose type weight is not
// positive), builds a models::Dataset in internal ids, fits the Fused blend
// (weights learned on a validation split carved from the training data, or the
// weights stored by the last learning run) and swaps the new immutable model
// in atomically. Serving holds a shared_ptr to the model it started with, so
// it never waits for training and training never waits for serving.
//
// Real time: every request reads the user's current history from RocksDB, so
// an event recorded a moment ago changes the next result without retraining
// (iALS folds the fresh history in; item-kNN, co-occurrence, the recency
// models and the content profile score from it directly).
//
// Content: when an embedding space holds item vectors (TrainOptions::
// content_space), Train snapshots them and a "content" recommender joins the
// blend; items created after the training are found in the space's HNSW
// index with the user's profile vector and scored on the content
// component's scale. Context: the request's context map and time select
// context-conditional popularity ("context_pop") and the blender's learned
// per-context weight deltas (stored with the weights as component@feature).
//
// Thread-safety: all methods are safe to call concurrently. Train calls are
// serialised among themselves.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/catalog/item_catalog.h"
#include "recdb/options.h"
#include "recdb/recommend.h"
#include "recdb/status.h"

namespace recdb {

class DBImpl;
struct ModelFile;

namespace models {
class Dataset;
class Fused;
}  // namespace models
namespace policy {
class LearnedPolicy;
}  // namespace policy
namespace rerank {
class ImpressionLog;
struct Shown;
}  // namespace rerank

class RecommendService {
 public:
  // `db` and `catalog` must outlive the service.
  RecommendService(DBImpl* db, const ItemCatalog* catalog);
  ~RecommendService();

  // Fits a new model and swaps it in. Errors: FailedPrecondition if there are
  // no usable events; whatever the scan or the models return.
  StatusOr<TrainReport> Train(const TrainOptions& options);

  // Errors: FailedPrecondition before the first Train; InvalidArgument for
  // k outside 1..1000 or an unknown recommender in request.weights.
  StatusOr<RecommendResponse> Recommend(const RecommendRequest& request) const;

  // Recommend for the user with internal id `user_iid` (request.user is
  // ignored) as the database stood at time `as_of`, for off-policy
  // evaluation (recdb/off_policy.h): only the user's events with timestamp
  // < as_of are their history (and what exclude_seen drops), only their
  // impressions with timestamp < as_of count for rotation and fair exposure,
  // items created after as_of are left out, and the user's trained state is
  // not used (iALS folds the user in from the history as of then). What is
  // NOT as of then: the item side of the model (the serving one: item
  // factors, neighbours, co-occurrence and popularity counts) and the global
  // exposure counts. Errors: as Recommend.
  // `model`: serve from this one (FitPrivateModel) instead of the serving model.
  struct Model;
  StatusOr<RecommendResponse> RecommendAsOf(const RecommendRequest& request, uint32_t user_iid,
                                            int64_t as_of,
                                            std::shared_ptr<const Model> model = nullptr) const;

  // Fits a model on the events with timestamp < events_before, as Train
  // would (options.learn_weights etc.), and returns it without serving,
  // storing or saving anything: off-policy evaluation of a model that never
  // saw the rewarded events. *report gets its TrainReport. Errors: as Train.
  StatusOr<std::shared_ptr<const Model>> FitPrivateModel(const TrainOptions& options,
                                                         int64_t events_before,
                                                         TrainReport* report);

  // Items like `item_id` (co-occurrence, kNN, factors fused), best first.
  // Errors: NotFound for an unknown item; as Recommend.
  StatusOr<RecommendResponse> SimilarItems(const std::string& item_id, size_t k,
                                           const ItemFilter& filter) const;

  // Stores a list shown to `user` (rerank::ImpressionLog). Errors: NotFound
  // for an unknown user; InvalidArgument for an unknown item (naming its
  // index), 0 or more than 1000 items, a timestamp out of range or more than
  // kMaxContextEntries context entries; IOError. Nothing is stored for a
  // user whose consent has store_events == false.
  Status RecordImpressions(const WriteOptions& wo, const std::string& user,
                           const std::vector<std::string>& items,
                           const ImpressionContext& context);

  // Every stored impression (rerank::ImpressionLog::ForEach).
  Status ForEachImpression(const std::function<Status(uint32_t user, rerank::Shown shown)>& fn) const;

  bool trained() const;

  // Serves the model stored by the last Train (DIR/derived/fused.model,
  // engine/recommend/model_file.h), if there is one and it verifies and fits
  // this database; called once at Open, before any request. A missing file
  // is OK (nothing to serve until Train); a damaged, foreign or stale one is
  // not trusted: it is left unused, the reason is kept (StoredModelProblem)
  // and OK is returned, so the caller retrains. `catalog_ready`, when set,
  // is called (once or more) before the item catalog is first read: Open
  // loads the catalog on another thread meanwhile. `files`, when set, has
  // been reading ModelPath() and RetrievalPath() since before the database's
  // state loaded (DBImpl::OpenImpl); else they are read here.
  class StoredModelReader;
  Status LoadStoredModel(const std::function<void()>& catalog_ready = nullptr,
                         const std::shared_ptr<StoredModelReader>& started = nullptr);
  // Starts reading `db`'s stored model on a thread of its own: the files
  // mapped and verified (model_file.h), then everything of the model that
  // does not depend on the database's state parsed (the fused model, the
  // retrieval file's state, the care facts). DBImpl::OpenImpl starts it
  // before RocksDB opens and the id maps load, and hands it to
  // LoadStoredModel (`started`), which checks the parsed model against the
  // database (items, users) before serving it; a model that failed
  // verification is never parsed. Needs only db's options, env and path.
  // Destroying it unused cancels the verification and joins the thread.
  static std::shared_ptr<StoredModelReader> StartReadingStoredModel(const DBImpl& db);
  // DB::InstallModel: serves the model files in `dir` (kModelFileName and,
  // optionally, kRetrievalFileName, as Train writes them) once they verify
  // as LoadStoredModel verifies, and writes them to DIR/derived; on any error
  // nothing changes and the serving model stays.
  Status InstallModel(const std::string& dir);
  // Why the stored model was not used at Open (empty when it was, or when
  // there was none).
  std::string StoredModelProblem() const;
  // Removes the stored model file (ForgetUser: the next Train writes a new
  // one); with `unload`, the model in memory stops serving too (Recommend is
  // FailedPrecondition until a Train). IOError if the file cannot be removed.
  Status DropStoredModel(bool unload);
  // How LoadStoredModel set up two-stage serving: components that adopted
  // their state from DIR/derived/fused.retrieval, builds it left for the
  // Scheduler, and why the retrieval file was not used (empty when it was
  // or when none was expected).
  struct RetrievalLoad {
    size_t adopted = 0;
    size_t deferred = 0;
    std::string problem;
  };
  RetrievalLoad StoredRetrievalLoad() const;
  // Tests: the catalog size from which Train and LoadStoredModel serve
  // two-stage (models::FusedOptions::two_stage_min_items), process-wide.
  static void SetTwoStageMinItemsForTesting(uint32_t items);
  // The serving model's version and the RocksDB sequence its training read
  // at (0, 0 before any model).
  std::pair<uint64_t, uint64_t> ModelVersionAndSequence() const;
  // The report of the Train that fitted the serving model (DB::GetModelReport);
  // an empty report before any model.
  TrainReport ModelReport() const;

  // ---- The learned policy (learned_policy_service.cc, engine/policy/README.md) ----

  // The learned policy's report ("trained" false and a note when none serves).
  LearnedPolicyReport PolicyReport() const;

  // Fusion weights stored by the last learning run (models CF), if any.
  // Errors: Corruption if the stored record fails verification.
  struct StoredWeights {
    uint64_t version = 0;
    std::vector<std::string> names;
    std::vector<double> weights;
    double validation_ndcg = 0;  // what the learning run reached
  };
  StatusOr<std::optional<StoredWeights>> LoadStoredWeights() const;
  // Names of the fused recommenders (empty before the first Train); of
  // `model` when given.
  std::vector<std::string> RecommenderNames(const Model* model = nullptr) const;

  // Asks background work in progress (a deferred retrieval index build) to
  // give up, so that Close does not wait for it. Call before the Scheduler's
  // Shutdown; the model keeps serving exhaustively.
  void StopBackgroundWork() { stop_background_.store(true); }

 private:
  std::shared_ptr<const Model> Current() const;
  // Reads, verifies and builds the model of the model file at `model_path`
  // (with the two-stage state of `retrieval_path` when its header matches)
  // without serving it; posts its deferred retrieval work. *file gets the
  // model file (its mapped bytes) when not null. Errors: NotFound (no file);
  // the file's Corruption / NotSupported / IOError; Corruption for a payload
  // that does not parse; FailedPrecondition for a model that does not
  // describe this database (other items at its internal ids, another
  // min_pair_users, an unknown component). train_mu_ held.
  // The files and what does not depend on the database come from `reader`.
  StatusOr<std::shared_ptr<Model>> ReadModel(StoredModelReader& reader, RetrievalLoad* load,
                                             ModelFile* file,
                                             const std::function<void()>& catalog_ready = nullptr);
  // ReadModel's first part (StoredModelReader's thread): Corruption,
  // FailedPrecondition (another min_pair_users, an unknown component).
  struct ParsedModel;
  struct ParseSettings;
  static ParseSettings SettingsFor(const DBImpl& db);
  static StatusOr<ParsedModel> ParseModel(ModelFile file, StatusOr<ModelFile> retrieval_file,
                                          const ParseSettings& settings);
  // Swaps `model` in (ReadModel's) and retires the old one. train_mu_ held.
  void ServeLoaded(std::shared_ptr<const Model> model, RetrievalLoad load);
  // `as_of`: see RecommendAsOf; unset = now (real time).
  StatusOr<RecommendResponse> Serve(const std::shared_ptr<const Model>& model,
                                    const RecommendRequest& request, uint32_t user_iid,
                                    bool personal, std::optional<int64_t> as_of = {}) const;
  // `private_out`: fit on events before `events_before` and hand the model
  // back there instead of storing weights, saving and serving it.
  StatusOr<TrainReport> TrainNow(const TrainOptions& options,
                                 int64_t events_before = INT64_MAX,
                                 std::shared_ptr<const Model>* private_out = nullptr);
  Status StoreWeights(const Model& model, double validation_ndcg);
  // Writes `model` to the model file.
  Status SaveModel(const Model& model) const;
  std::string ModelPath() const;      // DIR/derived/fused.model
  std::string RetrievalPath() const;  // DIR/derived/fused.retrieval

  // The learned policy (learned_policy_service.cc).
  // Trains it from the impression log in the window (options) with `model`
  // serving the candidates, swaps it in and writes its file (unless a forget
  // happened since `drops_at_start`); with nothing to learn from, no policy
  // serves and the file is removed. Returns its report.
  LearnedPolicyReport TrainPolicy(const LearnedPolicyOptions& options,
                                  const std::shared_ptr<const Model>& model,
                                  uint64_t model_version, uint64_t drops_at_start);
  // Called by LoadStoredModel: serves DIR/derived/learned.policy if it verifies.
  void LoadStoredPolicy();
  // request.policy == "learned".
  StatusOr<RecommendResponse> ServeLearned(const std::shared_ptr<const Model>& model,
                                           const RecommendRequest& request, uint32_t user_iid,
                                           bool personal) const;
  // The policy's features of `candidates` (a fused list for `user_iid` as of
  // `as_of`): x (n x dim), primary category ids (-1 = none), item iids.
  Status PolicyFeatures(uint32_t user_iid, int64_t as_of, const RecommendResponse& candidates,
                        const std::vector<std::string>& recommenders,
                        const std::vector<bool>& is_reward, int64_t window_seconds,
                        std::vector<float>* x, std::vector<int>* categories,
                        std::vector<uint32_t>* iids) const;
  std::string PolicyPath() const;

  DBImpl* const db_;
  const ItemCatalog* const catalog_;
  std::mutex train_mu_;
  mutable std::mutex model_mu_;
  std::shared_ptr<const Model> model_;  // GUARDED_BY(model_mu_)
  uint64_t next_version_ = 1;           // GUARDED_BY(train_mu_)
  std::string stored_model_problem_;    // GUARDED_BY(model_mu_)
  RetrievalLoad retrieval_load_;        // GUARDED_BY(model_mu_)
  // Serialises writing and removing the model file. A Train writes its file
  // only if no DropStoredModel happened since it started reading events, so
  // a model fitted with a forgotten user's events never reaches the disk.
  std::mutex model_file_mu_;
  std::atomic<uint64_t> model_file_drops_{0};
  // What was shown to whom; exposure counts for rotation, fairness and
  // exploration.
  std::unique_ptr<rerank::ImpressionLog> impressions_;
  std::atomic<bool> stop_background_{false};  // StopBackgroundWork
  // The learned policy serving "learned" requests (null: none); why none
  // (or why the stored one was not used).
  std::shared_ptr<const policy::LearnedPolicy> policy_;  // GUARDED_BY(model_mu_)
  std::string policy_note_;                               // GUARDED_BY(model_mu_)
};

}  // namespace recdb
