#include "engine/recommend/recommend_service.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/durable_file.h"
#include "engine/db_impl/db_impl.h"
#include "engine/explain/explainer.h"
#include "engine/no_throw.h"
#include "engine/models/candidates.h"
#include "engine/models/content_profile.h"
#include "engine/models/cooccurrence.h"
#include "engine/models/dataset.h"
#include "engine/models/family.h"
#include "engine/models/fused.h"
#include "engine/policy/learned_policy.h"
#include "engine/recommend/content_vectors.h"
#include "engine/recommend/model_file.h"
#include "engine/recommend/retire.h"
#include "engine/recommend/training_data.h"
#include "engine/spaces/space_manager.h"
#include "engine/rerank/care_facts.h"
#include "engine/rerank/cold_items.h"
#include "engine/rerank/impression_log.h"
#include "storage/aligned_bytes.h"
#include "storage/schema/models_generated.h"
#include "storage/store.h"

namespace recdb {

namespace {

constexpr size_t kMaxK = 1000;
constexpr char kFusionKey[] = "fusion/current";
// Stored context deltas are named "component@feature" next to the weights.
constexpr char kDeltaSeparator = '@';

// Items newer than the model (iid >= the model's items), which only the
// content space knows, found in the space's HNSW index with the user's
// profile vector: the top (pool_k + excluded) by similarity, of which those
// newer than the model join `results`. Each is scored on the content
// component's scale for this request (its z under `norm`, times its weight);
// every other component knows nothing of it and adds 0, its average. The
// merged `results` keep the best pool_k.
Status AddNewContentItems(DBImpl* db, const models::ContentProfile& content, size_t component,
                          const std::string& space, const RecommendRequest& request,
                          std::span<const uint32_t> history, std::span<const int64_t> stamps,
                          std::span<const float> event_weights, int64_t now,
                          std::span<const uint32_t> exclude,
                          const models::Fused::Normalisation& norm, size_t pool_k,
                          std::vector<models::Fused::Explained>* results) {
  const uint32_t n = content.num_items();
  if (db->spaces() == nullptr || db->ItemIdLimit() <= n || component >= norm.weights.size() ||
      norm.weights[component] == 0 || norm.inv_std[component] <= 0) {
    return Status::OK();
  }
  // The profile over the whole history, newer items included.
  std::unordered_map<uint32_t, std::vector<float>> fresh;
  auto lookup = [&](uint32_t iid) -> const float* {
    auto it = fresh.find(iid);
    if (it == fresh.end()) {
      std::vector<float> unit;
      auto v = db->spaces()->GetVector(space, EntityKind::kItem, db->ItemExternalId(iid));
      if (v.ok()) {
        models::ItemVectors one(1, content.vectors().dim());
        if (one.Set(0, *v)) unit.assign(one.Row(0), one.Row(0) + one.dim());
      }
      it = fresh.emplace(iid, std::move(unit)).first;
    }
    return it->second.empty() ? nullptr : it->second.data();
  };
  models::UserQuery q;
  q.items = history;
  q.timestamps = stamps;
  q.weights = event_weights;
  q.now = now;
  const std::vector<float> profile = content.Profile(q, lookup);
  if (profile.empty()) return Status::OK();
  ItemFilter filter = request.filter;
  for (uint32_t iid : exclude) filter.exclude_ids.push_back(db->ItemExternalId(iid));
  const size_t k = std::min<size_t>(10000, pool_k + exclude.size());
  auto found = db->spaces()->SearchSimilar(space, profile, k, filter);
  if (!found.ok()) return found.status().WithContext("recommend: content search");
  const size_t m = norm.weights.size();
  bool added = false;
  for (const ScoredItem& hit : *found) {
    auto iid = db->FindItemIid(hit.id);
    if (!iid || *iid < n) continue;  // the fusion already scored the model's items
    models::Fused::Explained e;
    e.item = *iid;
    e.contributions.assign(m, 0.0f);
    const double z = (hit.score - norm.mean[component]) * norm.inv_std[component];
    e.contributions[component] = static_cast<float>(norm.weights[component] * z);
    e.score = e.contributions[component];
    results->push_back(std::move(e));
    added = true;
  }
  if (!added) return Status::OK();
  std::stable_sort(results->begin(), results->end(),
                   [](const auto& a, const auto& b) { return a.score > b.score; });
  if (results->size() > pool_k) results->resize(pool_k);
  return Status::OK();
}

// Raises the calling thread's nice value by `delta` (Linux: nice is per
// thread). Best effort: a refusal leaves the priority as it was. Used on a
// thread that ends afterwards, so nothing needs restoring.
class LowerThreadPriority {
 public:
  explicit LowerThreadPriority(int delta) {
    errno = 0;
    const int old = ::getpriority(PRIO_PROCESS, 0);
    if (errno == 0) (void)::setpriority(PRIO_PROCESS, 0, std::min(19, old + delta));
  }
};

// RecommendService::SetTwoStageMinItemsForTesting.
std::atomic<uint32_t> g_two_stage_min_items{models::FusedOptions{}.two_stage_min_items};

// Component settings that come from the database (not from a TrainOptions):
// the same at training and when a stored model is loaded.
models::ComponentConfig ComponentConfigFor(const DBImpl& db, int threads) {
  models::ComponentConfig config;
  config.threads = threads;
  config.min_pair_users = db.options().aggregate_privacy.min_pair_users;
  return config;
}

// Component settings that come from the catalog's size, at training and at
// load alike: a catalog served two-stage caps RecentKnn's lists
// (models::kTwoStageRecentKnnNeighbours, fused.h), and a stored model fitted
// uncapped is then served as if fitted with the cap.
void SetCatalogSettings(models::ComponentConfig* config, uint32_t num_items,
                        uint32_t two_stage_min_items) {
  config->recent_knn_neighbours =
      num_items >= two_stage_min_items ? models::kTwoStageRecentKnnNeighbours : 0;
}

}  // namespace

struct RecommendService::Model {
  uint64_t version = 0;
  uint64_t covered_sequence = 0;  // the RocksDB sequence number training read at
  std::unique_ptr<models::Dataset> data;
  std::unique_ptr<models::Fused> fused;
  std::vector<std::string> names;  // component names
  TrainReport report;
  int cooc_component = -1;  // index of the symmetric co-occurrence model, for evidence
  int content_component = -1;  // index of the content-profile model, if any
  std::string content_space;   // its embedding space
  std::unique_ptr<rerank::CareFacts> facts;  // categories, long tail, trending per category
  rerank::ColdItems cold;  // what exploration may show beyond the fused pool
};

RecommendService::RecommendService(DBImpl* db, const ItemCatalog* catalog)
    : db_(db), catalog_(catalog), impressions_(std::make_unique<rerank::ImpressionLog>(db)) {}

RecommendService::~RecommendService() = default;

std::shared_ptr<const RecommendService::Model> RecommendService::Current() const {
  std::lock_guard<std::mutex> lock(model_mu_);
  return model_;
}

bool RecommendService::trained() const { return Current() != nullptr; }

std::vector<std::string> RecommendService::RecommenderNames(const Model* model) const {
  if (model != nullptr) return model->names;
  auto m = Current();
  return m ? m->names : std::vector<std::string>{};
}

namespace {

// A low-priority Train's threads: one less than the cores, at least 1.
int LowPriorityThreadBudget(int requested) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, std::min(requested, cores - 1));
}

}  // namespace

StatusOr<TrainReport> RecommendService::Train(const TrainOptions& options) {
  if (!options.low_priority) return TrainNow(options);
  // A core stays with serving: with every core training, a serving thread
  // shares one with a trainer and is preempted for its time slices, nice or
  // not (and OpenBLAS's worker threads, started when the library loads, run
  // at the process's priority).
  TrainOptions budgeted = options;
  budgeted.threads = LowPriorityThreadBudget(std::max(1, options.threads));
  // A thread of its own at nice +10: the workers it starts inherit it (Linux
  // keeps nice per thread and copies it to new threads), and the caller's
  // thread keeps its priority.
  StatusOr<TrainReport> result = Status::Internal("train: not run");
  std::thread trainer([&] {
    LowerThreadPriority lower(10);
    result = TrainNow(budgeted);
  });
  trainer.join();
  return result;
}

StatusOr<std::shared_ptr<const RecommendService::Model>> RecommendService::FitPrivateModel(
    const TrainOptions& options, int64_t events_before, TrainReport* report) {
  TrainOptions o = options;
  o.incremental = false;
  o.reuse_stored_weights = false;
  std::shared_ptr<const Model> model;
  RECDB_ASSIGN_OR_RETURN(TrainReport r, TrainNow(o, events_before, &model));
  if (report != nullptr) *report = r;
  return model;
}

StatusOr<TrainReport> RecommendService::TrainNow(const TrainOptions& options,
                                                 int64_t events_before,
                                                 std::shared_ptr<const Model>* private_out) {
  std::lock_guard<std::mutex> train_lock(train_mu_);
  const auto start = std::chrono::steady_clock::now();
  TrainingDataStats stats;
  // Every event up to this sequence is in the scan below (a lower bound: the
  // scan may see a few later ones).
  const uint64_t covered_sequence = db_->store()->LatestSequenceNumber();
  const uint64_t drops_at_start = model_file_drops_.load();
  // Progress: read, the fits (and the validation fits and blend when
  // learning), write; the count is known once the components are.
  int step = 0, steps = 0;
  std::string note;  // said with the next stage (a stage is reported once)
  auto progress = [&](const std::string& stage) {
    if (options.on_progress) {
      options.on_progress(TrainProgress{note.empty() ? stage : stage + " (note: " + note + ")", step, steps});
    }
    note.clear();
    ++step;
  };
  progress("read events");
  RECDB_ASSIGN_OR_RETURN(models::Dataset data,
                         BuildTrainingDataset(*db_, *catalog_, &stats, events_before));
  if (data.interactions().empty()) {
    return Status::FailedPrecondition("train: no events with a positive weight to learn from");
  }
  auto model = std::make_shared<Model>();
  model->data = std::make_unique<models::Dataset>(std::move(data));
  models::FusedOptions fo;
  fo.learn_weights = options.learn_weights;
  fo.threads = std::max(1, options.threads);
  fo.two_stage_min_items = g_two_stage_min_items.load();
  // Content profile: a snapshot of the content space's item vectors.
  std::shared_ptr<const models::ItemVectors> content;
  RECDB_ASSIGN_OR_RETURN(model->content_space, ChooseContentSpace(*db_, options.content_space));
  if (!model->content_space.empty()) {
    RECDB_ASSIGN_OR_RETURN(content,
                           LoadItemVectors(*db_, model->content_space, model->data->num_items()));
    if (content->count() == 0) content.reset(), model->content_space.clear();
  }
  models::ComponentConfig config = ComponentConfigFor(*db_, fo.threads);
  SetCatalogSettings(&config, model->data->num_items(), fo.two_stage_min_items);
  config.ials_factors = options.ials_factors;
  config.ials_iterations = options.ials_iterations;
  config.content = std::move(content);
  auto components = models::DefaultFusedComponents(model->data->num_items(), config);
  // A component the catalog has outgrown (EASE past its item limit) is left
  // out, and the next stage's progress says why (`recdb train` shows it).
  for (const std::string& why : models::LeftOutComponents(model->data->num_items())) {
    note += (note.empty() ? "" : "; ") + why;
  }
  RECDB_ASSIGN_OR_RETURN(std::optional<StoredWeights> stored, LoadStoredWeights());
  if (stored) next_version_ = std::max(next_version_, stored->version + 1);
  bool reused = false;
  double reused_ndcg = 0;  // the validation NDCG@10 of the reused weights
  std::vector<models::Fused::ContextDelta> stored_deltas;
  if (options.reuse_stored_weights && stored) {
    // Weights first, then "component@feature" context deltas.
    size_t plain = 0;
    while (plain < stored->names.size() &&
           stored->names[plain].find(kDeltaSeparator) == std::string::npos) {
      ++plain;
    }
    bool same = plain == components.size();
    for (size_t j = 0; same && j < components.size(); ++j) same = components[j].name == stored->names[j];
    if (same) {
      for (size_t j = 0; j < components.size(); ++j) components[j].weight = stored->weights[j];
      for (size_t e = plain; e < stored->names.size(); ++e) {
        const std::string& name = stored->names[e];
        const size_t at = name.find(kDeltaSeparator);
        if (at == std::string::npos) continue;
        for (size_t j = 0; j < components.size(); ++j) {
          if (components[j].name == name.substr(0, at)) {
            stored_deltas.push_back({name.substr(at + 1), j, stored->weights[e]});
          }
        }
      }
      fo.learn_weights = false;
      reused = true;
      reused_ndcg = stored->validation_ndcg;
    }
  }
  std::shared_ptr<const Model> previous = options.incremental ? Current() : nullptr;
  if (previous && previous->names.size() == components.size()) {
    bool same = true;
    for (size_t j = 0; j < components.size(); ++j) same = same && components[j].name == previous->names[j];
    if (same) {
      const auto weights = previous->fused->Weights();
      for (size_t j = 0; j < components.size(); ++j) components[j].weight = weights[j].second;
      stored_deltas = previous->fused->ContextDeltas();
      fo.learn_weights = false;
      reused = true;
      reused_ndcg = previous->report.validation_ndcg;
    } else {
      previous.reset();
    }
  }
  const int m = static_cast<int>(components.size());
  steps = 1 + m + (fo.learn_weights ? m + 1 : 0) + (db_->options().read_only ? 0 : 1);
  fo.on_stage = progress;
  model->fused = std::make_unique<models::Fused>(std::move(components), fo);
  if (previous) {
    model->fused->WarmStartFrom(std::shared_ptr<const models::Fused>(previous, previous->fused.get()));
  }
  RECDB_RETURN_IF_ERROR(model->fused->Fit(*model->data));
  if (reused) {
    model->fused->SetContextDeltas(stored_deltas);
    model->fused->set_validation_ndcg(reused_ndcg);
  }
  for (size_t j = 0; j < model->fused->num_components(); ++j) {
    model->names.push_back(model->fused->component_name(j));
    if (model->names.back() == "cooc_symmetric") model->cooc_component = static_cast<int>(j);
    if (model->names.back() == "content") model->content_component = static_cast<int>(j);
  }
  model->facts =
      std::make_unique<rerank::CareFacts>(rerank::BuildCareFacts(*model->data, model->fused.get()));
  model->cold = rerank::ColdItems::Build(model->facts->popularity, *catalog_);
  model->version = private_out != nullptr ? 0 : next_version_++;
  model->covered_sequence = covered_sequence;
  model->report.model_version = model->version;
  model->report.events = stats.events_used;
  for (const auto& [name, w] : model->fused->Weights()) model->report.weights[name] = w;
  for (size_t j = 0; j < model->fused->num_components(); ++j) {
    model->report.seconds_by_recommender[model->names[j]] = model->fused->fit_seconds(j);
  }
  model->report.seconds_by_recommender["blend"] = model->fused->blend_seconds();
  model->report.validation_ndcg = model->fused->validation_ndcg();
  model->report.threads = fo.threads;
  model->report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model->report.trained_at = db_->clock()->NowSeconds();
  TrainReport report = model->report;
  if (private_out != nullptr) {  // neither stored, saved nor served
    *private_out = std::move(model);
    return report;
  }
  if (fo.learn_weights && !reused && !db_->options().read_only) {
    RECDB_RETURN_IF_ERROR(StoreWeights(*model, model->fused->validation_ndcg()));
  }
  std::string problem;
  if (!db_->options().read_only) {
    // Derived data: a model that cannot be written still serves; the next
    // Open retrains, and GetStats says why.
    progress("write model");
    std::lock_guard<std::mutex> file_lock(model_file_mu_);
    if (model_file_drops_.load() != drops_at_start) {
      problem = "model file not written: a user was forgotten while this model trained";
    } else if (Status saved = SaveModel(*model); !saved.ok()) {
      problem = "model file not written: " + saved.ToString();
    }
  }
  std::shared_ptr<const Model> replaced;
  {
    std::lock_guard<std::mutex> lock(model_mu_);
    replaced = std::exchange(model_, std::move(model));
    stored_model_problem_ = problem;
  }
  // The old model is freed here, on the training thread, once in-flight
  // requests let go of it: neither under model_mu_ (which every Recommend
  // takes) nor at the end of a request.
  previous.reset();
  RetireOnThisThread(std::move(replaced));
  // Engagements may have arrived since the exposure counts were built.
  RECDB_RETURN_IF_ERROR(impressions_->Refresh());
  // The learned policy, from the impression log, on the model just swapped in.
  report.learned_policy =
      TrainPolicy(options.learned_policy, Current(), report.model_version, drops_at_start);
  if (options.on_progress) options.on_progress(TrainProgress{"done", steps, steps});
  return report;
}

std::string RecommendService::ModelPath() const {
  return db_->derived_dir() + "/" + kModelFileName;
}

// Payload (model_io.h): component names, content space, the k-anonymity
// threshold the co-occurrence models were built with, the dataset's
// vocabulary, the fused model, the care facts, and (format 3) the seconds
// each component's fit took followed by the blend's.
Status RecommendService::SaveModel(const Model& model) const {
  models::ModelWriter out;
  // The blocks are written in place and the buffer sized from the model
  // file this one replaces: at 10M events the payload is ~900 MB, and
  // writing each block into a buffer of its own, copied into its parent
  // while both grew by doubling, cost ~20 CPU-s and 2 GB of peak memory per
  // Train (docs/BENCHMARKS.md, "the incremental retrain at 10M").
  std::error_code size_error;
  const uintmax_t last_size = std::filesystem::file_size(ModelPath(), size_error);
  if (!size_error) out.Reserve(static_cast<size_t>(last_size + last_size / 8));
  out.PutStrings(model.names);
  out.PutString(model.content_space);
  out.Put<uint32_t>(db_->options().aggregate_privacy.min_pair_users);
  out.Put<double>(model.report.seconds);
  models::ModelWriter data = out.BeginBlock();
  model.data->SaveVocabulary(data);
  out.EndBlock(data);
  models::ModelWriter fused = out.BeginBlock();
  RECDB_RETURN_IF_ERROR(model.fused->Save(fused));
  out.EndBlock(fused);
  models::ModelWriter facts = out.BeginBlock();
  model.facts->Save(facts);
  out.EndBlock(facts);
  std::vector<double> fit_seconds;
  for (const std::string& name : model.names) {
    auto it = model.report.seconds_by_recommender.find(name);
    fit_seconds.push_back(it == model.report.seconds_by_recommender.end() ? 0.0 : it->second);
  }
  auto blend = model.report.seconds_by_recommender.find("blend");
  fit_seconds.push_back(blend == model.report.seconds_by_recommender.end() ? 0.0 : blend->second);
  out.PutVector(fit_seconds);
  ModelFileHeader header;
  header.covered_sequence = model.covered_sequence;
  header.model_version = model.version;
  header.events = model.report.events;
  header.trained_at = model.report.trained_at;
  // A retrieval file of an earlier model goes first: it would be ignored
  // (its header is not this model's), but it holds that model's data.
  if (::unlink(RetrievalPath().c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("remove " + RetrievalPath() + ": " + std::strerror(errno));
  }
  RECDB_RETURN_IF_ERROR(WriteModelFile(db_->env(), ModelPath(), header, out.bytes()));
  // The two-stage state beside it (kRetrievalFileName), stamped with the
  // same header. Best effort: without it the next Open builds the state in
  // the background, as before it was stored.
  models::ModelWriter retrieval;
  if (model.fused->SaveRetrieval(retrieval)) {
    (void)WriteModelFile(db_->env(), RetrievalPath(), header, retrieval.bytes());
  }
  return Status::OK();
}

std::string RecommendService::RetrievalPath() const {
  return db_->derived_dir() + "/" + kRetrievalFileName;
}

RecommendService::RetrievalLoad RecommendService::StoredRetrievalLoad() const {
  std::lock_guard<std::mutex> lock(model_mu_);
  return retrieval_load_;
}

void RecommendService::SetTwoStageMinItemsForTesting(uint32_t items) {
  g_two_stage_min_items.store(items);
}

// What ReadModel reads without the database's state: the verified files,
// the payload's blocks, the dataset's vocabulary, the fused model (with the
// retrieval file's state) and the care facts. ReadModel checks them against
// the loaded id maps.
struct RecommendService::ParsedModel {
  ModelFile file;
  std::shared_ptr<Model> model;
  RetrievalLoad retrieval_load;
};

// What ParseModel takes from the database (its options), read at the start.
struct RecommendService::ParseSettings {
  models::ComponentConfig config;  // ComponentConfigFor(db, 2)
  uint32_t two_stage_min_items = 0;
};

class RecommendService::StoredModelReader {
 public:
  StoredModelReader(Env* env, std::string model_path, std::string retrieval_path,
                    ParseSettings settings);
  ~StoredModelReader();
  StoredModelReader(const StoredModelReader&) = delete;
  StoredModelReader& operator=(const StoredModelReader&) = delete;
  // Waits for the thread (or, if none could start, reads here); once.
  StatusOr<ParsedModel> Take();

 private:
  void Run();

  Env* const env_;
  const std::string model_path_;
  const std::string retrieval_path_;
  const ParseSettings settings_;
  std::atomic<bool> cancel_{false};
  bool taken_ = false;
  StatusOr<ParsedModel> parsed_ = Status::Aborted("not read");
  std::thread thread_;  // last: starts once the members above exist
};

namespace {

// A file that does not parse is Corruption; one that parses but does not
// describe this database (other items, privacy settings) FailedPrecondition.
Status Corrupt(const std::string& why) { return Status::Corruption(why); }
Status Problem(const std::string& why) { return Status::FailedPrecondition(why); }

}  // namespace

StatusOr<RecommendService::ParsedModel> RecommendService::ParseModel(
    ModelFile file, StatusOr<ModelFile> retrieval_file, const ParseSettings& settings) {
  ParsedModel parsed;
  // The model's large arrays stay views of the mapped file (keep_alive).
  models::ModelReader in(file.payload(), "model file", file.keep_alive);
  auto model = std::make_shared<Model>();
  uint32_t min_pair_users = 0;
  models::ModelReader data_in(""), fused_in(""), facts_in("");
  // Format 3: each component's fit seconds, then the blend's (2: none).
  const bool has_fit_seconds = file.header.format_version >= 3;
  std::vector<double> fit_seconds;
  if (!in.GetStrings(&model->names) || !in.GetString(&model->content_space) ||
      !in.Get(&min_pair_users) || !in.Get(&model->report.seconds) ||
      !in.GetBlock(&data_in, "stored dataset") || !in.GetBlock(&fused_in, "stored model") ||
      !in.GetBlock(&facts_in, "stored care facts") ||
      (has_fit_seconds && !in.GetVector(&fit_seconds, model->names.size() + 1)) ||
      !in.Finish().ok()) {
    return Corrupt(in.Finish().ToString());
  }
  if (has_fit_seconds) {
    if (fit_seconds.size() != model->names.size() + 1) {
      return Corrupt("its fit seconds do not match its components");
    }
    for (size_t j = 0; j < model->names.size(); ++j) {
      model->report.seconds_by_recommender[model->names[j]] = fit_seconds[j];
    }
    model->report.seconds_by_recommender["blend"] = fit_seconds.back();
  }
  if (min_pair_users != settings.config.min_pair_users) {
    return Problem("trained with min_pair_users " + std::to_string(min_pair_users) +
                   ", the database now requires " + std::to_string(settings.config.min_pair_users));
  }
  // The user count is checked against the database by ReadModel.
  auto data = models::Dataset::LoadVocabulary(data_in, UINT32_MAX);
  if (!data.ok()) {
    return Problem("its dataset does not fit this database: " + data.status().ToString());
  }
  if (Status s = data_in.Finish(); !s.ok()) return Corrupt(s.ToString());
  model->data = std::make_unique<models::Dataset>(std::move(data).value());
  models::ComponentConfig config = settings.config;
  SetCatalogSettings(&config, model->data->num_items(), settings.two_stage_min_items);
  std::vector<models::Fused::Component> components;
  for (const std::string& name : model->names) {
    models::RecommenderFactory factory = models::DefaultComponentFactory(name, config);
    if (!factory) return Problem("unknown component '" + name + "'");
    components.push_back({name, std::move(factory), 1.0});
  }
  models::FusedOptions fo;
  fo.learn_weights = false;
  fo.two_stage_min_items = settings.two_stage_min_items;
  model->fused = std::make_unique<models::Fused>(std::move(components), fo);
  // The two-stage state stored beside the model (kRetrievalFileName), used
  // only when its header is this model file's; each component then checks
  // that it belongs to its fit.
  RetrievalLoad& retrieval_load = parsed.retrieval_load;
  const ModelFileHeader& mh = file.header;
  if (retrieval_file.ok() && (retrieval_file->header.model_version != mh.model_version ||
                              retrieval_file->header.covered_sequence != mh.covered_sequence ||
                              retrieval_file->header.events != mh.events ||
                              retrieval_file->header.trained_at != mh.trained_at)) {
    retrieval_file = Status::InvalidArgument("written for another model");
  }
  if (retrieval_file.ok()) {
    models::ModelReader retrieval_in(retrieval_file->payload(), "retrieval file",
                                     retrieval_file->keep_alive);
    if (Status s = model->fused->LoadWithRetrieval(fused_in, retrieval_in, &retrieval_load.adopted);
        !s.ok()) {
      return Corrupt(s.ToString());
    }
    if (!retrieval_in.ok()) retrieval_load.problem = retrieval_in.status().ToString();
  } else {
    if (!retrieval_file.status().IsNotFound()) {
      retrieval_load.problem = retrieval_file.status().ToString();
    }
    if (Status s = model->fused->Load(fused_in); !s.ok()) return Corrupt(s.ToString());
  }
  retrieval_file = Status::NotFound("released");  // the index was copied out of the mapping
  if (Status s = fused_in.Finish(); !s.ok()) return Corrupt(s.ToString());
  model->facts = std::make_unique<rerank::CareFacts>();
  if (!model->facts->Load(facts_in) || !facts_in.Finish().ok()) {
    return Corrupt(facts_in.Finish().ToString());
  }
  parsed.model = std::move(model);
  parsed.file = std::move(file);
  return parsed;
}

RecommendService::StoredModelReader::StoredModelReader(Env* env, std::string model_path,
                                                       std::string retrieval_path,
                                                       ParseSettings settings)
    : env_(env),
      model_path_(std::move(model_path)),
      retrieval_path_(std::move(retrieval_path)),
      settings_(settings) {
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error&) {
    // No thread: Take reads on the caller's.
  }
}

RecommendService::StoredModelReader::~StoredModelReader() {
  cancel_.store(true);
  if (thread_.joinable()) thread_.join();
}

void RecommendService::StoredModelReader::Run() {
  parsed_ = NoThrow([&]() -> StatusOr<ParsedModel> {
    auto file = ReadModelFile(env_, model_path_, &cancel_);
    RECDB_RETURN_IF_ERROR(file.status());
    // The retrieval file is used only with this model file (ParseModel).
    auto retrieval = ReadModelFile(env_, retrieval_path_, &cancel_);
    if (cancel_.load()) return Status::Aborted("stored model read cancelled");
    return ParseModel(std::move(file).value(), std::move(retrieval), settings_);
  });
}

StatusOr<RecommendService::ParsedModel> RecommendService::StoredModelReader::Take() {
  if (!std::exchange(taken_, true)) {
    if (thread_.joinable()) {
      thread_.join();
    } else {
      Run();
    }
    return std::move(parsed_);
  }
  return Status::FailedPrecondition("stored model already taken");
}

std::shared_ptr<RecommendService::StoredModelReader> RecommendService::StartReadingStoredModel(
    const DBImpl& db) {
  return std::make_shared<StoredModelReader>(db.env(), db.derived_dir() + "/" + kModelFileName,
                                             db.derived_dir() + "/" + kRetrievalFileName,
                                             SettingsFor(db));
}

RecommendService::ParseSettings RecommendService::SettingsFor(const DBImpl& db) {
  ParseSettings settings;
  settings.config = ComponentConfigFor(db, 2);
  settings.two_stage_min_items = g_two_stage_min_items.load();
  return settings;
}

StatusOr<std::shared_ptr<RecommendService::Model>> RecommendService::ReadModel(
    StoredModelReader& reader, RetrievalLoad* retrieval_load_out, ModelFile* file_out,
    const std::function<void()>& catalog_ready) {
  RECDB_ASSIGN_OR_RETURN(ParsedModel parsed, reader.Take());
  const std::shared_ptr<Model>& model = parsed.model;
  if (model->data->num_users() > db_->UserIdLimit()) {
    return Problem("its dataset does not fit this database: " +
                   std::to_string(model->data->num_users()) + " users, the database has " +
                   std::to_string(db_->UserIdLimit()));
  }
  // The model must describe this database: the same items at the same
  // internal ids (a model file copied from elsewhere does not).
  const std::vector<std::string> ids = db_->ItemExternalIds();
  for (uint32_t i = 0; i < model->data->num_items(); ++i) {
    const std::string& stored = model->data->item_ids()[i];
    const bool hole = stored.starts_with("\xff#");
    if (!hole && (i >= ids.size() || ids[i] != stored)) {
      return Problem("its item " + std::to_string(i) + " is not this database's");
    }
  }
  if (model->fused->num_items() != model->data->num_items()) {
    return Corrupt("the blend and the dataset disagree on the item count");
  }
  if (model->facts->categories.size() != model->data->num_items()) {
    return Corrupt("the care facts and the dataset disagree on the item count");
  }
  if (catalog_ready) catalog_ready();
  model->cold = rerank::ColdItems::Build(model->facts->popularity, *catalog_);
  for (size_t j = 0; j < model->names.size(); ++j) {
    if (model->names[j] == "cooc_symmetric") model->cooc_component = static_cast<int>(j);
    if (model->names[j] == "content") model->content_component = static_cast<int>(j);
  }
  const ModelFileHeader& header = parsed.file.header;
  model->version = header.model_version;
  model->covered_sequence = header.covered_sequence;
  model->report.model_version = model->version;
  model->report.events = header.events;
  model->report.trained_at = header.trained_at;
  model->report.validation_ndcg = model->fused->validation_ndcg();
  for (const auto& [name, w] : model->fused->Weights()) model->report.weights[name] = w;
  // What Load left for the background (the iALS retrieval index when it was
  // not stored) runs on the Scheduler (decision 7); a read-only database
  // runs none and serves those components in full. Work that runs after its
  // model was replaced does nothing.
  RetrievalLoad& retrieval_load = parsed.retrieval_load;
  for (models::Recommender::DeferredWork& work : model->fused->TakeDeferredWork()) {
    ++retrieval_load.deferred;
    db_->scheduler()->Post("build retrieval index", [this, work = std::move(work)] {
      work(stop_background_);
      return Status::OK();
    });
  }
  *retrieval_load_out = std::move(retrieval_load);
  if (file_out != nullptr) *file_out = std::move(parsed.file);
  return model;
}

void RecommendService::ServeLoaded(std::shared_ptr<const Model> model, RetrievalLoad load) {
  next_version_ = std::max(next_version_, model->version + 1);
  std::shared_ptr<const Model> replaced;
  {
    std::lock_guard<std::mutex> lock(model_mu_);
    replaced = std::exchange(model_, std::move(model));
    stored_model_problem_.clear();
    retrieval_load_ = std::move(load);
  }
  RetireOnThisThread(std::move(replaced));
}

Status RecommendService::LoadStoredModel(const std::function<void()>& catalog_ready,
                                         const std::shared_ptr<StoredModelReader>& started) {
  std::lock_guard<std::mutex> train_lock(train_mu_);
  std::shared_ptr<StoredModelReader> own = started;
  if (own == nullptr) own = StartReadingStoredModel(*db_);
  RetrievalLoad load;
  auto model = ReadModel(*own, &load, nullptr, catalog_ready);
  if (catalog_ready) catalog_ready();
  if (model.status().IsNotFound()) return Status::OK();
  if (!model.ok()) {
    std::lock_guard<std::mutex> lock(model_mu_);
    stored_model_problem_ = "stored model not used: " + model.status().ToString();
    return Status::OK();
  }
  ServeLoaded(std::move(model).value(), std::move(load));
  LoadStoredPolicy();
  return impressions_->Refresh();
}

Status RecommendService::InstallModel(const std::string& dir) {
  std::lock_guard<std::mutex> train_lock(train_mu_);
  const std::string model_path = dir + "/" + kModelFileName;
  const std::string retrieval_path = dir + "/" + kRetrievalFileName;
  RetrievalLoad load;
  ModelFile file;
  StoredModelReader reader(db_->env(), model_path, retrieval_path, SettingsFor(*db_));
  auto model = ReadModel(reader, &load, &file);
  if (model.status().IsNotFound()) {
    return Status::InvalidArgument("install model: no " + model_path);
  }
  RECDB_RETURN_IF_ERROR(model.status().WithContext("install model " + model_path +
                                                   " (the serving model is unchanged)"));
  if (!db_->options().read_only) {
    // The verified bytes become DIR/derived's files, so that Open serves this
    // model next (the same order as SaveModel: the stale retrieval file goes
    // first; a retrieval file is best effort, its header ties it to the model).
    std::lock_guard<std::mutex> file_lock(model_file_mu_);
    if (::unlink(RetrievalPath().c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("install model: remove " + RetrievalPath() + ": " +
                             std::strerror(errno) + " (the serving model is unchanged)");
    }
    RECDB_RETURN_IF_ERROR(WriteFileDurably(db_->env(), ModelPath(), file.bytes, {})
                              .WithContext("install model (the serving model is unchanged)"));
    if (load.problem.empty()) {
      auto retrieval = ReadWholeFile(db_->env(), retrieval_path);
      if (retrieval.ok()) (void)WriteFileDurably(db_->env(), RetrievalPath(), *retrieval, {});
    }
  }
  ServeLoaded(std::move(model).value(), std::move(load));
  return impressions_->Refresh();
}

std::string RecommendService::StoredModelProblem() const {
  std::lock_guard<std::mutex> lock(model_mu_);
  return stored_model_problem_;
}

Status RecommendService::DropStoredModel(bool unload) {
  std::lock_guard<std::mutex> file_lock(model_file_mu_);
  model_file_drops_.fetch_add(1);
  if (unload) {
    std::shared_ptr<const Model> replaced;
    {
      std::lock_guard<std::mutex> lock(model_mu_);
      replaced = std::exchange(model_, nullptr);
      policy_.reset();
    }
    RetireOnThisThread(std::move(replaced));
  }
  // The learned policy and the retrieval state (item factors) too.
  for (const std::string& path : {ModelPath(), RetrievalPath(), PolicyPath()}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("remove " + path + ": " + std::strerror(errno));
    }
  }
  return Status::OK();
}

std::pair<uint64_t, uint64_t> RecommendService::ModelVersionAndSequence() const {
  auto m = Current();
  return m ? std::make_pair(m->version, m->covered_sequence) : std::make_pair<uint64_t, uint64_t>(0, 0);
}

TrainReport RecommendService::ModelReport() const {
  auto m = Current();
  TrainReport report = m ? m->report : TrainReport{};
  report.learned_policy = PolicyReport();
  return report;
}

Status RecommendService::StoreWeights(const Model& model, double validation_ndcg) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> names;
  std::vector<double> weights;
  for (const auto& [name, w] : model.fused->Weights()) {
    names.push_back(fbb.CreateString(name));
    weights.push_back(w);
  }
  for (const auto& d : model.fused->ContextDeltas()) {
    names.push_back(fbb.CreateString(model.names[d.component] + kDeltaSeparator + d.feature));
    weights.push_back(d.delta);
  }
  auto root = fb::CreateFusionModel(
      fbb, model.version, db_->clock()->NowSeconds(), model.report.events, fbb.CreateVector(names), fbb.CreateVector(weights), validation_ndcg);
  fbb.Finish(root);
  rocksdb::WriteBatch batch;
  auto* store = db_->store();
  batch.Put(store->Handle(storage::ColumnFamily::kModels), kFusionKey,
            rocksdb::Slice(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
  return store->Write(&batch, /*sync=*/false);
}

StatusOr<std::optional<RecommendService::StoredWeights>> RecommendService::LoadStoredWeights() const {
  std::string value;
  Status s = db_->store()->Get(storage::ColumnFamily::kModels, kFusionKey, &value);
  if (s.IsNotFound()) return std::optional<StoredWeights>();
  RECDB_RETURN_IF_ERROR(s);
  const storage::AlignedBytes aligned(value);  // RocksDB values may be misaligned
  const fb::FusionModel* m = storage::VerifiedRoot<fb::FusionModel>(aligned);
  if (m == nullptr) return Status::Corruption("models: stored fusion weights fail verification");
  StoredWeights out;
  out.version = m->version();
  if (m->names() == nullptr || m->weights() == nullptr || m->names()->size() != m->weights()->size()) {
    return Status::Corruption("models: stored fusion weights are malformed");
  }
  for (uint32_t i = 0; i < m->names()->size(); ++i) {
    out.names.push_back(m->names()->Get(i)->str());
    out.weights.push_back(m->weights()->Get(i));
  }
  out.validation_ndcg = m->validation_ndcg();
  return std::optional<StoredWeights>(std::move(out));
}

StatusOr<RecommendResponse> RecommendService::Recommend(const RecommendRequest& request) const {
  auto model = Current();
  if (!model) {
    return Status::FailedPrecondition("recommend: no trained model yet; call Train (recdb train DIR)");
  }
  uint32_t user_iid = models::kUnknownUser;
  bool personal = true;
  if (!request.user.empty()) {
    if (auto iid = db_->FindUserIid(request.user)) {
      user_iid = *iid;
      personal = db_->UserConsent(user_iid).personalization;
    }
  }
  if (request.require_known_user && user_iid == models::kUnknownUser) {
    return Status::NotFound("recommend: unknown user '" + request.user +
                            "' (require_known_user is set; without it an unknown user gets the "
                            "popularity fallback)");
  }
  if (request.policy == "learned") return ServeLearned(model, request, user_iid, personal);
  if (!request.policy.empty() && request.policy != "fused") {
    return Status::InvalidArgument("recommend: unknown policy '" + request.policy +
                                   "' (known: fused, learned)");
  }
  return Serve(model, request, user_iid, personal);
}

Status RecommendService::ForEachImpression(
    const std::function<Status(uint32_t user, rerank::Shown shown)>& fn) const {
  return impressions_->ForEach(fn);
}

StatusOr<RecommendResponse> RecommendService::RecommendAsOf(const RecommendRequest& request,
                                                            uint32_t user_iid,
                                                            int64_t as_of,
                                                            std::shared_ptr<const Model> model) const {
  if (!model) model = Current();
  if (!model) {
    return Status::FailedPrecondition("recommend: no trained model yet; call Train (recdb train DIR)");
  }
  return Serve(model, request, user_iid, db_->UserConsent(user_iid).personalization, as_of);
}

StatusOr<RecommendResponse> RecommendService::SimilarItems(const std::string& item_id, size_t k,
                                                           const ItemFilter& filter) const {
  if (k < 1 || k > kMaxRecommendK) {
    return Status::InvalidArgument("similar: k must be in 1.." + std::to_string(kMaxRecommendK));
  }
  const auto seed = db_->FindItemIid(item_id);
  if (!seed) return Status::NotFound("similar: unknown item '" + item_id + "'");
  RecommendRequest request;
  request.k = k;
  request.filter = filter;
  request.session_items = {item_id};
  request.exclude_ids = {item_id};
  auto model = Current();
  if (!model) {
    return Status::FailedPrecondition("similar: no trained model yet; call Train (recdb train DIR)");
  }
  RECDB_ASSIGN_OR_RETURN(RecommendResponse response,
                         Serve(model, request, models::kUnknownUser, true));
  // Item to item: no user to address; the sentences name the seed item.
  std::string seed_title = catalog_->Title(*seed);
  if (seed_title.empty()) seed_title = item_id;
  for (Recommendation& rec : response.items) explain::ExplainSimilar(seed_title, &rec);
  return response;
}

StatusOr<RecommendResponse> RecommendService::Serve(const std::shared_ptr<const Model>& model,
                                                    const RecommendRequest& request,
                                                    uint32_t user_iid, bool personal,
                                                    std::optional<int64_t> as_of) const {
  if (request.k < 1 || request.k > kMaxK) {
    return Status::InvalidArgument("recommend: k must be in 1.." + std::to_string(kMaxK));
  }
  const models::Dataset& data = *model->data;
  const uint32_t n = data.num_items();

  // Weights: learned, with the request's overrides.
  std::vector<double> weights(model->names.size());
  {
    auto learned = model->fused->Weights();
    for (size_t j = 0; j < weights.size(); ++j) weights[j] = learned[j].second;
    for (const auto& [name, w] : request.weights) {
      auto it = std::find(model->names.begin(), model->names.end(), name);
      if (it == model->names.end()) {
        return Status::InvalidArgument("recommend: unknown recommender '" + name + "' in weights");
      }
      if (!std::isfinite(w) || std::fabs(w) > kMaxFusionWeight) {
        return Status::InvalidArgument("recommend: weight of '" + name +
                                       "' must be a number in [-1e6, 1e6]");
      }
      weights[it - model->names.begin()] = w;
    }
  }
  if (!personal) {  // consent: non-personalised results only
    for (size_t j = 0; j < weights.size(); ++j) {
      if (models::FamilyOf(model->names[j]) != models::Family::kPopularity) weights[j] = 0;
    }
  }

  // The user's current history (real time), plus the session's items.
  std::vector<uint32_t> history;
  std::vector<int64_t> stamps;
  std::vector<float> event_weights;  // the event type's weight, per history item
  std::vector<uint32_t> seen;  // every item the user touched, negative feedback included
  std::unordered_map<uint32_t, int64_t> last_event;  // item -> latest event time (rotation)
  std::vector<explain::HistoryEvent> history_events;  // what the explanation may cite
  if (user_iid != models::kUnknownUser) {
    std::vector<double> weight_by_type;
    for (const auto& t : db_->EventTypesById()) {
      if (t.id >= weight_by_type.size()) weight_by_type.resize(t.id + 1, 0.0);
      weight_by_type[t.id] = t.weight;
    }
    const int64_t history_end = as_of ? std::max(kMinTimestamp, *as_of) : kMaxTimestamp + 1;
    Status s = db_->ScanUserEvents(user_iid, kMinTimestamp, history_end,
                                   [&](const storage::StoredEvent& e) -> Status {
                                     seen.push_back(e.item);
                                     int64_t& last = last_event[e.item];
                                     last = std::max(last, e.timestamp);
                                     double w = e.type < weight_by_type.size() ? weight_by_type[e.type] : 0;
                                     if (w > 0 && personal) {
                                       history_events.push_back(
                                           {e.item, e.type, e.has_value, e.value});
                                       history.push_back(e.item);
                                       stamps.push_back(e.timestamp);
                                       event_weights.push_back(static_cast<float>(w));
                                     }
                                     return Status::OK();
                                   });
    RECDB_RETURN_IF_ERROR(s);
  }
  for (const auto& id : request.session_items) {
    if (auto iid = db_->FindItemIid(id)) {
      history.push_back(*iid);
      stamps.push_back(stamps.empty() ? 0 : stamps.back());
      event_weights.push_back(1.0f);
      seen.push_back(*iid);
      history_events.push_back({*iid, 0, false, 0.0});
    }
  }
  const int64_t now = request.now != 0 ? request.now : (stamps.empty() ? 0 : stamps.back());

  std::vector<uint32_t> exclude;
  if (request.exclude_seen) exclude = seen;
  for (const auto& id : request.exclude_ids) {
    if (auto iid = db_->FindItemIid(id)) exclude.push_back(*iid);
  }
  std::sort(exclude.begin(), exclude.end());
  exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());

  RECDB_ASSIGN_OR_RETURN(ItemBitset allowed,
                         catalog_->Compile(request.filter, [this](const std::string& id) {
                           return db_->FindItemIid(id);
                         }, db_->ItemIdLimit()));
  if (as_of) {  // items that did not exist yet
    for (uint32_t i = 0, end = db_->ItemIdLimit(); i < end; ++i) {
      if (auto created = catalog_->CreatedAt(i); created && *created > *as_of) allowed.Set(i, false);
    }
  }

  models::UserQuery query;
  // As of a past time, the user's trained state (iALS's user vector) has
  // seen their later events: the user is folded in from the history as of
  // then instead (models treat an unknown user so).
  query.user = (user_iid != models::kUnknownUser && user_iid < data.num_users() && personal &&
                !as_of)
                   ? user_iid
                   : models::kUnknownUser;
  // Models see only the items they were trained on.
  std::vector<uint32_t> known_items;
  std::vector<int64_t> known_stamps;
  std::vector<float> known_weights;
  for (size_t i = 0; i < history.size(); ++i) {
    if (history[i] < n) {
      known_items.push_back(history[i]);
      known_stamps.push_back(stamps[i]);
      known_weights.push_back(event_weights[i]);
    }
  }
  // Cold start: no history (an unknown user, a user whose events carry no
  // positive signal) and no session. Personal recommenders have nothing to
  // say, and learned weights may give popularity ~0, which left a list of
  // the lowest item ids at score 0. Serve the documented fallback instead
  // (recdb/recommend.h): the popularity recommenders at weight 1, the
  // request's own weights still applying to the names it gives.
  const bool cold_start = known_items.empty();
  if (cold_start) {
    for (size_t j = 0; j < weights.size(); ++j) {
      const std::string& name = model->names[j];
      const bool fallback = name == "mostpop" || name == "trending" ||
                            (name == "context_pop" && !request.context.empty());
      weights[j] = fallback ? 1.0 : 0.0;
      if (auto it = request.weights.find(name); it != request.weights.end()) {
        weights[j] = it->second;
      }
    }
  }
  query.items = known_items;
  query.timestamps = known_stamps;
  query.weights = known_weights;
  query.now = now;
  const int64_t wall_now = request.now != 0 ? request.now : db_->clock()->NowSeconds();
  // Context: the request's "key=value" pairs the model knows, and its time
  // (daypart, weekend).
  std::vector<uint32_t> context_features;
  for (const auto& [key, value] : request.context) {
    if (auto f = data.FindContextFeature(key + "=" + value)) context_features.push_back(*f);
  }
  query.context_features = context_features;
  query.context_time = wall_now;

  std::vector<uint32_t> exclude_known;
  for (uint32_t i : exclude) {
    if (i < n) exclude_known.push_back(i);
  }
  // Care (engine/rerank): rotation, then the re-ranking stages on a pool
  // larger than k, then an explanation of every result (engine/explain).
  const CareOptions& care = request.care ? *request.care : db_->options().care;
  RECDB_RETURN_IF_ERROR(rerank::ValidateCare(care));
  rerank::Rules rules;
  for (const auto& id : request.rules.pin) {
    if (auto iid = db_->FindItemIid(id)) rules.pin.push_back(*iid);
  }
  for (const auto& [id, b] : request.rules.boost) {
    if (!std::isfinite(b) || std::fabs(b) > kMaxFusionWeight) {
      return Status::InvalidArgument("recommend: boost of '" + id +
                                     "' must be a number in [-1e6, 1e6]");
    }
    if (auto iid = db_->FindItemIid(id)) rules.boost[*iid] = b;
  }
  for (const auto& id : request.rules.bury) {
    if (auto iid = db_->FindItemIid(id)) rules.bury.insert(*iid);
  }
  const rerank::CareFacts* facts = model->facts.get();
  rerank::UserFacts user_facts;
  std::set<uint32_t> rotated_new;  // rotated-out items newer than the model
  if (facts) user_facts.history_mix = facts->HistoryMix(known_items);
  if (care.calibration > 0 && care.calibration_recent_items > 0) {
    user_facts.recent_items = rerank::RecentDistinct(known_items, care.calibration_recent_items);
  }
  if (user_iid != models::kUnknownUser &&
      (care.rotate_after_impressions > 0 || care.fair_share > 0)) {
    const int64_t window = std::max<int64_t>(care.rotate_period_seconds, 30 * 86400);
    RECDB_ASSIGN_OR_RETURN(std::vector<rerank::Shown> shown,
                           impressions_->UserImpressions(
                               user_iid, wall_now - window,
                               as_of ? std::min(wall_now + 1, *as_of) : wall_now + 1));
    for (uint32_t i : rerank::RotatedOut(shown, last_event, wall_now, care)) {
      if (i < n) {
        exclude_known.push_back(i);
      } else {
        rotated_new.insert(i);
      }
    }
    std::sort(exclude_known.begin(), exclude_known.end());
    exclude_known.erase(std::unique(exclude_known.begin(), exclude_known.end()), exclude_known.end());
    if (facts) user_facts.past_long_tail_share = rerank::LongTailExposureShare(shown, facts->long_tail);
  }
  const bool reranking = rerank::AnyStageOn(care) || !rules.pin.empty() || !rules.boost.empty() ||
                         !rules.bury.empty();
  const size_t pool_k = reranking ? request.k * care.candidate_factor : request.k;
  models::Fused::Normalisation norm;
  auto results = model->fused->RecommendExplained(
      query, pool_k, exclude_known, [&](uint32_t iid) { return allowed.Test(iid); }, weights,
      &norm);
  if (model->content_component >= 0) {
    const auto& content = static_cast<const models::ContentProfile&>(
        model->fused->component(model->content_component));
    RECDB_RETURN_IF_ERROR(AddNewContentItems(db_, content, model->content_component,
                                             model->content_space, request, history, stamps,
                                             event_weights, now, exclude, norm, pool_k, &results));
  }

  std::vector<rerank::Candidate> pool;
  std::unordered_map<uint32_t, size_t> result_of;
  for (size_t r = 0; r < results.size(); ++r) {
    pool.push_back({results[r].item, results[r].score});
    result_of[results[r].item] = r;
  }
  for (uint32_t pin : rules.pin) {  // pins join the pool if the request admits them
    if (result_of.count(pin) || !allowed.Test(pin) ||
        std::binary_search(exclude.begin(), exclude.end(), pin)) {
      continue;
    }
    pool.push_back({pin, pool.empty() ? 0.0 : pool.back().score});
    result_of[pin] = SIZE_MAX;
  }
  rerank::ItemFacts item_facts = facts ? facts->Items() : rerank::ItemFacts{};
  item_facts.exposure = [&](uint32_t iid) {
    rerank::ItemExposure e = impressions_->Exposure(iid);
    auto created = catalog_->CreatedAt(iid);
    e.is_new = created && *created > 0 && wall_now - *created < rerank::kNewItemSeconds;
    return e;
  };
  // Exploration may also show cold items, which no recommender ranks (an
  // item without events is in no pool): a seeded sample as large as the
  // pool, of items the request admits that are still under-exposed.
  std::vector<uint32_t> cold;
  if (care.exploration > 0) {
    cold = model->cold.Sample(
        db_->ItemIdLimit(), wall_now, pool_k,
        static_cast<uint64_t>(request.now) ^ (uint64_t{user_iid} << 32) ^ care.exploration_seed,
        [&](uint32_t iid) {
          return allowed.Test(iid) && catalog_->CreatedAt(iid).has_value() &&
                 !result_of.count(iid) && !rules.bury.count(iid) &&
                 !std::binary_search(exclude.begin(), exclude.end(), iid) &&
                 !std::binary_search(exclude_known.begin(), exclude_known.end(), iid) &&
                 !rotated_new.count(iid) &&
                 impressions_->Exposure(iid).impressions < care.exploration_max_impressions;
        });
    item_facts.cold = cold;
  }
  std::unordered_map<uint32_t, std::vector<float>> vectors;
  if (care.diversity > 0 && !care.diversity_space.empty() && db_->spaces() != nullptr) {
    for (const auto& c : pool) {
      auto v = db_->spaces()->GetVector(care.diversity_space, EntityKind::kItem,
                                        db_->ItemExternalId(c.item));
      if (!v.ok()) continue;  // no vector (or no such space): categories decide
      double norm = 0;
      for (float x : *v) norm += static_cast<double>(x) * x;
      if (norm <= 0) continue;
      for (float& x : *v) x = static_cast<float>(x / std::sqrt(norm));
      vectors[c.item] = std::move(*v);
    }
    item_facts.vector = [&](uint32_t iid) -> const std::vector<float>* {
      auto it = vectors.find(iid);
      return it == vectors.end() ? nullptr : &it->second;
    };
  }
  const uint64_t seed = care.exploration_seed ^ (uint64_t{user_iid} * 0x9E3779B97F4A7C15ull) ^
                        static_cast<uint64_t>(request.now);
  std::vector<rerank::Placed> placed =
      rerank::Rerank(pool, request.k, care, rules, item_facts, user_facts, seed);

  explain::ExplainContext ex;
  ex.catalog = catalog_;
  ex.external_id = [this](uint32_t iid) { return db_->ItemExternalId(iid); };
  // The items an explanation may cite are only needed for the
  // co-occurrence evidence ("because you interacted with X").
  std::vector<uint32_t> reasons;
  if (model->cooc_component >= 0) {
    ex.cooccurrence =
        &static_cast<const models::Cooccurrence&>(model->fused->component(model->cooc_component));
    reasons = explain::CitableItems(history_events);
    std::erase_if(reasons, [n](uint32_t i) { return i >= n; });
  }
  ex.facts = facts;
  ex.reasons = reasons;
  // The sequence component's evidence (attention over the recent history),
  // once per request: only when it is in the blend with a weight, and only
  // items that may be cited as a reason.
  for (size_t j = 0; j < model->names.size(); ++j) {
    if (model->names[j] != "seq" || weights[j] == 0 || known_items.empty()) continue;
    for (const auto& [index, w] : model->fused->component(j).HistoryEvidence(query, 2)) {
      if (w <= 0 || index >= query.items.size()) continue;
      const uint32_t item = query.items[index];
      if (std::find(reasons.begin(), reasons.end(), item) != reasons.end()) {
        ex.attended.push_back(item);
      }
    }
    ex.attended_by = model->names[j];
  }
  ex.k = request.k;
  ex.cold_start = cold_start;
  ex.personal = personal;
  RecommendResponse response;
  response.model_version = model->version;
  for (const rerank::Placed& p : placed) {
    Recommendation rec;
    rec.id = db_->ItemExternalId(p.item);
    rec.score = p.score;
    auto found = result_of.find(p.item);  // cold items explored are not in it
    const size_t r = found == result_of.end() ? SIZE_MAX : found->second;
    if (r != SIZE_MAX) {
      for (size_t j = 0; j < results[r].contributions.size(); ++j) {
        if (weights[j] != 0) rec.contributions[model->names[j]] = results[r].contributions[j];
      }
    }
    auto boost = rules.boost.find(p.item);
    ex.boosted = boost != rules.boost.end() && boost->second > 0;
    explain::ExplainResult(ex, p.item, &p, &rec);
    response.items.push_back(std::move(rec));
  }
  return response;
}

Status RecommendService::RecordImpressions(const WriteOptions& wo, const std::string& user,
                                           const std::vector<std::string>& items,
                                           const ImpressionContext& context) {
  auto user_iid = db_->FindUserIid(user);
  if (!user_iid) return Status::NotFound("impressions: unknown user '" + user + "'");
  if (items.empty() || items.size() > kMaxK) {
    return Status::InvalidArgument("impressions: give 1.." + std::to_string(kMaxK) + " items");
  }
  if (context.timestamp != 0 &&
      (context.timestamp < kMinTimestamp || context.timestamp > kMaxTimestamp)) {
    return Status::InvalidArgument("impressions: timestamp out of range");
  }
  if (context.context.size() > kMaxContextEntries) {
    return Status::InvalidArgument("impressions: more than " +
                                   std::to_string(kMaxContextEntries) + " context entries");
  }
  if (!context.propensities.empty()) {
    if (context.propensities.size() != items.size()) {
      return Status::InvalidArgument("impressions: " + std::to_string(context.propensities.size()) +
                                     " propensities for " + std::to_string(items.size()) +
                                     " items (give one per item, or none)");
    }
    for (size_t i = 0; i < context.propensities.size(); ++i) {
      const double p = context.propensities[i];
      if (!(p > 0.0 && p <= 1.0)) {  // NaN fails too
        return Status::InvalidArgument("impressions: propensities[" + std::to_string(i) +
                                       "] is not in (0, 1]");
      }
    }
  }
  std::vector<uint32_t> iids;
  for (size_t i = 0; i < items.size(); ++i) {
    auto iid = db_->FindItemIid(items[i]);
    if (!iid) {
      return Status::InvalidArgument("impressions: items[" + std::to_string(i) +
                                     "]: unknown item '" + items[i] + "'");
    }
    iids.push_back(*iid);
  }
  RECDB_RETURN_IF_ERROR(DBImpl::ValidateAppliedPosition(wo));
  if (!db_->UserConsent(*user_iid).store_events) {  // consent: not stored
    if (wo.applied_position_key.empty()) return Status::OK();
    rocksdb::WriteBatch batch;  // only the caller's log position
    DBImpl::PutAppliedPosition(&batch, db_->store()->Handle(storage::ColumnFamily::kMeta), wo);
    return db_->store()->Write(&batch, wo.sync);
  }
  const int64_t ts = context.timestamp != 0 ? context.timestamp : db_->clock()->NowSeconds();
  return impressions_->Record(*user_iid, ts, iids, context.context, context.propensities, wo);
}

}  // namespace recdb
