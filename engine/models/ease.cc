#include "engine/models/ease.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <span>
#include <type_traits>
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
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, size_t uplo_len);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info, size_t uplo_len);
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

namespace {

void Potrf(int n, double* a, int* info) { dpotrf_("L", &n, a, &n, info, 1); }
void Potri(int n, double* a, int* info) { dpotri_("L", &n, a, &n, info, 1); }
void Potrf(int n, float* a, int* info) { spotrf_("L", &n, a, &n, info, 1); }
void Potri(int n, float* a, int* info) { spotri_("L", &n, a, &n, info, 1); }

// Lower triangle of G = X^T X + lambda I, column-major as LAPACK wants it,
// in g (n x n, zeroed). Column b gets one for every user of b and every
// later item a of that user: each worker writes only its own columns, and a
// column stays in cache while its users are added, where a per-user pass
// would scatter over all of G. Counts are integers below 2^24, exact in
// float as in double.
template <typename T>
void BuildGram(const Dataset& data, double lambda, int threads, T* g) {
  const uint32_t n = data.num_items();
  const size_t ld = n;
  ParallelFor(n, threads, [&](size_t b) {
    T* col = g + b * ld;
    for (uint32_t u : data.ItemUsers(static_cast<uint32_t>(b))) {
      auto items = data.UserItems(u);  // ascending, contains b
      for (auto it = std::lower_bound(items.begin(), items.end(), static_cast<uint32_t>(b));
           it != items.end(); ++it) {
        col[*it] += T(1);
      }
    }
    col[b] += static_cast<T>(lambda);
  });
}

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
  return options_.single_precision ? FitIn<float>(data) : FitIn<double>(data);
}

template <typename T>
Status Ease::FitIn(const Dataset& data) {
  const uint32_t n = data.num_items();
  const int threads = std::max(1, options_.threads);
  const size_t ld = n;
  auto t0 = std::chrono::steady_clock::now();
  // G, then B in place: a fresh anonymous mapping (zero pages, so no
  // memset over them) with transparent huge pages where the kernel allows
  // (2 MB faults instead of 4 KB ones: at 10K items, 200 faults rather than
  // 100,000 for the 400 MB, which perf showed as 10% of the fit).
  const size_t bytes = static_cast<size_t>(n) * n * sizeof(T);
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    return Status::ResourceExhausted("ease: cannot map " + std::to_string(bytes) + " bytes for G");
  }
  (void)::madvise(mem, bytes, MADV_HUGEPAGE);
  std::shared_ptr<void> gram(mem, [bytes](void* p) { ::munmap(p, bytes); });
  T* g = static_cast<T*>(mem);
  BuildGram(data, options_.lambda, threads, g);
  fit_times_.gram = SecondsSince(t0);

  // P = G^-1 (lower triangle) from G's Cholesky factor.
  t0 = std::chrono::steady_clock::now();
  {
    OpenBlasThreads budget(threads);
    int info = 0;
    Potrf(static_cast<int>(n), g, &info);
    if (info > 0) return Status::Internal("ease: Gram matrix not positive definite");
    if (info < 0) return Status::Internal("ease: potrf argument " + std::to_string(-info));
    Potri(static_cast<int>(n), g, &info);
    if (info != 0) return Status::Internal("ease: potri failed, info " + std::to_string(info));
  }
  fit_times_.factorise = SecondsSince(t0);

  // B_ij = -P_ij / P_jj (zero diagonal), row-major. P_ij (i >= j) is
  // g[i + j n]; B_ij sits at i n + j. For i < j that is the slot of P_ji =
  // P_ij itself; for i > j it is the unused upper slot g[j + i n]. So each
  // stored P_ij (i > j) yields B_ji in its own slot and B_ij in its mirror.
  // Tiles of 64 x 64 keep both sides in cache; a worker owns a lower tile
  // and its mirror, so tiles never overlap.
  t0 = std::chrono::steady_clock::now();
  std::vector<T> inv_diag(n);
  for (size_t j = 0; j < n; ++j) inv_diag[j] = T(1) / g[j + j * ld];
  constexpr size_t kTile = 64;
  const size_t tiles = (n + kTile - 1) / kTile;
  auto scale_tile = [&](size_t ti, size_t tj) {  // tile row ti >= tile column tj
    const size_t i0 = ti * kTile, i1 = std::min<size_t>(n, i0 + kTile);
    const size_t j0 = tj * kTile, j1 = std::min<size_t>(n, j0 + kTile);
    for (size_t j = j0; j < j1; ++j) {
      T* lower = g + j * ld;  // column j: P_ij at lower[i]
      for (size_t i = std::max(i0, j + 1); i < i1; ++i) {
        const T p = lower[i];
        g[j + i * ld] = -p * inv_diag[j];  // B_ij (i > j) in the mirror slot
        lower[i] = -p * inv_diag[i];       // B_ji in P_ij's slot
      }
    }
  };
  ParallelFor(tiles, threads, [&](size_t ti) {
    for (size_t tj = 0; tj <= ti; ++tj) scale_tile(ti, tj);
  });
  for (size_t j = 0; j < n; ++j) g[j + j * ld] = T(0);
  if constexpr (std::is_same_v<T, float>) {
    weights_ = StoredArray<float>(std::span<const float>(g, static_cast<size_t>(n) * n),
                                  std::move(gram));
  } else {
    weights_ = StoredArray<float>(std::vector<float>(g, g + static_cast<size_t>(n) * n));
  }
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
