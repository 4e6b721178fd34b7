#include "engine/models/ials.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>

#include "common/crc32c.h"
#include "common/parallel_for.h"
#include "index/hnsw_index.h"

namespace recdb::models {

namespace {

using Matrix = Ials::Matrix;

// CSR rows of one side: rows(a) are the distinct column ids of row a.
struct Rows {
  const Dataset* data;
  bool users;
  std::span<const uint32_t> operator()(uint32_t a) const {
    return users ? data->UserItems(a) : data->ItemUsers(a);
  }
};

float RowRegularization(const IalsOptions& o, size_t n) {
  return static_cast<float>(o.regularization *
                            std::pow(static_cast<double>(n) + 1.0, o.reg_exponent));
}

// Solves row `a` of `x` against fixed factors `y` with Gramian `g`.
void SolveRow(const IalsOptions& o, const Eigen::MatrixXf& g, const Matrix& y,
              std::span<const uint32_t> cols, Eigen::Ref<Eigen::VectorXf> x,
              Eigen::VectorXf& r, Eigen::VectorXf& p, Eigen::VectorXf& ap) {
  const float alpha = static_cast<float>(o.alpha);
  const float conf = static_cast<float>(o.alpha + o.unobserved_weight);
  const float reg = RowRegularization(o, cols.size());
  if (cols.empty()) {
    x.setZero();
    return;
  }
  if (o.cg_steps <= 0) {
    Eigen::MatrixXf a = g;
    Eigen::VectorXf b = Eigen::VectorXf::Zero(g.rows());
    for (uint32_t c : cols) {
      auto v = y.row(c).transpose();
      a.selfadjointView<Eigen::Lower>().rankUpdate(v, alpha);
      b += conf * v;
    }
    a.diagonal().array() += reg;
    x = a.selfadjointView<Eigen::Lower>().llt().solve(b);
    return;
  }
  // r = b - A x, A x = G x + alpha sum (v.x) v + reg x, b = conf sum v.
  r.noalias() = -(g * x);
  r -= reg * x;
  for (uint32_t c : cols) {
    auto v = y.row(c).transpose();
    r += (conf - alpha * v.dot(x)) * v;
  }
  p = r;
  float rs_old = r.squaredNorm();
  for (int step = 0; step < o.cg_steps && rs_old > 1e-20f; ++step) {
    ap.noalias() = g * p;
    ap += reg * p;
    for (uint32_t c : cols) {
      auto v = y.row(c).transpose();
      ap += (alpha * v.dot(p)) * v;
    }
    const float step_len = rs_old / p.dot(ap);
    x += step_len * p;
    r -= step_len * ap;
    const float rs_new = r.squaredNorm();
    p = r + (rs_new / rs_old) * p;
    rs_old = rs_new;
  }
}

void HalfStep(const IalsOptions& o, const Rows& rows, const Matrix& y, Matrix& x) {
  Eigen::MatrixXf g = static_cast<float>(o.unobserved_weight) * (y.transpose() * y);
  const uint32_t n = static_cast<uint32_t>(x.rows());
  constexpr size_t kChunk = 32;
  struct Scratch {
    Eigen::VectorXf r, p, ap, xr;
  };
  const int f = static_cast<int>(y.cols());
  auto make_scratch = [f] {
    return Scratch{Eigen::VectorXf(f), Eigen::VectorXf(f), Eigen::VectorXf(f), Eigen::VectorXf(f)};
  };
  ParallelForWithScratch(n, o.threads, kChunk, make_scratch, [&](Scratch& w, size_t row) {
    const uint32_t a = static_cast<uint32_t>(row);
    w.xr = x.row(a).transpose();
    SolveRow(o, g, y, rows(a), w.xr, w.r, w.p, w.ap);
    x.row(a) = w.xr.transpose();
  });
}

}  // namespace

Status Ials::Fit(const Dataset& data) {
  StopBuild();  // a deferred index build reads the factors this replaces
  retrieval_.store(nullptr);
  const IalsOptions& o = options_;
  if (o.factors <= 0 || o.iterations < 0 || o.regularization < 0 || o.alpha < 0 ||
      o.unobserved_weight < 0) {
    return Status::InvalidArgument("ials: factors must be > 0 and weights >= 0");
  }
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> normal(0.0f, static_cast<float>(o.init_stddev));
  stored_users_ = StoredArray<float>();
  stored_user_rows_ = 0;
  user_factors_.resize(data.num_users(), o.factors);
  item_factors_.resize(data.num_items(), o.factors);
  // Rows [0, warm_users) and [0, warm_items) start from a previous fit.
  Eigen::Index warm_users = 0, warm_items = 0;
  int iterations = o.iterations;
  if (warm_ && warm_->item_factors_.cols() == o.factors) {
    // Ids are stable (new users and items are appended), so each known row
    // starts where the previous fit left it; new rows start random.
    const Eigen::Map<const Matrix> previous_users = warm_->user_factors();
    warm_users = std::min(user_factors_.rows(), previous_users.rows());
    warm_items = std::min(item_factors_.rows(), warm_->item_factors_.rows());
    user_factors_.topRows(warm_users) = previous_users.topRows(warm_users);
    item_factors_.topRows(warm_items) = warm_->item_factors_.topRows(warm_items);
    iterations = o.warm_iterations;
  }
  // Every row's normals are drawn, the warm rows' too (and discarded):
  // new rows get the same start as before warm starts skipped draws, so
  // seeded figures (the simulator's, docs/BENCHMARKS.md) do not move. At 1M
  // users that is 64M normals, under 1 s of a ~90 CPU-s warm retrain.
  for (Eigen::Index k = 0; k < user_factors_.size(); ++k) {
    const float v = normal(rng);
    if (k >= warm_users * o.factors) user_factors_.data()[k] = v;
  }
  for (Eigen::Index k = 0; k < item_factors_.size(); ++k) {
    const float v = normal(rng);
    if (k >= warm_items * o.factors) item_factors_.data()[k] = v;
  }
  warm_.reset();
  const Rows user_rows{&data, true}, item_rows{&data, false};
  for (int it = 0; it < iterations; ++it) {
    HalfStep(o, user_rows, item_factors_, user_factors_);
    HalfStep(o, item_rows, user_factors_, item_factors_);
  }
  item_gramian_ = static_cast<float>(o.unobserved_weight) * (item_factors_.transpose() * item_factors_);
  return Status::OK();
}

Eigen::VectorXf Ials::FoldIn(std::span<const uint32_t> items) const {
  std::vector<uint32_t> cols;
  for (uint32_t i : items) {
    if (i < num_items()) cols.push_back(i);
  }
  std::sort(cols.begin(), cols.end());
  cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
  IalsOptions exact = options_;
  exact.cg_steps = 0;
  const int f = static_cast<int>(item_factors_.cols());
  Eigen::VectorXf x = Eigen::VectorXf::Zero(f), r(f), p(f), ap(f);
  SolveRow(exact, item_gramian_, item_factors_, cols, x, r, p, ap);
  return x;
}

void Ials::Score(const UserQuery& query, std::span<float> scores) const {
  Eigen::Map<Eigen::VectorXf> out(scores.data(), static_cast<Eigen::Index>(scores.size()));
  const Eigen::Map<const Matrix> users = user_factors();
  if (query.user < users.rows() && !options_.fold_in_known_users) {
    out.noalias() = item_factors_ * users.row(query.user).transpose();
  } else {
    out.noalias() = item_factors_ * FoldIn(query.items);
  }
}

Eigen::VectorXf Ials::UserVector(const UserQuery& query) const {
  const Eigen::Map<const Matrix> users = user_factors();
  if (query.user < users.rows() && !options_.fold_in_known_users) {
    return users.row(query.user).transpose();
  }
  return FoldIn(query.items);
}

void Ials::ScoreItems(const UserQuery& query, std::span<const uint32_t> items,
                      std::span<float> out) const {
  const Eigen::VectorXf u = UserVector(query);
  // Row times vector, as the product in Score computes each entry. The rows
  // are scattered over the factor matrix (256 MB at 1M items): fetch a few
  // rows ahead, so that the misses overlap instead of queuing.
  constexpr size_t kAhead = 4;
  const size_t row_bytes = static_cast<size_t>(item_factors_.cols()) * sizeof(float);
  auto prefetch = [&](uint32_t item) {
    const char* p = reinterpret_cast<const char*>(item_factors_.row(item).data());
    for (size_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(p + b);
  };
  for (size_t r = 0; r < std::min(kAhead, items.size()); ++r) prefetch(items[r]);
  for (size_t r = 0; r < items.size(); ++r) {
    if (r + kAhead < items.size()) prefetch(items[r + kAhead]);
    out[r] = item_factors_.row(items[r]).dot(u);
  }
}

Ials::~Ials() { StopBuild(); }

// A deferred build's state, shared by the model and the work it handed out.
// The work runs at most once, on whatever thread the caller chose; it touches
// the model only between kRunning and kDone, and StopBuild waits for kDone
// only when the work has started, so a model destroyed on the one thread that
// would run its work does not wait for it.
struct Ials::DeferredBuild {
  enum class State { kPending, kRunning, kDone };
  std::mutex mu;
  std::condition_variable cv;
  State state = State::kPending;
  bool cancelled = false;
  std::atomic<bool> stop{false};
};

void Ials::StopBuild() {
  if (!deferred_) return;
  DeferredBuild& d = *deferred_;
  std::unique_lock<std::mutex> lock(d.mu);
  d.cancelled = true;
  d.stop.store(true);
  d.cv.wait(lock, [&] { return d.state != DeferredBuild::State::kRunning; });
  lock.unlock();
  deferred_.reset();
}

Recommender::DeferredWork Ials::PrepareRetrieval(std::span<const uint32_t> item_rank,
                                                 bool may_defer) {
  (void)item_rank;  // an ANN search: ties are not ordered
  // Adopted by LoadRetrieval for these factors (Fit and Load reset it).
  if (auto r = retrieval_.load(); r && r->adopted) return {};
  StopBuild();
  retrieval_.store(nullptr);
  if (num_items() == 0 || item_factors_.cols() == 0) return {};
  if (!may_defer) {
    BuildRetrieval([] { return false; });
    return {};
  }
  deferred_ = std::make_shared<DeferredBuild>();
  return [self = this, d = deferred_](const std::atomic<bool>& stop) {
    {
      std::lock_guard<std::mutex> lock(d->mu);
      if (d->cancelled || d->state != DeferredBuild::State::kPending) return;
      d->state = DeferredBuild::State::kRunning;
    }
    self->BuildRetrieval([&] { return d->stop.load(std::memory_order_relaxed) ||
                                      stop.load(std::memory_order_relaxed); });
    std::lock_guard<std::mutex> lock(d->mu);
    d->state = DeferredBuild::State::kDone;
    d->cv.notify_all();
  };
}

void Ials::BuildRetrieval(const std::function<bool()>& stopped) {
  const auto start = std::chrono::steady_clock::now();
  auto r = std::make_shared<Retrieval>();
  const Eigen::MatrixXd h = item_factors_.cast<double>();
  r->item_sum = h.colwise().sum().transpose();
  r->item_second = h.transpose() * h;
  const uint32_t n = num_items();
  const int f = static_cast<int>(item_factors_.cols());
  index::HnswOptions o;
  o.m = static_cast<size_t>(std::max(2, options_.retrieval_m));
  o.ef_construction = static_cast<size_t>(std::max(1, options_.retrieval_ef_construction));
  o.ef_search = static_cast<size_t>(std::max(1, options_.retrieval_ef_search));
  o.initial_capacity = n;
  auto created = index::HnswIndex::Create(static_cast<uint32_t>(f), index::Metric::kInnerProduct, o);
  if (!created.ok()) return;  // Retrieve answers false: the blend scores every item
  std::shared_ptr<index::HnswIndex> hnsw = std::move(*created);
  // On the fit's thread budget (options_.threads: a low-priority Train's
  // budget at Train, ComponentConfig's at a load).
  std::vector<uint32_t> ids(n);
  for (uint32_t i = 0; i < n; ++i) ids[i] = i;
  const std::span<const float> rows(item_factors_.data(), static_cast<size_t>(item_factors_.size()));
  if (!hnsw->AddMany(ids, rows, options_.threads, stopped).ok()) return;
  r->index = std::move(hnsw);
  r->build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  retrieval_.store(std::move(r));
}

uint32_t Ials::ItemFactorsCrc() const {
  return Crc32c(item_factors_.data(), static_cast<size_t>(item_factors_.size()) * sizeof(float));
}

// Layout: u64 items, i32 factors, u32 CRC-32C of the item factors, the
// sum (f doubles), H^T H (f x f doubles), the index (HnswIndex::
// AppendSerialized) as a stored byte array.
bool Ials::SaveRetrieval(ModelWriter& out) const {
  const std::shared_ptr<const Retrieval> r = retrieval_.load();
  if (!r) return false;
  std::string index_bytes;
  if (!r->index->AppendSerialized(&index_bytes).ok()) return false;
  out.Put<uint64_t>(num_items());
  out.Put<int32_t>(static_cast<int32_t>(item_factors_.cols()));
  out.Put<uint32_t>(ItemFactorsCrc());
  out.PutArray(r->item_sum.data(), static_cast<size_t>(r->item_sum.size()));
  out.PutArray(r->item_second.data(), static_cast<size_t>(r->item_second.size()));
  out.PutStored(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(index_bytes.data()),
                                         index_bytes.size()));
  return true;
}

bool Ials::LoadRetrieval(ModelReader& in) {
  uint64_t items = 0;
  int32_t factors = 0;
  uint32_t crc = 0;
  if (!in.Get(&items) || !in.Get(&factors) || !in.Get(&crc) ||
      !in.Expect(factors > 0 && factors <= 4096, "retrieval factor count")) {
    return false;
  }
  auto r = std::make_shared<Retrieval>();
  r->item_sum.resize(factors);
  r->item_second.resize(factors, factors);
  StoredArray<uint8_t> index_bytes;
  if (!in.GetArray(r->item_sum.data(), static_cast<uint64_t>(factors)) ||
      !in.GetArray(r->item_second.data(), static_cast<uint64_t>(factors) * factors) ||
      !in.GetStored(&index_bytes)) {
    return false;
  }
  // Another fit's state (a model retrained since, a file from elsewhere):
  // read in full above, not adopted.
  if (items != num_items() || factors != item_factors_.cols() || items == 0 ||
      crc != ItemFactorsCrc()) {
    return false;
  }
  const auto start = std::chrono::steady_clock::now();
  index::HnswOptions o;
  o.ef_search = static_cast<size_t>(std::max(1, options_.retrieval_ef_search));
  auto index = index::HnswIndex::Deserialize(
      std::string_view(reinterpret_cast<const char*>(index_bytes.data()), index_bytes.size()),
      static_cast<uint32_t>(factors), index::Metric::kInnerProduct, o);
  if (!index.ok()) return in.Fail("stored retrieval index: " + index.status().ToString());
  if ((*index)->Size() != items) return in.Fail("stored retrieval index: wrong item count");
  StopBuild();
  r->index = std::move(index).value();
  r->adopted = true;
  r->build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  retrieval_.store(std::move(r));
  return true;
}

bool Ials::Retrieve(const UserQuery& query, size_t k, std::span<const uint32_t> exclude,
                    std::vector<uint32_t>* out) const {
  const std::shared_ptr<const Retrieval> retrieval = retrieval_.load();
  if (!retrieval) return false;
  if (options_.retrieval_candidates > 0) k = std::min(k, options_.retrieval_candidates);
  const Eigen::VectorXf u = UserVector(query);
  // Ask for the excluded items too: the history lies near the user vector.
  const size_t want = std::min<size_t>(k + exclude.size(), num_items());
  auto found = retrieval->index->Search(std::span<const float>(u.data(), static_cast<size_t>(u.size())),
                                        want, nullptr, index::SearchPlan::kGraph, nullptr);
  if (!found.ok()) return false;
  size_t taken = 0;
  for (const index::Neighbor& nb : *found) {
    if (taken == k) break;
    if (std::binary_search(exclude.begin(), exclude.end(), nb.id)) continue;
    out->push_back(nb.id);
    ++taken;
  }
  return true;
}

bool Ials::ScoreMoments(const UserQuery& query, std::span<const uint32_t> exclude, double* sum,
                        double* sum_sq) const {
  const std::shared_ptr<const Retrieval> retrieval = retrieval_.load();
  if (!retrieval) return false;
  const Eigen::VectorXd u = UserVector(query).cast<double>();
  double s = retrieval->item_sum.dot(u);
  double sq = u.dot(retrieval->item_second * u);
  for (uint32_t i : exclude) {
    const double v = item_factors_.row(i).cast<double>().dot(u);
    s -= v;
    sq -= v * v;
  }
  *sum = s;
  *sum_sq = sq;
  return true;
}

}  // namespace recdb::models

namespace recdb::models {

namespace {

void PutMatrix(ModelWriter& out, const Matrix& m) {
  out.Put<uint64_t>(static_cast<uint64_t>(m.rows()));
  out.PutArray(m.data(), static_cast<size_t>(m.size()));
}

bool GetMatrix(ModelReader& in, int cols, Matrix* m) {
  uint64_t rows = 0;
  if (!in.Get(&rows) || !in.Expect(rows <= UINT32_MAX, "row count") ||
      !in.CanHold(rows * static_cast<uint64_t>(cols), sizeof(float))) {
    return false;
  }
  m->resize(static_cast<Eigen::Index>(rows), cols);
  return in.GetArray(m->data(), rows * static_cast<uint64_t>(cols));
}

}  // namespace

bool Ials::WarmStart(std::shared_ptr<const Recommender> previous) {
  auto ials = std::dynamic_pointer_cast<const Ials>(previous);
  if (!ials) return false;
  warm_ = std::move(ials);
  return true;
}

Status Ials::Save(ModelWriter& out) const {
  out.Put<int32_t>(static_cast<int32_t>(item_factors_.cols()));
  const Eigen::Map<const Matrix> users = user_factors();
  out.Put<uint64_t>(static_cast<uint64_t>(users.rows()));
  out.PutStored(std::span<const float>(users.data(), static_cast<size_t>(users.size())));
  PutMatrix(out, item_factors_);
  return Status::OK();
}

Status Ials::Load(ModelReader& in) {
  StopBuild();  // a deferred index build reads the factors this replaces
  retrieval_.store(nullptr);
  int32_t factors = 0;
  // The stored factor count wins over the options: it is the fitted model's.
  if (!in.Get(&factors) || !in.Expect(factors > 0 && factors <= 4096, "factor count")) {
    return in.status();
  }
  options_.factors = factors;
  user_factors_.resize(0, 0);
  stored_users_ = StoredArray<float>();
  stored_user_rows_ = 0;
  uint64_t users = 0;
  if (!in.Get(&users) || !in.Expect(users <= UINT32_MAX, "user count") ||
      !in.GetStored(&stored_users_) ||
      !in.Expect(stored_users_.size() == users * static_cast<uint64_t>(factors), "user factors")) {
    stored_users_ = StoredArray<float>();
    return in.status();
  }
  stored_user_rows_ = static_cast<Eigen::Index>(users);
  if (GetMatrix(in, factors, &item_factors_)) {
    item_gramian_ =
        static_cast<float>(options_.unobserved_weight) * (item_factors_.transpose() * item_factors_);
  }
  return in.status();
}

}  // namespace recdb::models
