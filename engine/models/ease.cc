#include "engine/models/ease.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/parallel_for.h"

// LAPACK and OpenBLAS entry points (libopenblas, found by CMake through
// pkg-config). Declared here rather than through lapacke.h so that the
// engine links OpenBLAS's own LAPACK, not whichever liblapack.so.3 the
// system's alternatives select. The trailing size_t is gfortran's hidden
// length of the `uplo` string.
extern "C" {
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
void openblas_set_num_threads(int threads);
int openblas_get_num_threads(void);
}

namespace recdb::models {

namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Sets OpenBLAS's (process-wide) thread count for the lifetime of the object.
class OpenBlasThreads {
 public:
  explicit OpenBlasThreads(int threads) : saved_(openblas_get_num_threads()) {
    openblas_set_num_threads(std::max(1, threads));
  }
  ~OpenBlasThreads() { openblas_set_num_threads(saved_); }
  OpenBlasThreads(const OpenBlasThreads&) = delete;
  OpenBlasThreads& operator=(const OpenBlasThreads&) = delete;

 private:
  const int saved_;
};

}  // namespace

Status Ease::Fit(const Dataset& data) {
  const uint32_t n = data.num_items();
  if (n > options_.max_items) {
    return Status::ResourceExhausted("ease: catalogue of " + std::to_string(n) +
                                     " items is larger than max_items " +
                                     std::to_string(options_.max_items));
  }
  if (!(options_.lambda > 0)) return Status::InvalidArgument("ease: lambda must be > 0");
  fit_times_ = EaseFitTimes{};
  weights_ = StoredArray<float>();  // frees the old B before G is allocated
  n_ = 0;
  if (n == 0) return Status::OK();
  const int threads = std::max(1, options_.threads);

  // Lower triangle of G, column-major as LAPACK wants it. Column b gets one
  // for every user of b and every later item a of that user: each worker
  // writes only its own columns, and a column (n doubles) stays in cache
  // while its users are added, where a per-user pass would scatter over all
  // of G.
  auto t0 = std::chrono::steady_clock::now();
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
  double* g = gram.data();
  const size_t ld = n;
  ParallelFor(n, threads, [&](size_t b) {
    double* col = g + b * ld;
    for (uint32_t u : data.ItemUsers(static_cast<uint32_t>(b))) {
      auto items = data.UserItems(u);  // ascending, contains b
      for (auto it = std::lower_bound(items.begin(), items.end(), static_cast<uint32_t>(b));
           it != items.end(); ++it) {
        col[*it] += 1.0;
      }
    }
    col[b] += options_.lambda;
  });
  fit_times_.gram = SecondsSince(t0);

  // P = G^-1 (lower triangle) from G's Cholesky factor.
  t0 = std::chrono::steady_clock::now();
  {
    OpenBlasThreads budget(threads);
    const int dim = static_cast<int>(n);
    int info = 0;
    dpotrf_("L", &dim, g, &dim, &info, 1);
    if (info > 0) return Status::Internal("ease: Gram matrix not positive definite");
    if (info < 0) return Status::Internal("ease: dpotrf argument " + std::to_string(-info));
    dpotri_("L", &dim, g, &dim, &info, 1);
    if (info != 0) return Status::Internal("ease: dpotri failed, info " + std::to_string(info));
  }
  fit_times_.factorise = SecondsSince(t0);

  // B_ij = -P_ij / P_jj, B row-major. P_ij is g[i + j n] for i >= j and
  // g[j + i n] above the diagonal; a block of 64 rows reads the lower part
  // column by column (64 consecutive doubles) so that both sides stay in
  // cache.
  t0 = std::chrono::steady_clock::now();
  std::vector<double> inv_diag(n);
  for (size_t j = 0; j < n; ++j) inv_diag[j] = 1.0 / g[j + j * ld];
  std::vector<float> b(static_cast<size_t>(n) * n);
  float* w = b.data();
  constexpr size_t kBlock = 64;
  ParallelFor((n + kBlock - 1) / kBlock, threads, [&](size_t block) {
    const size_t i0 = block * kBlock, i1 = std::min<size_t>(n, i0 + kBlock);
    for (size_t j = 0; j < i1; ++j) {
      const double* p = g + j * ld;
      for (size_t i = std::max(i0, j); i < i1; ++i) {
        w[i * ld + j] = static_cast<float>(-p[i] * inv_diag[j]);
      }
    }
    for (size_t i = i0; i < i1; ++i) {
      const double* p = g + i * ld;
      float* row = w + i * ld;
      for (size_t j = i + 1; j < n; ++j) row[j] = static_cast<float>(-p[j] * inv_diag[j]);
      row[i] = 0.0f;
    }
  });
  weights_ = StoredArray<float>(std::move(b));
  n_ = n;
  fit_times_.weights = SecondsSince(t0);
  return Status::OK();
}

void Ease::Score(const UserQuery& query, std::span<float> scores) const {
  Eigen::Map<Eigen::VectorXf> out(scores.data(), static_cast<Eigen::Index>(scores.size()));
  out.setZero();
  std::vector<uint32_t> items(query.items.begin(), query.items.end());
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  for (uint32_t i : items) {
    if (i < num_items()) {
      out += Eigen::Map<const Eigen::VectorXf>(weights_.data() + static_cast<size_t>(i) * n_, n_);
    }
  }
}

}  // namespace recdb::models

namespace recdb::models {

Status Ease::Save(ModelWriter& out) const {
  out.Put<uint32_t>(num_items());
  out.PutStored(weights_.span());
  return Status::OK();
}

Status Ease::Load(ModelReader& in) {
  uint32_t n = 0;
  if (!in.Get(&n) || !in.Expect(n <= options_.max_items, "item count") ||
      !in.CanHold(static_cast<uint64_t>(n) * n, sizeof(float))) {
    return in.status();
  }
  weights_ = StoredArray<float>();
  n_ = 0;
  if (!in.GetStored(&weights_) ||
      !in.Expect(weights_.size() == static_cast<uint64_t>(n) * n, "weight matrix size")) {
    weights_ = StoredArray<float>();
    return in.status();
  }
  n_ = n;
  return in.status();
}

}  // namespace recdb::models
