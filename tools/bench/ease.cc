// `recdb bench ease`: the time of recdb's EASE fit (engine/models/ease.h:
// Gram matrix, LAPACK Cholesky factorisation and inverse, weights) against
// the numpy reference on the same user-item matrix in the same run.
//
// The matrix is a synthetic world (tools/import/synthetic_world.h; default
// 10,000 items, 50,000 users, 1,000,000 events), or ml-100k with --data DIR.
// The anchor is refbaselines.py's `ease` (G = (X^T X).toarray(),
// np.linalg.inv(G), B = -P / diag(P)), written inline below and run with
// python3 and numpy on the same interactions (written to a temporary file),
// with OPENBLAS_NUM_THREADS set to the same thread budget as recdb. The
// bench also compares 16 rows of both weight matrices.
//
// Bar (issue 17): at 10K items, recdb's fit <= 20 s and >= 10x faster than
// the numpy path.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/eval/movielens.h"
#include "engine/models/dataset.h"
#include "engine/models/ease.h"
#include "tools/bench/bench.h"
#include "tools/import/synthetic_world.h"

namespace recdb::bench {
namespace {

namespace fs = std::filesystem;

// refbaselines.py's `ease`, timed step by step. argv: interactions file
// (int32 user, item pairs), users, items, lambda, output file for the sampled
// rows of B (float64), then the sampled row ids.
constexpr const char* kNumpyReference = R"PY(
import json, sys, time
import numpy as np
import scipy.sparse as sp

path, users, items, lam, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
rows = [int(x) for x in sys.argv[6:]]
r = np.fromfile(path, dtype=np.int32).reshape(-1, 2)
X = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r[:, 0], r[:, 1])), shape=(users, items))
X.sum_duplicates(); X.data[:] = 1.0

c0, t0 = time.process_time(), time.perf_counter()
G = (X.T @ X).toarray().astype(np.float64)
G[np.diag_indices_from(G)] += lam
t1 = time.perf_counter()
P = np.linalg.inv(G)
t2 = time.perf_counter()
B = -P / np.diag(P)
np.fill_diagonal(B, 0)
t3, c3 = time.perf_counter(), time.process_time()

B[rows].astype(np.float64).tofile(out)
blas = sorted({l.split()[-1] for l in open("/proc/self/maps")
               if ("blas" in l or "lapack" in l) and "/" in l and "-packages/" not in l})
print(json.dumps({"gram_s": t1 - t0, "inv_s": t2 - t1, "weights_s": t3 - t2,
                  "total_s": t3 - t0, "total_cpu_s": c3 - c0, "numpy": np.__version__, "blas": blas}))
)PY";

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// User + system CPU seconds of every thread of this process so far.
double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

StatusOr<models::Dataset> SyntheticDataset(int64_t items, int64_t users, int64_t events) {
  tools::SyntheticWorldOptions o;
  o.items = items;
  o.users = users;
  o.events = events;
  tools::SyntheticWorld world(o);
  models::DatasetSpec spec;
  spec.num_users = static_cast<uint32_t>(users);
  spec.num_items = static_cast<uint32_t>(items);
  spec.interactions.reserve(static_cast<size_t>(world.num_events()));
  for (int64_t u = 0; u < users; ++u) {
    for (const Event& e : world.UserEvents(u)) {
      // Item ids are "i<index>" (SyntheticWorld::ItemId).
      const uint32_t item = static_cast<uint32_t>(std::strtoul(e.item.c_str() + 1, nullptr, 10));
      spec.interactions.push_back({static_cast<uint32_t>(u), item, e.timestamp, 1.0f});
    }
  }
  return models::Dataset::Build(std::move(spec));
}

struct NumpyResult {
  bool ran = false;
  std::string error;
  double gram_s = 0, inv_s = 0, weights_s = 0, total_s = 0;
  double total_cpu_s = 0;  // CPU seconds of all its threads
  std::string version;
  std::vector<std::string> blas;
  std::vector<double> rows;  // the sampled rows of B, row-major
};

NumpyResult RunNumpy(const std::string& python, const models::Dataset& d, double lambda,
                     int threads, const std::vector<uint32_t>& sample) {
  NumpyResult r;
  std::error_code ec;
  const fs::path dir = fs::temp_directory_path() / ("recdb-bench-ease-" + std::to_string(::getpid()));
  fs::create_directories(dir, ec);
  if (ec) {
    r.error = "temp dir: " + ec.message();
    return r;
  }
  const std::string pairs = (dir / "pairs.bin").string(), script = (dir / "ease_ref.py").string();
  const std::string out = (dir / "rows.bin").string();
  {
    std::ofstream f(pairs, std::ios::binary);
    for (uint32_t u = 0; u < d.num_users(); ++u) {
      for (uint32_t i : d.UserItems(u)) {
        const int32_t p[2] = {static_cast<int32_t>(u), static_cast<int32_t>(i)};
        f.write(reinterpret_cast<const char*>(p), sizeof p);
      }
    }
    std::ofstream s(script);
    s << kNumpyReference;
    if (!f || !s) r.error = "cannot write " + dir.string();
  }
  if (r.error.empty()) {
    std::string cmd = "OPENBLAS_NUM_THREADS=" + std::to_string(threads) + " '" + python + "' '" +
                      script + "' '" + pairs + "' " + std::to_string(d.num_users()) + " " +
                      std::to_string(d.num_items()) + " " + std::to_string(lambda) + " '" + out + "'";
    for (uint32_t i : sample) cmd += " " + std::to_string(i);
    std::string text;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
      const int rc = ::pclose(p);
      if (rc != 0) r.error = "python exited with status " + std::to_string(rc);
    } else {
      r.error = "cannot run " + python;
    }
    if (r.error.empty()) {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        r.error = "unexpected python output: " + text;
      } else {
        r.ran = true;
        r.gram_s = j.value("gram_s", 0.0);
        r.inv_s = j.value("inv_s", 0.0);
        r.weights_s = j.value("weights_s", 0.0);
        r.total_s = j.value("total_s", 0.0);
        r.total_cpu_s = j.value("total_cpu_s", 0.0);
        r.version = j.value("numpy", "");
        if (j.contains("blas")) r.blas = j["blas"].get<std::vector<std::string>>();
        r.rows.resize(sample.size() * d.num_items());
        std::ifstream f(out, std::ios::binary);
        f.read(reinterpret_cast<char*>(r.rows.data()),
               static_cast<std::streamsize>(r.rows.size() * sizeof(double)));
        if (!f) r.error = "cannot read the sampled rows";
      }
    }
  }
  fs::remove_all(dir, ec);
  return r;
}

int BenchEaseMain(int argc, char** argv) {
  Flags f("ease");
  f.AddWorldSizeFlags(10000, 50000, 1000000);
  f.args().AddFlag("data", "ML100K_DIR", "fit ml-100k instead of the synthetic world");
  f.args().AddFlag("threads", "N", "BLAS threads", "2");
  f.args().AddFlag("lambda", "X", "EASE's L2 regularisation (> 0)", "300");
  f.args().AddFlag("python", "PATH", "the python with numpy",
                   fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  f.args().AddSwitch("no-numpy", "skip the numpy anchor");
  f.args().AddSwitch("double", "fit in double (dpotrf + dpotri)");
  f.args().AddSwitch("json", "print one JSON object");
  if (!f.Parse(argc, argv)) return f.exit_code();
  const int64_t items = f.Int("items", 1), users = f.Int("users", 1), events = f.Int("events", 1);
  const std::string data_dir = f.Str("data");
  const int threads = static_cast<int>(f.Int("threads", 1));
  const double lambda = f.Double("lambda", 0);
  const std::string python = f.Str("python");
  const bool numpy = !f.Has("no-numpy"), json = f.Has("json"), single = !f.Has("double");
  if (!f.ok()) return f.exit_code();
  if (!(lambda > 0)) return cli::UsageError("bench ease", "--lambda must be > 0");

  auto t0 = std::chrono::steady_clock::now();
  StatusOr<models::Dataset> data =
      data_dir.empty() ? SyntheticDataset(items, users, events) : eval::LoadMovieLens100k(data_dir);
  if (!data.ok()) {
    std::fprintf(stderr, "bench ease: %s\n", data.status().ToString().c_str());
    return 1;
  }
  const double build_s = Since(t0);
  const models::Dataset& d = *data;
  const uint32_t n = d.num_items();
  size_t nnz = 0;
  for (uint32_t u = 0; u < d.num_users(); ++u) nnz += d.UserItems(u).size();

  // recdb: the whole Fit, and its steps.
  models::EaseOptions eo;
  eo.lambda = lambda;
  eo.threads = threads;
  eo.single_precision = single;
  eo.max_items = std::max(eo.max_items, n);
  std::vector<uint32_t> sample;
  for (uint32_t k = 0; k < 16 && n > 0; ++k) sample.push_back(static_cast<uint32_t>(k * (n - 1) / 15));
  sample.erase(std::unique(sample.begin(), sample.end()), sample.end());
  std::vector<float> ours(sample.size() * n);
  models::EaseFitTimes steps;
  double fit_s = 0, fit_cpu_s = 0;
  {
    models::Ease ease(eo);
    const double cpu0 = ProcessCpuSeconds();
    t0 = std::chrono::steady_clock::now();
    Status s = ease.Fit(d);
    fit_s = Since(t0);
    fit_cpu_s = ProcessCpuSeconds() - cpu0;
    if (!s.ok()) {
      std::fprintf(stderr, "bench ease: fit: %s\n", s.ToString().c_str());
      return 1;
    }
    steps = ease.last_fit_times();
    for (size_t k = 0; k < sample.size(); ++k) {
      const uint32_t item[] = {sample[k]};
      models::UserQuery q;
      q.items = item;
      ease.Score(q, std::span<float>(ours.data() + k * n, n));
    }
  }  // B freed before numpy allocates its matrices

  NumpyResult ref;
  if (numpy) ref = RunNumpy(python, d, lambda, threads, sample);
  double max_abs = 0, max_b = 0;
  if (ref.ran && ref.error.empty()) {
    for (size_t k = 0; k < ours.size(); ++k) {
      max_abs = std::max(max_abs, std::abs(ours[k] - ref.rows[k]));
      max_b = std::max(max_b, std::abs(ref.rows[k]));
    }
  }
  const bool compared = ref.ran && ref.error.empty();
  const double ratio = compared && fit_s > 0 ? ref.total_s / fit_s : 0;
  const double cpu_ratio = compared && fit_cpu_s > 0 ? ref.total_cpu_s / fit_cpu_s : 0;
  const double inv_ratio = compared && steps.factorise > 0 ? ref.inv_s / steps.factorise : 0;

  if (json) {
    nlohmann::json j = {
        {"items", n},
        {"users", d.num_users()},
        {"interactions", nnz},
        {"world", data_dir.empty() ? "synthetic" : data_dir},
        {"threads", threads},
        {"precision", single ? "float" : "double"},
        {"lambda", lambda},
        {"dataset_build_s", build_s},
        {"recdb", {{"fit_s", fit_s},
                   {"fit_cpu_s", fit_cpu_s},
                   {"gram_s", steps.gram},
                   {"factorise_s", steps.factorise},
                   {"weights_s", steps.weights}}}};
    if (numpy) {
      j["numpy"] = {{"ran", compared},
                    {"error", ref.error},
                    {"total_s", ref.total_s},
                    {"total_cpu_s", ref.total_cpu_s},
                    {"gram_s", ref.gram_s},
                    {"inv_s", ref.inv_s},
                    {"weights_s", ref.weights_s},
                    {"version", ref.version},
                    {"blas", ref.blas}};
      j["speedup_vs_numpy"] = ratio;
      j["cpu_speedup_vs_numpy"] = cpu_ratio;
      j["inverse_speedup_vs_numpy"] = inv_ratio;
      j["max_abs_weight_diff"] = max_abs;
      j["max_abs_weight"] = max_b;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return compared || !numpy ? 0 : 1;
  }
  std::printf("EASE fit: %u items, %u users, %zu interactions (%s), threads=%d, lambda=%g\n", n,
              d.num_users(), nnz, data_dir.empty() ? "synthetic world" : data_dir.c_str(), threads,
              lambda);
  std::printf("%-7s %9s %9s %9s %12s %9s\n", "", "total_s", "cpu_s", "gram_s", "inverse_s",
              "weights_s");
  std::printf("%-7s %9.2f %9.2f %9.2f %12.2f %9.2f   (inverse: %s)\n", "recdb", fit_s,
              fit_cpu_s, steps.gram, steps.factorise, steps.weights,
              single ? "spotrf + spotri, float" : "dpotrf + dpotri, double");
  if (!numpy) return 0;
  if (!compared) {
    std::fprintf(stderr, "bench ease: numpy reference did not run: %s\n", ref.error.c_str());
    return 1;
  }
  std::printf("%-7s %9.2f %9.2f %9.2f %12.2f %9.2f   (inverse: np.linalg.inv; numpy %s)\n",
              "numpy", ref.total_s, ref.total_cpu_s, ref.gram_s, ref.inv_s, ref.weights_s,
              ref.version.c_str());
  std::printf("numpy BLAS/LAPACK loaded:");
  for (const std::string& b : ref.blas) std::printf(" %s", b.c_str());
  std::printf("\nspeedup vs numpy: %.2fx wall, %.2fx CPU seconds, %.2fx inverse (wall)\n", ratio,
              cpu_ratio, inv_ratio);
  std::printf("max |B_recdb - B_numpy| over %zu rows: %.3g (max |B| %.3g)\n", sample.size(), max_abs,
              max_b);
  return 0;
}

}  // namespace

RECDB_REGISTER_BENCH("ease", BenchEaseMain,
                     "EASE fit (LAPACK Cholesky inverse) vs numpy's np.linalg.inv path");

}  // namespace recdb::bench
