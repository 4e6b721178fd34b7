#include "sim/policy.h"

#include <algorithm>
#include <charconv>

#include "sim/rng.h"

namespace recdb::sim {

int64_t ItemIndex(const std::string& id) {
  if (id.size() < 2 || id[0] != 'i') return -1;
  int64_t v = -1;
  auto [p, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), v);
  if (ec != std::errc() || p != id.data() + id.size()) return -1;
  return v;
}

StatusOr<CareOptions> CarePreset(const std::string& name) {
  CareOptions c;
  if (name == "balanced") {
    c.calibration = 0.8;
    c.calibration_recent_items = 10;
    c.exploration = 0.1;
  } else if (name == "balanced-list") {  // balanced before calibration_recent_items
    c.calibration = 0.5;
    c.exploration = 0.1;
  } else if (name == "calibrated") {
    c.calibration = 0.5;
  } else if (name == "diverse") {
    c.diversity = 0.85;
  } else if (name == "explore") {
    c.exploration = 0.2;
  } else {
    return Status::InvalidArgument("unknown care preset '" + name + "'");
  }
  return c;
}

std::vector<std::string> CarePresetNames() {
  return {"balanced", "balanced-list", "calibrated", "diverse", "explore"};
}

namespace {

// DB::Recommend with optional care and weights; propensity 1.0 except
// exploration slots (policy.h).
class RecommendPolicy : public Policy {
 public:
  RecommendPolicy(std::string name, std::optional<CareOptions> care)
      : name_(std::move(name)), care_(std::move(care)) {}
  std::string name() const override { return name_; }

  StatusOr<Slate> Rank(DB* db, const RankContext& ctx) override {
    RecommendRequest req;
    req.user = "u" + std::to_string(ctx.user);
    req.k = ctx.k;
    req.now = ctx.now;
    req.weights = weights_;
    if (care_) {
      req.care = *care_;
      // A fresh exploration seed per (user, round): lists are stochastic
      // across rounds yet reproducible.
      req.care->exploration_seed =
          DrawKey(ctx.seed, 7, static_cast<uint64_t>(ctx.user), static_cast<uint64_t>(ctx.round));
    }
    req.policy = policy_;
    auto resp = db->Recommend(req);
    if (!resp.ok()) return resp.status();
    Slate slate;
    for (const auto& r : resp->items) {
      const int64_t i = ItemIndex(r.id);
      if (i < 0) return Status::Internal("sim: unexpected item id " + r.id);
      double p = r.propensity;  // 1 for the fused ranking
      if (care_) {
        for (const auto& e : r.explanation.evidence) {
          if (e.kind == "exploration") {
            p = 1.0 / static_cast<double>(care_->candidate_factor * ctx.k);
          }
        }
      }
      slate.items.push_back(i);
      slate.propensities.push_back(p);
    }
    return slate;
  }

 protected:
  std::string name_;
  std::optional<CareOptions> care_;
  std::map<std::string, double> weights_;
  std::string policy_;  // RecommendRequest::policy
};

class DatabaseLearnedPolicy : public RecommendPolicy {
 public:
  DatabaseLearnedPolicy() : RecommendPolicy("recdb-learned", std::nullopt) { policy_ = "learned"; }
  bool ServesDatabasePolicy() const override { return true; }
  Status OnTrained(const TrainReport& report) override {
    parameters_ = report.learned_policy.weights;
    return Status::OK();
  }
  std::map<std::string, double> Parameters() const override { return parameters_; }

 private:
  std::map<std::string, double> parameters_;
};

class PopularityPolicy : public RecommendPolicy {
 public:
  PopularityPolicy() : RecommendPolicy("popularity", std::nullopt) {}
  Status OnTrained(const TrainReport& report) override {
    if (!report.weights.count("trending")) {
      return Status::FailedPrecondition("sim: the trained model has no 'trending' recommender");
    }
    weights_.clear();
    for (const auto& [name, w] : report.weights) weights_[name] = name == "trending" ? 1.0 : 0.0;
    return Status::OK();
  }
};

class RandomPolicy : public Policy {
 public:
  std::string name() const override { return "random"; }
  bool UsesModel() const override { return false; }
  StatusOr<Slate> Rank(DB* /*db*/, const RankContext& ctx) override {
    std::vector<int64_t> pool;
    pool.reserve(ctx.live_items->size());
    for (int64_t i : *ctx.live_items) {
      if (!ctx.consumed->count(i)) pool.push_back(i);
    }
    Slate slate;
    const size_t n = pool.size();
    const size_t k = std::min(ctx.k, n);
    Rng rng(DrawKey(ctx.seed, kRandomPolicyStream, static_cast<uint64_t>(ctx.user),
                    static_cast<uint64_t>(ctx.round)));
    // Partial Fisher-Yates: slot j is uniform over the pool, marginally.
    for (size_t j = 0; j < k; ++j) {
      const size_t pick = j + rng.Below(n - j);
      std::swap(pool[j], pool[pick]);
      slate.items.push_back(pool[j]);
      slate.propensities.push_back(1.0 / static_cast<double>(n));
    }
    return slate;
  }
};

}  // namespace

std::unique_ptr<Policy> MakeDatabaseLearnedPolicy() {
  return std::make_unique<DatabaseLearnedPolicy>();
}

std::unique_ptr<Policy> MakeFusedPolicy() {
  return std::make_unique<RecommendPolicy>("fused", std::nullopt);
}
std::unique_ptr<Policy> MakeCarePolicy(const CareOptions& care) {
  return std::make_unique<RecommendPolicy>("fused+care", care);
}
std::unique_ptr<Policy> MakePopularityPolicy() { return std::make_unique<PopularityPolicy>(); }
std::unique_ptr<Policy> MakeRandomPolicy() { return std::make_unique<RandomPolicy>(); }

}  // namespace recdb::sim
