#include "engine/recommend/evaluation.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>

#include "engine/eval/evaluator.h"
#include "engine/eval/split.h"
#include "engine/models/component_registry.h"
#include "engine/models/content_profile.h"
#include "engine/models/context_popularity.h"
#include "engine/models/cooccurrence.h"
#include "engine/models/ease.h"
#include "engine/models/fused.h"
#include "engine/models/ials.h"
#include "engine/models/item_knn.h"
#include "engine/models/most_pop.h"
#include "engine/models/trending.h"
#include "engine/rerank/rerank_eval.h"

namespace recdb {

namespace {

EvalMetrics ToMetrics(const eval::EvalReport& r) {
  EvalMetrics m;
  m.ndcg_at_10 = r.ndcg;
  m.recall_at_20 = r.recall;
  m.coverage_at_10 = r.coverage;
  m.ild_at_10 = r.ild;
  m.novelty_at_10 = r.novelty;
  m.gini_at_10 = r.gini;
  m.calibration_kl_at_10 = r.calibration_kl;
  m.long_tail_share_at_10 = r.long_tail_share;
  return m;
}

// The knob `name` of `care`, or null for an unknown name.
double* Knob(CareOptions& care, const std::string& name) {
  if (name == "diversity") return &care.diversity;
  if (name == "calibration") return &care.calibration;
  if (name == "fair_share" || name == "fairness") return &care.fair_share;
  if (name == "exploration") return &care.exploration;
  return nullptr;
}

// "0.5", "1": a knob value as a progress step names it.
std::string FormatKnobValue(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// The values a sweep visits. Errors: InvalidArgument for an unknown knob,
// a step <= 0, from > to, or more than 101 points.
StatusOr<std::vector<double>> SweepValues(const EvaluateOptions::Sweep& s) {
  CareOptions probe;
  if (!Knob(probe, s.knob)) {
    return Status::InvalidArgument("eval: unknown sweep knob '" + s.knob +
                                   "' (diversity, calibration, fair_share, exploration)");
  }
  if (!(s.step > 0) || !(s.from <= s.to) || (s.to - s.from) / s.step > 100 + 1e-9) {
    return Status::InvalidArgument("eval: a sweep needs from <= to and 0 < step, at most 101 points");
  }
  std::vector<double> values;
  for (int i = 0;; ++i) {
    const double v = s.from + i * s.step;
    if (v > s.to + 1e-9) break;
    values.push_back(std::min(v, s.to));
  }
  return values;
}

}  // namespace

std::vector<NamedRecommender> EvaluatedRecommenders(int threads, uint32_t num_items,
                                                    std::shared_ptr<const models::ItemVectors> content,
                                                    uint32_t min_pair_users) {
  using namespace models;  // NOLINT: local to this function
  threads = std::max(1, threads);
  std::vector<NamedRecommender> makers;
  makers.push_back({"mostpop", [] { return std::make_unique<MostPop>(); }});
  // Configured as the fused blend's components are (fused.h; the defaults of
  // ComponentConfig are those of IalsOptions), alone.
  ComponentConfig config;
  config.threads = threads;
  config.min_pair_users = min_pair_users;
  for (const char* name : {"ials", "ease", "itemknn"}) {
    makers.push_back({name, DefaultComponentFactory(name, config)});
  }
  makers.push_back({"recentknn", [threads] {
                      RecentKnnOptions o;
                      o.threads = threads;
                      return std::make_unique<RecentKnn>(o);
                    }});
  makers.push_back({"cooccurrence", [threads, min_pair_users] {
                      CooccurrenceOptions o;
                      o.threads = threads;
                      o.min_users = min_pair_users;
                      return std::make_unique<Cooccurrence>(o);
                    }});
  makers.push_back({"trending", [] { return std::make_unique<Trending>(); }});
  makers.push_back({"context_pop", [] { return std::make_unique<ContextPopularity>(); }});
  if (content) {
    makers.push_back({"content", [content] { return std::make_unique<ContentProfile>(content); }});
  }
  // Components of optional modules (component_registry.h), alone: loaded
  // when opted in, or by EvaluateRecommenders when one is named.
  if (!OptedInComponents().empty()) LoadComponentPlugins();
  for (const std::string& name : RegisteredComponentNames()) {
    ComponentConfig component;  // its own neighbour cache, as before
    component.threads = threads;
    component.min_pair_users = min_pair_users;
    makers.push_back({name, RegisteredComponentFactory(name, component)});
  }
  makers.push_back({"fused", [threads, num_items, content, min_pair_users] {
                      FusedOptions o;
                      o.threads = threads;
                      return std::make_unique<Fused>(
                          DefaultFusedComponents(threads, num_items, content,
                                                 /*context_popularity=*/true, min_pair_users),
                          o);
                    }});
  return makers;
}

StatusOr<EvaluationReport> EvaluateRecommenders(const models::Dataset& data,
                                                const EvaluateOptions& options,
                                                std::shared_ptr<const models::ItemVectors> content,
                                                uint32_t min_pair_users) {
  const int threads = std::max(1, options.threads);
  std::vector<NamedRecommender> makers =
      EvaluatedRecommenders(threads, data.num_items(), content, min_pair_users);
  auto known = [&makers](const std::string& name) {
    for (const auto& m : makers) {
      if (m.name == name) return true;
    }
    return false;
  };
  // A name no built-in answers to may be a plugin's (--recommenders seq).
  if (!std::all_of(options.recommenders.begin(), options.recommenders.end(), known)) {
    models::LoadComponentPlugins();
    makers = EvaluatedRecommenders(threads, data.num_items(), content, min_pair_users);
  }
  for (const auto& name : options.recommenders) {
    if (!known(name)) return Status::InvalidArgument("eval: unknown recommender '" + name + "'");
  }

  const bool care = options.care.has_value() || options.sweep.has_value();
  if (options.care) RECDB_RETURN_IF_ERROR(rerank::ValidateCare(*options.care).WithContext("eval"));
  std::vector<double> sweep_values;
  if (options.sweep) {
    RECDB_ASSIGN_OR_RETURN(sweep_values, SweepValues(*options.sweep));
    CareOptions probe = options.care.value_or(CareOptions{});
    for (double v : sweep_values) {
      *Knob(probe, options.sweep->knob) = v;
      RECDB_RETURN_IF_ERROR(rerank::ValidateCare(probe).WithContext("eval: sweep"));
    }
  }
  RECDB_ASSIGN_OR_RETURN(eval::TemporalSplit split, eval::SplitByTime(data));
  EvaluationReport report;
  report.users = data.num_users();
  report.items = data.num_items();
  report.test_users = static_cast<int64_t>(split.test_users.size());
  eval::EvalOptions eo;
  eo.threads = threads;
  // Optional components outside the default blend (component_registry.h)
  // are evaluated when named (--recommenders seq) or opted in, not by "all".
  const std::vector<std::string> in_blend = models::RegisteredComponentNames(true);
  std::vector<std::string> opt_in_only;
  for (const std::string& name : models::RegisteredComponentNames()) {
    if (std::find(in_blend.begin(), in_blend.end(), name) == in_blend.end()) {
      opt_in_only.push_back(name);
    }
  }
  auto contains = [](const std::vector<std::string>& v, const std::string& name) {
    return std::find(v.begin(), v.end(), name) != v.end();
  };
  auto selected = [&](const std::string& name) {
    if (options.recommenders.empty()) return !contains(opt_in_only, name);
    return contains(options.recommenders, name) ||
           (care && name == "fused");  // care and sweeps re-rank the fused list
  };
  // Progress: one step per recommender fitted and evaluated, one per sweep point.
  int steps_total = static_cast<int>(sweep_values.size());
  for (const auto& m : makers) steps_total += selected(m.name) ? 1 : 0;
  int steps_done = 0;
  // A checkpoint: stop here when the caller cancelled, else report the step.
  auto progress = [&](const std::string& step) -> Status {
    if (options.cancelled && options.cancelled()) {
      return Status::Aborted("eval: cancelled before '" + step + "'");
    }
    if (options.progress) options.progress(step, steps_done++, steps_total);
    return Status::OK();
  };
  for (const auto& [name, make] : makers) {
    if (!selected(name)) continue;
    RECDB_RETURN_IF_ERROR(progress("fit " + name));
    std::unique_ptr<models::Recommender> model = make();
    const auto t0 = std::chrono::steady_clock::now();
    Status st = model->Fit(split.train);
    if (!st.ok()) return st.WithContext("eval: " + name);
    const double train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EvalMetrics m = ToMetrics(eval::Evaluate(*model, split, eo));
    m.train_seconds = train_seconds;
    report.recommenders[name] = m;
    if (name == "fused") {
      for (const auto& [c, w] : static_cast<const models::Fused&>(*model).Weights()) report.fused_weights[c] = w;
    }
    if (name == "fused" && care) {
      // The same re-ranking as serving (rerank::Rerank), on pools fused once.
      rerank::RerankedEvaluation reranked(static_cast<const models::Fused&>(*model), split, eo);
      if (options.care) {
        EvalMetrics cm = ToMetrics(reranked.Evaluate(*options.care));
        cm.train_seconds = m.train_seconds;
        report.recommenders["fused+care"] = cm;
      }
      if (options.sweep) {
        report.sweep_knob = options.sweep->knob;
        CareOptions point = options.care.value_or(CareOptions{});
        for (double v : sweep_values) {
          *Knob(point, options.sweep->knob) = v;
          RECDB_RETURN_IF_ERROR(
              progress("sweep " + options.sweep->knob + "=" + FormatKnobValue(v)));
          report.sweep.push_back({v, ToMetrics(reranked.Evaluate(point))});
        }
      }
    }
  }
  return report;
}

}  // namespace recdb
