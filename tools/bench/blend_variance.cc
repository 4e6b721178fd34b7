// `recdb bench blend-variance [--data DIR] [--bags 0,8] [--caps 0]
// [--perturbations 6]`: how much the fused blend's learned weights, and the
// quality they give, move with choices that should not matter (the search's
// start weights and the order it visits the components, and for a bagged
// search its seed), for each weight learner (FusedOptions::weight_bags) and
// RecentKnn cap (ComponentConfig::recent_knn_neighbours).
//
// Validation only: ml-100k is split by the docs/DESIGN.md rule and only the
// train part is read; it is split again by the same rule (the "validation
// split"), the blend is fitted on that split's train part (which carves its
// own inner split to learn its weights, as Fit always does) and scored on
// that split's held-out events. The test split is never read, so these
// figures may choose defaults.
//
// Every component is fitted once per (data, cap) and shared by all the
// blends of the run (a cached fit; iALS's final fit is cold here, not warm-
// started from the validation fit as in Train), so a blend costs only its
// weight learning and scoring: the runs differ only in the learner.
// Perturbation p: start weight {1, 0.5, 2}[p % 3], the components in order
// (p / 3 even) or reversed (odd), bag seed 42 + p. Prints one line per blend
// and per (bags, cap) the mean, standard deviation and range.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "engine/eval/evaluator.h"
#include "engine/eval/movielens.h"
#include "engine/eval/split.h"
#include "engine/models/fused.h"
#include "tools/bench/bench.h"

namespace recdb::bench {
namespace {

// Fitted components shared across blends: one fit per (name, cap, data).
class FitCache {
 public:
  StatusOr<std::shared_ptr<const models::Recommender>> Get(const std::string& name, size_t cap,
                                                          const models::RecommenderFactory& factory,
                                                          const models::Dataset& data) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto key = std::make_tuple(name, cap, data.interactions().size(), data.num_users());
    if (auto it = fits_.find(key); it != fits_.end()) return it->second;
    std::shared_ptr<models::Recommender> model = factory();
    RECDB_RETURN_IF_ERROR(model->Fit(data).WithContext(name));
    fits_[key] = model;
    return std::shared_ptr<const models::Recommender>(model);
  }

 private:
  std::mutex mu_;
  std::map<std::tuple<std::string, size_t, size_t, uint32_t>, std::shared_ptr<const models::Recommender>> fits_;
};

// A blend component whose Fit takes the cached fit.
class CachedComponent final : public models::Recommender {
 public:
  CachedComponent(FitCache* cache, std::string name, size_t cap, models::RecommenderFactory factory)
      : cache_(cache), name_(std::move(name)), cap_(cap), factory_(std::move(factory)) {}
  std::string_view Name() const override { return name_; }
  Status Fit(const models::Dataset& data) override {
    RECDB_ASSIGN_OR_RETURN(model_, cache_->Get(name_, cap_, factory_, data));
    return Status::OK();
  }
  uint32_t num_items() const override { return model_ ? model_->num_items() : 0; }
  void Score(const models::UserQuery& query, std::span<float> scores) const override {
    model_->Score(query, scores);
  }

 private:
  FitCache* cache_;
  std::string name_;
  size_t cap_;
  models::RecommenderFactory factory_;
  std::shared_ptr<const models::Recommender> model_;
};

std::vector<int64_t> ParseInts(const std::string& s) {
  std::vector<int64_t> out;
  for (size_t pos = 0; pos <= s.size();) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    if (comma > pos) out.push_back(std::stoll(s.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

struct Spread {
  double mean = 0, sd = 0, min = 0, max = 0;
};
Spread SpreadOf(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (double x : v) s.mean += x / v.size();
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / (v.size() - 1)) : 0.0;
  return s;
}

int BlendVariance(const std::string& dir, const std::vector<int64_t>& bags, const std::vector<int64_t>& caps,
                  int perturbations) {
  auto data = eval::LoadMovieLens100k(dir);
  if (!data.ok()) return std::fprintf(stderr, "blend-variance: %s\n", data.status().ToString().c_str()), 1;
  auto design = eval::SplitByTime(*data);
  if (!design.ok()) return std::fprintf(stderr, "blend-variance: %s\n", design.status().ToString().c_str()), 1;
  // The validation split: carved from the design split's train part only.
  auto val = eval::SplitByTime(design->train);
  if (!val.ok()) return std::fprintf(stderr, "blend-variance: %s\n", val.status().ToString().c_str()), 1;
  std::printf("validation split of the DESIGN.md train part: %u users, %zu train events, %zu held-out users\n",
              val->train.num_users(), val->train.interactions().size(), val->test_users.size());
  FitCache cache;
  for (int64_t cap : caps) {
    models::ComponentConfig config;
    config.recent_knn_neighbours = static_cast<size_t>(cap);
    const auto base = models::DefaultFusedComponents(val->train.num_items(), config);
    for (int64_t b : bags) {
      std::vector<double> ndcg, recall, inner;
      std::map<std::string, std::vector<double>> weights;
      double blend_s = 0;
      for (int p = 0; p < perturbations; ++p) {
        const double start = std::vector<double>{1, 0.5, 2}[p % 3];
        std::vector<models::Fused::Component> components;
        for (const auto& c : base) {
          components.push_back({c.name, [&cache, name = c.name, cap, f = c.factory] {
                                  return std::make_unique<CachedComponent>(&cache, name, static_cast<size_t>(cap), f);
                                },
                                start, c.grid});
        }
        if ((p / 3) % 2 == 1) std::reverse(components.begin(), components.end());
        models::FusedOptions fo;
        fo.weight_bags = static_cast<int>(b);
        fo.weight_bag_seed = 42 + static_cast<uint64_t>(p);
        models::Fused fused(components, fo);
        if (Status s = fused.Fit(val->train); !s.ok()) {
          return std::fprintf(stderr, "blend-variance: fit: %s\n", s.ToString().c_str()), 1;
        }
        blend_s += fused.blend_seconds();
        const auto r = eval::Evaluate(fused, *val);
        ndcg.push_back(r.ndcg), recall.push_back(r.recall), inner.push_back(fused.validation_ndcg());
        std::printf("bags %lld cap %lld start %.1f order %s seed %d: validation ndcg@10 %.4f recall@20 %.4f "
                    "(inner objective %.4f, blend %.1f s) weights:",
                    static_cast<long long>(b), static_cast<long long>(cap), start, (p / 3) % 2 ? "reversed" : "as-is",
                    42 + p, r.ndcg, r.recall, fused.validation_ndcg(), fused.blend_seconds());
        double sum = 0;
        for (const auto& [name, w] : fused.Weights()) sum += std::abs(w);
        for (const auto& [name, w] : fused.Weights()) {
          std::printf(" %s=%.2f", name.c_str(), w);
          weights[name].push_back(sum > 0 ? w / sum : 0.0);  // only the direction ranks
        }
        std::printf("\n");
        std::fflush(stdout);
      }
      const Spread n = SpreadOf(ndcg), rc = SpreadOf(recall), in = SpreadOf(inner);
      double weight_sd = 0;  // mean over components of the sd of its share of the weights' sum
      for (const auto& [name, w] : weights) weight_sd += SpreadOf(w).sd / weights.size();
      std::printf("SUMMARY bags %lld cap %lld over %d: validation ndcg@10 mean %.4f sd %.4f range %.4f-%.4f; "
                  "recall@20 mean %.4f sd %.4f; inner objective mean %.4f sd %.4f; weight share sd (mean over "
                  "components) %.4f; blend %.1f s per fit\n",
                  static_cast<long long>(b), static_cast<long long>(cap), perturbations, n.mean, n.sd, n.min, n.max,
                  rc.mean, rc.sd, in.mean, in.sd, weight_sd, blend_s / std::max(1, perturbations));
      std::fflush(stdout);
    }
  }
  return 0;
}

int BenchBlendVarianceMain(int argc, char** argv) {
  Flags f("blend-variance");
  f.args().AddFlag("data", "DIR", "the ml-100k directory", "../shared/data/ml-100k");
  f.args().AddFlag("bags", "B,B", "FusedOptions::weight_bags values (0: one search)", "0,8");
  f.args().AddFlag("caps", "N,N", "ComponentConfig::recent_knn_neighbours values (0: uncapped)", "0");
  f.args().AddFlag("perturbations", "N", "blends per (bags, cap): start weight x order x seed", "6");
  if (!f.Parse(argc, argv)) return f.exit_code();
  return BlendVariance(f.Str("data"), ParseInts(f.Str("bags")), ParseInts(f.Str("caps")),
                       static_cast<int>(f.Int("perturbations", 1)));
}

}  // namespace

RECDB_REGISTER_BENCH("blend-variance", BenchBlendVarianceMain,
                     "spread of the fused blend's learned weights on ml-100k's validation split (no test read)");

}  // namespace recdb::bench
