#include "engine/recommend/recommend_service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "engine/db_impl.h"
#include "engine/models/cooccurrence.h"
#include "engine/models/dataset.h"
#include "engine/models/fused.h"
#include "engine/recommend/training_data.h"

namespace recdb {

namespace {

constexpr size_t kMaxK = 1000;

// How a recommender's evidence reads in an explanation.
enum class Family { kItemBased, kCollaborative, kPopularity };

Family FamilyOf(const std::string& name) {
  if (name == "trending" || name == "mostpop") return Family::kPopularity;
  if (name == "ials" || name == "ease") return Family::kCollaborative;
  return Family::kItemBased;  // itemknn, recentknn*, cooc_*
}

std::string Percent(double share) {
  return std::to_string(static_cast<int>(std::lround(share * 100))) + "%";
}

}  // namespace

struct RecommendService::Model {
  uint64_t version = 0;
  std::unique_ptr<models::Dataset> data;
  std::unique_ptr<models::Fused> fused;
  std::vector<std::string> names;  // component names
  TrainReport report;
  int cooc_component = -1;  // index of the symmetric co-occurrence model, for evidence
};

RecommendService::RecommendService(DBImpl* db, const ItemCatalog* catalog)
    : db_(db), catalog_(catalog) {}

RecommendService::~RecommendService() = default;

std::shared_ptr<const RecommendService::Model> RecommendService::Current() const {
  std::lock_guard<std::mutex> lock(model_mu_);
  return model_;
}

bool RecommendService::trained() const { return Current() != nullptr; }

std::vector<std::string> RecommendService::RecommenderNames() const {
  auto m = Current();
  return m ? m->names : std::vector<std::string>{};
}

StatusOr<TrainReport> RecommendService::Train(const TrainOptions& options) {
  std::lock_guard<std::mutex> train_lock(train_mu_);
  const auto start = std::chrono::steady_clock::now();
  TrainingDataStats stats;
  RECDB_ASSIGN_OR_RETURN(models::Dataset data, BuildTrainingDataset(*db_, *catalog_, &stats));
  if (data.interactions().empty()) {
    return Status::FailedPrecondition("train: no events with a positive weight to learn from");
  }
  auto model = std::make_shared<Model>();
  model->data = std::make_unique<models::Dataset>(std::move(data));
  models::FusedOptions fo;
  fo.learn_weights = options.learn_weights;
  fo.threads = std::max(1, options.threads);
  auto components = models::DefaultFusedComponents(fo.threads);
  model->fused = std::make_unique<models::Fused>(std::move(components), fo);
  RECDB_RETURN_IF_ERROR(model->fused->Fit(*model->data));
  for (size_t j = 0; j < model->fused->num_components(); ++j) {
    model->names.push_back(model->fused->component_name(j));
    if (model->names.back() == "cooc_symmetric") model->cooc_component = static_cast<int>(j);
  }
  model->version = next_version_++;
  model->report.model_version = model->version;
  model->report.events = stats.events_used;
  for (const auto& [name, w] : model->fused->Weights()) model->report.weights[name] = w;
  model->report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  TrainReport report = model->report;
  {
    std::lock_guard<std::mutex> lock(model_mu_);
    model_ = std::move(model);
  }
  return report;
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
  return Serve(model, request, user_iid, personal);
}

StatusOr<RecommendResponse> RecommendService::SimilarItems(const std::string& item_id, size_t k,
                                                           const ItemFilter& filter) const {
  if (!db_->FindItemIid(item_id)) return Status::NotFound("similar: unknown item '" + item_id + "'");
  RecommendRequest request;
  request.k = k;
  request.filter = filter;
  request.session_items = {item_id};
  request.exclude_ids = {item_id};
  auto model = Current();
  if (!model) {
    return Status::FailedPrecondition("similar: no trained model yet; call Train (recdb train DIR)");
  }
  return Serve(model, request, models::kUnknownUser, true);
}

StatusOr<RecommendResponse> RecommendService::Serve(const std::shared_ptr<const Model>& model,
                                                    const RecommendRequest& request,
                                                    uint32_t user_iid, bool personal) const {
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
      if (!std::isfinite(w)) return Status::InvalidArgument("recommend: weight of '" + name + "' is not finite");
      weights[it - model->names.begin()] = w;
    }
  }
  if (!personal) {  // consent: non-personalised results only
    for (size_t j = 0; j < weights.size(); ++j) {
      if (FamilyOf(model->names[j]) != Family::kPopularity) weights[j] = 0;
    }
  }

  // The user's current history (real time), plus the session's items.
  std::vector<uint32_t> history;
  std::vector<int64_t> stamps;
  std::vector<uint32_t> seen;  // every item the user touched, negative feedback included
  if (user_iid != models::kUnknownUser) {
    std::vector<double> weight_by_type;
    for (const auto& t : db_->EventTypesById()) {
      if (t.id >= weight_by_type.size()) weight_by_type.resize(t.id + 1, 0.0);
      weight_by_type[t.id] = t.weight;
    }
    Status s = db_->ScanUserEvents(user_iid, kMinTimestamp, kMaxTimestamp + 1,
                                   [&](const storage::StoredEvent& e) -> Status {
                                     seen.push_back(e.item);
                                     double w = e.type < weight_by_type.size() ? weight_by_type[e.type] : 0;
                                     if (w > 0 && personal) {
                                       history.push_back(e.item);
                                       stamps.push_back(e.timestamp);
                                     }
                                     return Status::OK();
                                   });
    RECDB_RETURN_IF_ERROR(s);
  }
  for (const auto& id : request.session_items) {
    if (auto iid = db_->FindItemIid(id)) {
      history.push_back(*iid);
      stamps.push_back(stamps.empty() ? 0 : stamps.back());
      seen.push_back(*iid);
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

  models::UserQuery query;
  query.user = (user_iid != models::kUnknownUser && user_iid < data.num_users() && personal)
                   ? user_iid
                   : models::kUnknownUser;
  // Models see only the items they were trained on.
  std::vector<uint32_t> known_items;
  std::vector<int64_t> known_stamps;
  for (size_t i = 0; i < history.size(); ++i) {
    if (history[i] < n) {
      known_items.push_back(history[i]);
      known_stamps.push_back(stamps[i]);
    }
  }
  query.items = known_items;
  query.timestamps = known_stamps;
  query.now = now;

  std::vector<uint32_t> exclude_known;
  for (uint32_t i : exclude) {
    if (i < n) exclude_known.push_back(i);
  }
  auto results = model->fused->RecommendExplained(
      query, request.k, exclude_known, [&](uint32_t iid) { return allowed.Test(iid); }, weights);

  RecommendResponse response;
  response.model_version = model->version;
  for (const auto& r : results) {
    Recommendation rec;
    rec.id = db_->ItemExternalId(r.item);
    rec.score = r.score;
    for (size_t j = 0; j < r.contributions.size(); ++j) {
      if (weights[j] != 0) rec.contributions[model->names[j]] = r.contributions[j];
    }
    Explain(*model, known_items, &rec, r.item);
    response.items.push_back(std::move(rec));
  }
  return response;
}

void RecommendService::Explain(const Model& model, const std::vector<uint32_t>& history,
                               Recommendation* rec, uint32_t item) const {
  // Shares: each recommender's positive contribution over the sum of them.
  double positive = 0;
  for (const auto& [name, c] : rec->contributions) positive += std::max(0.0, c);
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [name, c] : rec->contributions) {
    if (c > 0 && positive > 0) ranked.push_back({c / positive, name});
  }
  if (ranked.empty() && !rec->contributions.empty()) {
    // Every part is below the user's average (a weak list, e.g. a narrow
    // filter): the least negative recommender is what placed it.
    auto best = std::max_element(rec->contributions.begin(), rec->contributions.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    ranked.push_back({1.0, best->first});
  }
  std::sort(ranked.rbegin(), ranked.rend());
  for (const auto& [share, name] : ranked) {
    Evidence e;
    e.kind = "recommender";
    e.recommender = name;
    e.share = share;
    e.text = name + " (" + Percent(share) + ")";
    rec->explanation.evidence.push_back(std::move(e));
  }

  // The user's own item that best explains it: the history item with the
  // strongest co-occurrence with the recommended one.
  std::string because;
  if (model.cooc_component >= 0 && !history.empty()) {
    const auto& cooc =
        static_cast<const models::Cooccurrence&>(model.fused->component(model.cooc_component));
    std::set<uint32_t> in_history(history.begin(), history.end());
    float best = 0;
    uint32_t best_item = 0;
    for (const auto& nb : cooc.Neighbours(item)) {
      if (in_history.count(nb.item) && nb.score > best) best = nb.score, best_item = nb.item;
    }
    if (best > 0) {
      because = catalog_->Title(best_item);
      Evidence e;
      e.kind = "because_item";
      e.recommender = "cooc_symmetric";
      e.item = db_->ItemExternalId(best_item);
      e.text = "you interacted with " + because;
      rec->explanation.evidence.push_back(std::move(e));
    }
  }

  const std::string top = ranked.empty() ? "" : ranked.front().second;
  if (!top.empty() && FamilyOf(top) == Family::kPopularity) {
    rec->explanation.sentence = "Popular right now with people on this service.";
  } else if (!because.empty()) {
    rec->explanation.sentence = "Because you interacted with " + because + ".";
  } else if (!top.empty() && FamilyOf(top) == Family::kCollaborative) {
    rec->explanation.sentence = "People with tastes like yours liked it.";
  } else if (!top.empty()) {
    rec->explanation.sentence = "Often chosen together with items in your history.";
  } else {
    rec->explanation.sentence = "Ranked by the blend of recdb's recommenders.";
  }
}

}  // namespace recdb
