// `recdb bench scale`: the issue-17 figures at a size chosen by flags
// (default: the synthetic world of 10M events, 1M users, 100K items):
// import rate, Train seconds per component, peak RSS, disk bytes (RocksDB and
// the model file), open-to-first-Recommend of the trained database (no refit
// at Open), Recommend p50/p99 idle and while a retrain runs, and an
// incremental retrain (TrainOptions::incremental) after 1% more events.
//
// With --dir D the database is kept; a later run with the same --dir
// reuses it: no import when it holds events, and no first Train when a
// stored model serves (whatever sequence it covers: every open, close and
// CLI call may move RocksDB's sequence past the model's stamp, and Open
// serves the stored model anyway, using later events at serving time).
// --retrain trains first regardless. The incremental retrain's ratio needs
// a full Train timed in the same run: without a first Train (reused model)
// it is printed against the stored model's own Train seconds (which stop
// before its model write: so does the incremental figure compared with
// them), marked as such; a model an incremental retrain wrote is no anchor.
//
// --incremental-only measures just the incremental retrain (the issue-17 bar
// "<= 20% of a full Train"): import and first Train only when --dir does not
// hold them already, then no open-to-first-Recommend and no serving phases;
// straight to the 1% more events and the incremental retrain.
//
// The 1% more events come from the same synthetic world generator (seed,
// items, users) over the day after the stored period: new events of the same
// users on the same catalog, deterministic, a day later at every repeat
// (RecordOnePercentMore).
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/recommend/recommend_service.h"
#include "recdb/db.h"
#include "tools/bench/bench.h"
#include "tools/bench/world.h"
#include "tools/import/synthetic_world.h"

namespace recdb::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU seconds of the process (user + system): on a shared machine the
// figure that moves least with the load of other processes.
double CpuSeconds() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

double PeakRssGb() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench scale: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

struct Serving {
  Latency idle;                       // before and after the retrain, pooled: the anchor
  Latency idle_before, idle_after;    // its two halves
  Latency during;
  double retrain_s = 0;
  int retrain_threads = 0;  // the low-priority Train's thread budget
  // Of the requests during the retrain slower than the idle p99: how many
  // and how many of those had their thread preempted (an involuntary
  // context switch while they ran: a CPU was taken from them).
  size_t during_slow = 0, during_slow_preempted = 0;
};

struct Sample {
  double ms;
  bool preempted;  // the serving thread was switched out involuntarily
};

long InvoluntarySwitches() {
  struct rusage ru;
  ::getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_nivcsw;
}

Latency SummariseSamples(const std::vector<Sample>& samples) {
  std::vector<double> ms;
  ms.reserve(samples.size());
  for (const Sample& x : samples) ms.push_back(x.ms);
  return Summarise(std::move(ms));
}

// Recommend latencies for random known users: `requests` idle; then as many
// as fit while Train(low_priority) runs on another thread, as the scheduled
// retrains do (on 2 cores: 1 thread at nice +10); then
// idle again, as many requests as during the retrain (at least `requests`,
// at most 60 s). The anchor pools both idle runs: on a shared machine the
// load of other processes changes over minutes, and 200 idle requests (0.1 s)
// before a 30 s retrain sample a different machine than the retrain does.
// With `progress`, the idle figures and then, each minute of the retrain,
// the figures so far go to stderr: a retrain at 10M events on one thread at
// nice +10 can outlast a session on a loaded machine.
StatusOr<Serving> MeasureServing(DB* db, int64_t users, size_t requests, size_t k, bool progress) {
  std::mt19937_64 rng(7);
  Status failed;
  using Stop = std::function<bool()>;
  auto run = [&](size_t n, const Stop& stop) {
    std::vector<Sample> out;
    for (size_t i = 0; i < n && !(stop && stop()); ++i) {
      RecommendRequest r;
      r.user = tools::SyntheticWorld::UserId(static_cast<int64_t>(rng() % users));
      r.k = k;
      const long switches = InvoluntarySwitches();
      const auto t0 = Clock::now();
      auto res = db->Recommend(r);
      const double ms = Since(t0) * 1000;
      out.push_back({ms, InvoluntarySwitches() != switches});
      if (!res.ok() && failed.ok()) failed = res.status();
    }
    return out;
  };
  Serving out;
  run(std::min<size_t>(100, requests), nullptr);  // warm caches
  std::vector<Sample> before = run(requests, nullptr);
  const Latency idle0 = SummariseSamples(before);
  if (progress) {
    std::fprintf(stderr, "[serving, load %s] idle before the retrain: %zu requests, p50 %.3f ms, p99 %.3f ms\n",
                 LoadAverage().c_str(), idle0.n, idle0.p50, idle0.p99);
  }
  const auto t_retrain = Clock::now();
  auto next_report = t_retrain + std::chrono::seconds(60);
  std::atomic<bool> done{false};
  Status train_status;
  std::thread trainer([&] {
    const auto t0 = Clock::now();
    TrainOptions to;  // as the scheduled retrains: default threads, low priority
    to.low_priority = true;
    auto trained = db->Train(to);
    train_status = trained.status();
    if (trained.ok()) out.retrain_threads = trained->threads;
    out.retrain_s = Since(t0);
    done = true;
  });
  std::vector<Sample> during;
  while (!done.load()) {
    auto part = run(50, [&] { return done.load(); });
    during.insert(during.end(), part.begin(), part.end());
    if (progress && Clock::now() > next_report) {
      next_report += std::chrono::seconds(60);
      const Latency so_far = SummariseSamples(during);
      std::fprintf(stderr,
                   "[serving, retrain running %.0f s, load %s] during so far: %zu requests, p50 %.3f ms, "
                   "p99 %.3f ms (%.2fx the idle-before p99)\n",
                   Since(t_retrain), LoadAverage().c_str(), so_far.n, so_far.p50, so_far.p99,
                   idle0.p99 > 0 ? so_far.p99 / idle0.p99 : 0.0);
    }
  }
  trainer.join();
  const auto after_deadline = Clock::now() + std::chrono::seconds(60);
  std::vector<Sample> after = run(std::max(requests, during.size()),
                                  [&] { return Clock::now() > after_deadline; });
  RECDB_RETURN_IF_ERROR(failed.WithContext("recommend"));
  RECDB_RETURN_IF_ERROR(train_status.WithContext("train while serving"));
  out.idle_before = SummariseSamples(before);
  out.idle_after = SummariseSamples(after);
  before.insert(before.end(), after.begin(), after.end());
  out.idle = SummariseSamples(before);
  out.during = SummariseSamples(during);
  for (const Sample& x : during) {
    if (x.ms > out.idle.p99) {
      ++out.during_slow;
      out.during_slow_preempted += x.preempted;
    }
  }
  return out;
}

// The world `--items --users --events` stands for (LoadSynthetic's).
constexpr int64_t kWorldStart = 1700000000;  // SyntheticWorldOptions::start_ts
constexpr int64_t kWorldDays = 60;           // SyntheticWorldOptions::days

// 1% more events for a database holding `stored` events of the world of
// `world_events`: the same generator (seed, items, users: the same catalog,
// the same users' tastes and activity) over one day after the stored period
// -- the day after the last repeat when earlier runs already added some
// (repeat r covers day kWorldDays + r) -- so that the events are new, later
// than every stored one, and the same at every run.
Status RecordOnePercentMore(DB* db, int64_t items, int64_t users, int64_t world_events, int64_t stored,
                            int64_t* recorded) {
  const int64_t more = std::max<int64_t>(1, stored / 100);
  const int64_t repeat =
      stored > world_events ? (stored - world_events) / std::max<int64_t>(1, world_events / 100) : 0;
  tools::SyntheticWorldOptions wo;
  wo.items = items;
  wo.users = users;
  wo.events = more;
  wo.start_ts = kWorldStart + (kWorldDays + repeat) * 86400;
  wo.days = 1;
  const tools::SyntheticWorld world(wo);
  *recorded = world.num_events();
  // Items exist already: only the events (LoadSyntheticWorld writes both).
  std::vector<Event> batch;
  RECDB_RETURN_IF_ERROR(world.ForEachEvent([&](const Event& e) {
    batch.push_back(e);
    if (batch.size() < 10000) return Status::OK();
    Status s = db->RecordEvents({}, batch);
    batch.clear();
    return s;
  }));
  return batch.empty() ? Status::OK() : db->RecordEvents({}, batch);
}

// Top-k item ids for a fixed sample of users (the agreement check).
StatusOr<std::vector<std::vector<std::string>>> SampleTopK(DB* db, int64_t users, size_t sample,
                                                          size_t k) {
  std::mt19937_64 rng(13);
  std::vector<std::vector<std::string>> out;
  for (size_t n = 0; n < sample; ++n) {
    RecommendRequest r;
    r.user = tools::SyntheticWorld::UserId(static_cast<int64_t>(rng() % users));
    r.k = k;
    RECDB_ASSIGN_OR_RETURN(RecommendResponse res, db->Recommend(r));
    out.emplace_back();
    for (const Recommendation& x : res.items) out.back().push_back(x.id);
  }
  return out;
}

// What the incremental retrain after 1% more events did.
struct Incremental {
  int64_t new_events = 0;
  double import_s = 0;
  double seconds = 0, cpu_s = 0;
  double rss_before_gb = 0, rss_after_gb = 0;  // the process's peak, before and after it
  std::string load_before, load_after;
  bool warm = false;  // the serving model's blend was kept (no validation fit)
  TrainReport report;
  size_t agreement_users = 0;
  double agreement = 0;  // mean top-k overlap, the serving model before against the one after
};

// Stage lines for --stages: wall and process CPU seconds since `t`/`cpu0`.
std::function<void(const TrainProgress&)> StageReporter(const char* what) {
  const auto t = Clock::now();
  const double cpu0 = CpuSeconds();
  return [t, cpu0, what](const TrainProgress& p) {
    std::fprintf(stderr, "[%s %8.1f s, %8.1f CPU-s, peak RSS %.2f GB, load %s] %s\n", what, Since(t),
                 CpuSeconds() - cpu0, PeakRssGb(), LoadAverage().c_str(), p.stage.c_str());
  };
}

// 1% more events (RecordOnePercentMore), then Train(incremental) as the
// scheduled retrains after small batches do: the serving model's blend and
// context deltas kept, iALS warm-started from its factors. With
// `agreement_users`, the top-k of that many sampled users from the model
// serving before (with the new events at serving time) and after.
StatusOr<Incremental> MeasureIncremental(DB* db, int64_t items, int64_t users, int64_t world_events,
                                         size_t agreement_users, size_t k, bool stages) {
  Incremental out;
  auto stats = db->GetStats();
  RECDB_RETURN_IF_ERROR(stats.status());
  const auto t_import = Clock::now();
  RECDB_RETURN_IF_ERROR(RecordOnePercentMore(db, items, users, world_events, stats->events, &out.new_events)
                            .WithContext("more events"));
  out.import_s = Since(t_import);
  std::vector<std::vector<std::string>> before;
  if (agreement_users > 0) {
    RECDB_ASSIGN_OR_RETURN(before, SampleTopK(db, users, agreement_users, k));
  }
  out.rss_before_gb = PeakRssGb();
  out.load_before = LoadAverage();
  TrainOptions incremental;
  incremental.incremental = true;
  if (stages) incremental.on_progress = StageReporter("incremental");
  const auto t = Clock::now();
  const double cpu0 = CpuSeconds();
  auto retrained = db->Train(incremental);
  RECDB_RETURN_IF_ERROR(retrained.status().WithContext("retrain after 1%"));
  out.seconds = Since(t);
  out.cpu_s = CpuSeconds() - cpu0;
  out.rss_after_gb = PeakRssGb();
  out.load_after = LoadAverage();
  out.report = *retrained;
  auto blend = out.report.seconds_by_recommender.find("blend");
  out.warm = blend != out.report.seconds_by_recommender.end() && blend->second == 0;
  if (agreement_users > 0) {
    RECDB_ASSIGN_OR_RETURN(auto after, SampleTopK(db, users, agreement_users, k));
    double sum = 0;
    for (size_t n = 0; n < before.size(); ++n) {
      const std::set<std::string> was(before[n].begin(), before[n].end());
      size_t common = 0;
      for (const std::string& id : after[n]) common += was.count(id);
      sum += was.empty() ? 1.0 : static_cast<double>(common) / static_cast<double>(was.size());
    }
    out.agreement_users = before.size();
    out.agreement = before.empty() ? 0.0 : sum / static_cast<double>(before.size());
  }
  return out;
}

// --incremental-only: the retrain after 1% more events and its anchor, the
// first Train of this run (`train_cpu_s` > 0) or the stored model's own Train
// seconds (reused_model: wall only, from the run that trained it).
int IncrementalOnly(DB* db, int64_t items, int64_t users, int64_t world_events, size_t agreement_users,
                    size_t k, bool stages, bool json, bool reused_model, double full_train_s,
                    double train_cpu_s, bool keep, const std::string& dir) {
  auto stats = db->GetStats();
  if (!stats.ok()) return Fail("stats", stats.status());
  const int64_t events_before = stats->events;
  auto measured = MeasureIncremental(db, items, users, world_events, agreement_users, k, stages);
  if (!measured.ok()) return Fail("incremental retrain", measured.status());
  const Incremental& m = *measured;
  if (Status s = db->Close(); !s.ok()) return Fail("close", s);
  if (!keep) std::filesystem::remove_all(dir);
  // Like with like: a Train of this run by the wall seconds of the Train
  // call; the stored model by the seconds its Train stored (up to the model
  // file write, excluded), against the same figure of the incremental one.
  const double compared_s = reused_model ? m.report.seconds : m.seconds;
  const double ratio = full_train_s > 0 ? compared_s / full_train_s : 0.0;
  const double cpu_ratio = train_cpu_s > 0 ? m.cpu_s / train_cpu_s : 0.0;
  const char* anchor = reused_model
                           ? "the stored model's own Train (another run, its load; seconds up to the "
                             "model write, no CPU seconds stored)"
                           : "the first Train of this run (the Train call)";
  if (json) {
    std::printf("{\"items\": %lld, \"users\": %lld, \"events_before\": %lld, \"new_events\": %lld, "
                "\"new_events_import_s\": %.2f, \"incremental_s\": %.2f, \"incremental_cpu_s\": %.2f, "
                "\"incremental_train_report_s\": %.2f, \"incremental_warm\": %s, \"incremental_s_by_component\": {",
                static_cast<long long>(items), static_cast<long long>(users),
                static_cast<long long>(events_before), static_cast<long long>(m.new_events), m.import_s,
                m.seconds, m.cpu_s, m.report.seconds, m.warm ? "true" : "false");
    bool first_entry = true;
    for (const auto& [name, s] : m.report.seconds_by_recommender) {
      std::printf("%s\"%s\": %.2f", first_entry ? "" : ", ", name.c_str(), s);
      first_entry = false;
    }
    std::printf("}, \"peak_rss_gb_before\": %.2f, \"peak_rss_gb_after\": %.2f, \"load_before\": \"%s\", "
                "\"load_after\": \"%s\", \"reused_model\": %s, \"full_train_s\": %.2f, "
                "\"full_train_cpu_s\": %.2f, \"incremental_ratio\": %.3f, \"incremental_cpu_ratio\": %.3f, "
                "\"agreement_users\": %zu, \"agreement_at_k\": %.4f}\n",
                m.rss_before_gb, m.rss_after_gb, m.load_before.c_str(), m.load_after.c_str(),
                reused_model ? "true" : "false", full_train_s, train_cpu_s, ratio, cpu_ratio,
                m.agreement_users, m.agreement);
    return 0;
  }
  std::printf("world: %lld items, %lld users, %lld events stored\n", static_cast<long long>(items),
              static_cast<long long>(users), static_cast<long long>(events_before));
  std::printf("1%% more events: %lld new (the day after the stored ones), recorded in %.1f s\n",
              static_cast<long long>(m.new_events), m.import_s);
  std::printf("incremental retrain: %.1f s wall (%.1f s up to the model write), %.1f CPU-s, load %s -> %s%s; "
              "by component:",
              m.seconds, m.report.seconds, m.cpu_s, m.load_before.c_str(), m.load_after.c_str(),
              m.warm ? "" : " (NOT incremental: the blend was learned again)");
  for (const auto& [name, s] : m.report.seconds_by_recommender) std::printf(" %s %.2f", name.c_str(), s);
  std::printf("\n");
  std::printf("full Train, %s: %.1f s", anchor, full_train_s);
  if (train_cpu_s > 0) std::printf(", %.1f CPU-s", train_cpu_s);
  if (full_train_s <= 0) std::printf(" (none)");
  std::printf("\nincremental / full: %.3fx %s", ratio,
              reused_model ? "(seconds up to the model write, each)" : "wall");
  if (train_cpu_s > 0) std::printf(", %.3fx CPU", cpu_ratio);
  std::printf(" (bar: <= 0.20x)\n");
  std::printf("peak RSS: %.2f GB before the retrain, %.2f GB after\n", m.rss_before_gb, m.rss_after_gb);
  if (m.agreement_users > 0) {
    std::printf("top-%zu agreement, the model before against the retrained one (%zu users): %.4f\n", k,
                m.agreement_users, m.agreement);
  }
  return 0;
}

int BenchScaleMain(int argc, char** argv) {
  Flags f("scale");
  f.AddWorldSizeFlags(100000, 1000000, 10000000);
  f.args().AddFlag("requests", "N", "requests per phase", "2000");
  f.args().AddFlag("k", "N", "items per request", "10");
  f.args().AddFlag("dir", "D", "database directory, kept and reused when it holds the same world");
  f.args().AddSwitch("json", "print one JSON object");
  f.args().AddSwitch("train-only",
                     "stop after the first Train and the open to the first Recommend (no serving "
                     "phases, no retrains): a first profile at a new size");
  f.args().AddSwitch("stages",
                     "print each Train stage with its start time to stderr, and the serving "
                     "figures so far each minute of the retrain");
  f.args().AddSwitch("retrain",
                     "with --dir holding a trained database: train first anyway (default: the "
                     "stored model serves and is measured as it is)");
  f.args().AddSwitch("incremental-only",
                     "measure just the incremental retrain after 1% more events (of the same "
                     "synthetic world, the day after the stored ones): import and first Train only "
                     "when --dir lacks them, no open or serving phases; against the first Train of "
                     "this run, or else the stored model's own Train seconds");
  f.args().AddFlag("agreement-users", "N",
                   "users whose top-k from the model serving before the incremental retrain and "
                   "after it are compared (0: none)",
                   "500");
  f.args().AddFlag("two-stage-min-items", "N",
                   "catalog size from which the blend learns and serves two-stage (an anchor: "
                   "above --items, the exhaustive path)",
                   "100000");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const int64_t items = f.Int("items", 1), users = f.Int("users", 1), events = f.Int("events", 1);
  const size_t requests = f.Int("requests", 1), k = f.Int("k", 1);
  std::string dir = f.Str("dir");
  const bool keep = f.Has("dir");
  const bool json = f.Has("json");
  const bool train_only = f.Has("train-only"), stages = f.Has("stages");
  const bool retrain = f.Has("retrain");
  const bool incremental_only = f.Has("incremental-only");
  const size_t agreement_users = f.Int("agreement-users", 0);
  const int64_t two_stage_min_items = f.Int("two-stage-min-items", 1);
  if (!f.ok()) return f.exit_code();
  RecommendService::SetTwoStageMinItemsForTesting(static_cast<uint32_t>(two_stage_min_items));
  if (dir.empty()) {
    char tmpl[] = "/tmp/recdb_bench_scale_XXXXXX";
    if (!mkdtemp(tmpl)) return Fail("mkdtemp", Status::IOError("cannot create temp dir"));
    dir = tmpl;
  }

  // 1. Import (skipped when --dir already holds the world).
  auto opened = OpenBenchDB(dir);
  if (!opened.ok()) return Fail("open", opened.status());
  std::unique_ptr<DB> db = std::move(opened).value();
  auto stats = db->GetStats();
  if (!stats.ok()) return Fail("stats", stats.status());
  double import_s = 0, import_rate = 0;
  if (stats->events == 0) {
    const auto t = Clock::now();
    if (Status s = LoadSynthetic(db.get(), items, users, events); !s.ok()) return Fail("import", s);
    import_s = Since(t);
    stats = db->GetStats();
    import_rate = static_cast<double>(stats->events) / import_s;
  }
  const double rss_after_import = PeakRssGb();

  // 2. Train (skipped when a stored model serves, unless --retrain).
  TrainReport report;
  double train_s = 0, train_cpu_s = 0;
  const bool reused_model = stats->model_version != 0 && !retrain;
  if (reused_model) {
    std::fprintf(stderr,
                 "bench scale: reusing the stored model %llu of %s (covers sequence %llu of %llu; "
                 "--retrain to train first)\n",
                 static_cast<unsigned long long>(stats->model_version), dir.c_str(),
                 static_cast<unsigned long long>(stats->model_sequence),
                 static_cast<unsigned long long>(stats->sequence_number));
  } else {
    const auto t = Clock::now();
    const double cpu0 = CpuSeconds();
    TrainOptions to;
    if (stages) to.on_progress = StageReporter("train");
    auto trained = db->Train(to);
    if (!trained.ok()) return Fail("train", trained.status());
    train_s = Since(t);
    train_cpu_s = CpuSeconds() - cpu0;
    report = *trained;
  }
  // The full Train the incremental retrain is compared with: this run's, or
  // (reused model) the stored model's own Train seconds, from another run.
  double full_train_s = train_s;
  if (reused_model) {
    auto stored = db->GetModelReport();
    if (!stored.ok()) return Fail("model report", stored.status());
    full_train_s = stored->seconds;
    // A model an incremental retrain wrote (a Train that kept the blend:
    // its blend took no time) is no anchor for one.
    auto blend = stored->seconds_by_recommender.find("blend");
    if (blend != stored->seconds_by_recommender.end() && blend->second == 0) {
      std::fprintf(stderr,
                   "bench scale: the stored model was fitted without learning its blend (an "
                   "incremental retrain, %.1f s): no full-Train anchor; --retrain for one in this run\n",
                   stored->seconds);
      full_train_s = 0;
    }
  }
  const double rss_after_train = PeakRssGb();
  if (incremental_only) {
    return IncrementalOnly(db.get(), items, users, events, agreement_users, k, stages, json, reused_model,
                           full_train_s, train_cpu_s, keep, dir);
  }
  if (Status s = db->Close(); !s.ok()) return Fail("close", s);
  db.reset();
  const uint64_t model_bytes = DirBytes(dir + "/derived");
  const uint64_t disk_bytes = DirBytes(dir);

  // 3. Open to the first answer: the stored model serves, no refit.
  const auto t_open = Clock::now();
  opened = OpenBenchDB(dir);
  if (!opened.ok()) return Fail("reopen", opened.status());
  db = std::move(opened).value();
  RecommendRequest first;
  first.user = tools::SyntheticWorld::UserId(0);
  first.k = k;
  auto answer = db->Recommend(first);
  if (!answer.ok()) return Fail("first recommend after open", answer.status());
  const double open_to_first_s = Since(t_open);

  // 4. Serving idle and during a retrain.
  // (--train-only: none of 4 and 5.)
  Serving serving;
  double retrain_1pct_s = 0, retrain_1pct_ratio = 0;
  if (!train_only) {
    auto measured = MeasureServing(db.get(), users, requests, k, stages);
    if (!measured.ok()) return Fail("serving", measured.status());
    serving = *measured;

    // 5. A retrain after 1% more events (MeasureIncremental; no agreement check here).
    auto incremental = MeasureIncremental(db.get(), items, users, events, 0, k, stages);
    if (!incremental.ok()) return Fail("incremental retrain", incremental.status());
    retrain_1pct_s = incremental->seconds;
    // Like with like (IncrementalOnly): a stored model's seconds stop before its model write.
    const double compared_s = reused_model ? incremental->report.seconds : incremental->seconds;
    retrain_1pct_ratio = full_train_s > 0 ? compared_s / full_train_s : 0.0;
  }
  if (Status s = db->Close(); !s.ok()) return Fail("close", s);
  if (!keep) std::filesystem::remove_all(dir);

  const double p99_ratio =
      serving.idle.p99 > 0 ? serving.during.p99 / serving.idle.p99 : 0.0;
  if (json) {
    std::printf("{\"items\": %lld, \"users\": %lld, \"events\": %lld, \"import_s\": %.2f, "
                "\"import_events_per_s\": %.0f, \"train_s\": %.2f, \"train_cpu_s\": %.2f, \"train_s_by_component\": {",
                static_cast<long long>(items), static_cast<long long>(users),
                static_cast<long long>(stats->events), import_s, import_rate, train_s, train_cpu_s);
    bool first_entry = true;
    for (const auto& [name, s] : report.seconds_by_recommender) {
      std::printf("%s\"%s\": %.2f", first_entry ? "" : ", ", name.c_str(), s);
      first_entry = false;
    }
    std::printf("}, \"peak_rss_gb_import\": %.2f, \"peak_rss_gb_train\": %.2f, \"disk_bytes\": %llu, "
                "\"model_bytes\": %llu, \"open_to_first_recommend_s\": %.3f, "
                "\"reused_model\": %s, \"full_train_s\": %.2f",
                rss_after_import, rss_after_train, static_cast<unsigned long long>(disk_bytes),
                static_cast<unsigned long long>(model_bytes), open_to_first_s,
                reused_model ? "true" : "false", full_train_s);
    if (train_only) {  // no serving or retrain figures were measured
      std::printf("}\n");
      return 0;
    }
    std::printf(", \"idle_p50_ms\": %.3f, \"idle_p99_ms\": %.3f, \"during_retrain_p50_ms\": %.3f, "
                "\"during_retrain_p99_ms\": %.3f, \"p99_ratio_during_retrain\": %.2f, "
                "\"idle_before_p99_ms\": %.3f, \"idle_after_p99_ms\": %.3f, \"idle_requests\": %zu, "
                "\"during_requests\": %zu, \"during_slow\": %zu, \"during_slow_preempted\": %zu, "
                "\"retrain_while_serving_s\": %.2f, \"retrain_while_serving_threads\": %d, \"retrain_after_1pct_s\": %.2f, "
                "\"retrain_after_1pct_ratio\": %.3f}\n",
                serving.idle.p50,
                serving.idle.p99, serving.during.p50, serving.during.p99, p99_ratio,
                serving.idle_before.p99, serving.idle_after.p99, serving.idle.n, serving.during.n,
                serving.during_slow, serving.during_slow_preempted,
                serving.retrain_s, serving.retrain_threads, retrain_1pct_s, retrain_1pct_ratio);
    return 0;
  }
  std::printf("world: %lld items, %lld users, %lld events\n", static_cast<long long>(items),
              static_cast<long long>(users), static_cast<long long>(stats->events));
  if (import_s > 0) std::printf("import: %.1f s, %.0f events/s\n", import_s, import_rate);
  if (train_s > 0) {
    std::printf("train: %.1f s (2 threads), %.1f CPU-s; by component:", train_s, train_cpu_s);
    for (const auto& [name, s] : report.seconds_by_recommender) std::printf(" %s %.1f", name.c_str(), s);
    std::printf("\n");
  }
  std::printf("peak RSS: %.2f GB after import, %.2f GB after train\n", rss_after_import,
              rss_after_train);
  std::printf("disk: %.1f MB in all, model file %.1f MB\n", disk_bytes / 1e6, model_bytes / 1e6);
  std::printf("open to first Recommend (stored model, no refit): %.3f s\n", open_to_first_s);
  if (train_only) return 0;
  std::printf("Recommend k=%zu idle (%zu requests before and after the retrain): p50 %.3f ms  "
              "p99 %.3f ms (before: %zu requests, p99 %.3f ms; after: %zu, p99 %.3f ms)\n",
              k, serving.idle.n, serving.idle.p50, serving.idle.p99, serving.idle_before.n,
              serving.idle_before.p99, serving.idle_after.n, serving.idle_after.p99);
  std::printf("while a low-priority retrain on %d thread(s) runs (%.1f s, %zu requests): p50 %.3f ms  "
              "p99 %.3f ms (p99 %.2fx idle)\n",
              serving.retrain_threads, serving.retrain_s, serving.during.n, serving.during.p50, serving.during.p99,
              p99_ratio);
  std::printf("  of them %zu slower than the idle p99, %zu of those preempted (an involuntary context "
              "switch while serving)\n",
              serving.during_slow, serving.during_slow_preempted);
  std::printf("incremental retrain after 1%% more events: %.1f s (%.2fx %s, %.1f s)\n",
              retrain_1pct_s, retrain_1pct_ratio,
              reused_model ? "the stored model's Train, another run, each up to its model write" : "the first Train",
              full_train_s);
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("scale", BenchScaleMain,
                     "import, train, memory, disk, open-to-first-Recommend and latency at scale "
                     "(default 10M events)");

}  // namespace recdb::bench
