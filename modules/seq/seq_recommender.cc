// The only translation unit of recdb that includes torch.
#include "modules/seq/seq_recommender.h"

#include <torch/torch.h>


#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <string>

// OpenBLAS (torch's BLAS on Debian), if it is the one loaded: its own
// thread pool busy-waits (sched_yield) and, next to torch's intra-op
// threads on a loaded machine, burnt most of a fit's CPU time.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" int openblas_get_num_threads(void) __attribute__((weak));

namespace recdb::seq {

namespace {

// One pre-norm causal self-attention block: multi-head scaled dot-product
// attention written out with torch ops (torch::nn::MultiheadAttention of
// libtorch 1.13 rejects a per-sequence boolean mask), then a ReLU FFN.
struct BlockImpl : torch::nn::Module {
  BlockImpl(int dim, int heads_, double dropout)
      : heads(heads_),
        ln1(register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-8)))),
        qkv(register_module("qkv", torch::nn::Linear(dim, 3 * dim))),
        out(register_module("out", torch::nn::Linear(dim, dim))),
        ln2(register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-8)))),
        ff1(register_module("ff1", torch::nn::Linear(dim, dim))),
        ff2(register_module("ff2", torch::nn::Linear(dim, dim))),
        drop(register_module("drop", torch::nn::Dropout(dropout))) {}

  // x: (N, L, dim); blocked: bool (N or 1, L, L), true = may not attend.
  // `weights` (if set) receives the attention weights averaged over heads,
  // (N, L, L).
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& blocked, torch::Tensor* weights) {
    const int64_t n = x.size(0), len = x.size(1), dim = x.size(2), dh = dim / heads;
    auto parts = qkv(ln1(x)).view({n, len, 3, heads, dh}).permute({2, 0, 3, 1, 4});  // (3, N, H, L, dh)
    torch::Tensor logits = torch::matmul(parts[0], parts[1].transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
    logits = logits.masked_fill(blocked.unsqueeze(1), -1e9);
    torch::Tensor att = torch::softmax(logits, -1);  // (N, H, L, L)
    if (weights) *weights = att.mean(1);
    torch::Tensor a = torch::matmul(drop(att), parts[2]).transpose(1, 2).reshape({n, len, dim});
    x = x + drop(out(a));
    x = x + drop(ff2(drop(torch::relu(ff1(ln2(x))))));
    return x;
  }

  int64_t heads;
  torch::nn::LayerNorm ln1;
  torch::nn::Linear qkv, out;
  torch::nn::LayerNorm ln2;
  torch::nn::Linear ff1, ff2;
  torch::nn::Dropout drop;
};
TORCH_MODULE(Block);

// gBCE over P positions: pos (P), neg (P, k). -beta log sigmoid(s) is the
// paper's BCE of the transformed logit log(1 / (sigmoid(s)^-beta - 1)),
// whose log-sigmoid is beta log sigmoid(s), in a form that cannot overflow.
torch::Tensor Gbce(const torch::Tensor& pos, const torch::Tensor& neg, double beta) {
  return (beta * torch::softplus(-pos) + torch::softplus(neg).sum(-1)).mean();
}

// The last forward pass Score ran on this thread: the engine asks for the
// explanation's Attention on the same history right after Score, once per
// request, and gets it from here instead of a second pass. Keyed by the
// fitted model (a generation number, new at every Fit and Load) and the
// tokens, which determine the pass (eval mode: no dropout).
struct LastPass {
  uint64_t generation = 0;
  std::vector<int64_t> tokens;
  std::vector<float> attention;  // the last position's weights over `tokens`
};
thread_local LastPass last_pass;
std::atomic<uint64_t> next_generation{1};

}  // namespace

double GbceBeta(int negatives, uint32_t num_items, double t) {
  const double alpha = static_cast<double>(negatives) / (static_cast<double>(num_items) - 1);
  return alpha * (t * (1 - 1 / alpha) + 1 / alpha);
}

double GbceLoss(std::span<const float> pos_logits, std::span<const float> neg_logits, int negatives,
                double beta) {
  const int64_t p = static_cast<int64_t>(pos_logits.size());
  std::vector<float> pos(pos_logits.begin(), pos_logits.end()), neg(neg_logits.begin(), neg_logits.end());
  torch::NoGradGuard no_grad;
  return Gbce(torch::from_blob(pos.data(), {p}, torch::kFloat),
              torch::from_blob(neg.data(), {p, negatives}, torch::kFloat), beta)
      .item<double>();
}

struct SeqRecommender::Net : torch::nn::Module {
  Net(uint32_t num_items, int dim_, int blocks, int heads_, int max_len_, double dropout)
      : dim(dim_), heads(heads_), max_len(max_len_),
        item(register_module("item", torch::nn::Embedding(
                                         torch::nn::EmbeddingOptions(num_items + 1, dim).padding_idx(0)))),
        pos(register_module("pos", torch::nn::Embedding(max_len, dim))),
        emb_drop(register_module("emb_drop", torch::nn::Dropout(dropout))),
        last(register_module("last", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-8)))) {
    for (int b = 0; b < blocks; ++b) {
      layers.push_back(register_module("block" + std::to_string(b), Block(dim, heads, dropout)));
    }
  }

  // seq: (N, L) tokens (0 = padding, left), L <= max_len. Returns the
  // hidden states (N, L, dim); `weights` gets the last block's attention.
  torch::Tensor Encode(const torch::Tensor& seq, torch::Tensor* weights = nullptr) {
    const int64_t n = seq.size(0), len = seq.size(1);
    torch::Tensor positions = torch::arange(max_len - len, max_len, torch::kLong);
    torch::Tensor x = item(seq) * std::sqrt(static_cast<double>(dim)) + pos(positions).unsqueeze(0);
    x = emb_drop(x);
    torch::Tensor keep = (seq != 0).unsqueeze(-1).to(torch::kFloat);  // (N, L, 1)
    x = x * keep;
    // Future positions are blocked, and padding keys, except a position's
    // own (a padding query would otherwise have no key at all).
    torch::Tensor blocked = torch::ones({len, len}, torch::kBool).triu(1).unsqueeze(0);
    torch::Tensor pad = seq == 0;
    if (pad.any().item<bool>()) {
      blocked = (blocked | pad.unsqueeze(1)) & ~torch::eye(len, torch::kBool).unsqueeze(0);
    }
    for (size_t b = 0; b < layers.size(); ++b) {
      x = layers[b]->forward(x, blocked, b + 1 == layers.size() ? weights : nullptr) * keep;
    }
    (void)n;
    return last(x);
  }

  int dim, heads, max_len;
  torch::nn::Embedding item, pos;
  torch::nn::Dropout emb_drop;
  std::vector<Block> layers;
  torch::nn::LayerNorm last;
};

SeqRecommender::SeqRecommender(SeqOptions options) : options_(options) {}
SeqRecommender::~SeqRecommender() = default;

Status SeqRecommender::Fit(const models::Dataset& data) {
  const SeqOptions& o = options_;
  if (o.dim <= 0 || o.blocks <= 0 || o.heads <= 0 || o.dim % o.heads != 0 || o.max_len <= 0 ||
      o.epochs < 0 || o.batch_size <= 0 || o.negatives <= 0 || !(o.dropout >= 0 && o.dropout < 1) ||
      !(o.learning_rate > 0) || o.threads <= 0 || !(o.early_stop_fraction >= 0 && o.early_stop_fraction <= 1) ||
      o.patience <= 0 || !(o.score_temperature > 0) || !(o.gbce_t >= 0 && o.gbce_t <= 1)) {
    return Status::InvalidArgument("seq: bad options");
  }
  if (o.loss == SeqOptions::Loss::kGbce && static_cast<uint64_t>(o.negatives) + 1 > data.num_items()) {
    return Status::InvalidArgument("seq: gbce needs fewer negatives than items");
  }
  static std::mutex fit_mu;  // torch's default generator is process-wide
  std::lock_guard<std::mutex> lock(fit_mu);
  // Torch's intra-op pool and OpenBLAS's thread count are process-wide:
  // set for this fit (under fit_mu) and restored when it ends, so the host
  // and EASE (which sets its own, engine/models/ease.cc) keep theirs.
  struct ThreadCounts {
    int torch = torch::get_num_threads();
    int blas = openblas_get_num_threads ? openblas_get_num_threads() : 0;
    ~ThreadCounts() {
      torch::set_num_threads(torch);
      if (blas > 0 && openblas_set_num_threads) openblas_set_num_threads(blas);
    }
  } restore_thread_counts;
  torch::set_num_threads(o.threads);
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  torch::manual_seed(o.seed);
  num_items_ = data.num_items();
  net_ = std::make_shared<Net>(num_items_, o.dim, o.blocks, o.heads, o.max_len, o.dropout);

  // Early stopping's held-out events: of every user picked (>= 5 events),
  // the newest 20%, as the evaluation holds them out (docs/DESIGN.md:
  // round(0.2 n), at least 1), kept as (the newest max_len tokens before
  // them, oldest first; the held-out items, sorted; the user).
  std::vector<std::vector<int64_t>> held_hist;
  std::vector<std::vector<int64_t>> held_items;
  std::vector<uint32_t> held_user;
  std::vector<std::vector<int64_t>> seqs;
  std::vector<uint32_t> seq_user;
  for (uint32_t u = 0; u < data.num_users(); ++u) {
    auto tl = data.UserTimeline(u);
    size_t end = tl.size();
    const double f = o.early_stop_fraction;
    if (f > 0 && end >= 5 && std::floor((u + 1) * f) > std::floor(u * f)) {
      end -= std::max<size_t>(1, static_cast<size_t>(std::nearbyint(0.2 * static_cast<double>(end))));
      const size_t from = end > static_cast<size_t>(o.max_len) ? end - o.max_len : 0;
      std::vector<int64_t> h, t;
      for (size_t e = from; e < end; ++e) h.push_back(data.interactions()[tl[e]].item + 1);
      for (size_t e = end; e < tl.size(); ++e) t.push_back(data.interactions()[tl[e]].item + 1);
      std::sort(t.begin(), t.end());
      held_hist.push_back(std::move(h));
      held_items.push_back(std::move(t));
      held_user.push_back(u);
    }
    if (end < 2) continue;
    // Windows [from, to) of max_len + 1 events, newest first; consecutive
    // windows share one event so every transition is trained once.
    for (size_t to = end; to >= 2;) {
      const size_t from = to > static_cast<size_t>(o.max_len) + 1 ? to - o.max_len - 1 : 0;
      std::vector<int64_t> s;
      for (size_t e = from; e < to; ++e) s.push_back(data.interactions()[tl[e]].item + 1);
      seqs.push_back(std::move(s));
      seq_user.push_back(u);
      if (!o.all_windows || from == 0) break;
      to = from + 1;
    }
  }
  torch::optim::Adam adam(net_->parameters(), torch::optim::AdamOptions(o.learning_rate)
                                                  .betas({0.9, 0.98})
                                                  .weight_decay(o.weight_decay));
  std::mt19937_64 rng(o.seed);
  std::vector<size_t> order(seqs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  net_->train();
  last_loss_ = 0;
  const int k = o.negatives;
  const bool softmax = o.loss == SeqOptions::Loss::kSoftmax;
  const bool gbce = o.loss == SeqOptions::Loss::kGbce;
  const double beta = gbce ? GbceBeta(k, num_items_, o.gbce_t) : 1;
  const size_t batch = static_cast<size_t>(o.batch_size);
  std::vector<size_t> starts;
  for (size_t start = 0; start < order.size(); start += batch) starts.push_back(start);
  // Mean NDCG@10 of the held-out events: the top 10 of the items each user
  // had not had before them, as the evaluation ranks.
  auto held_ndcg = [&]() {
    torch::NoGradGuard no_grad;
    net_->eval();
    torch::Tensor items_t = net_->item->weight.slice(0, 1).t();
    double sum = 0;
    std::vector<uint8_t> had(num_items_);
    std::vector<std::pair<float, int64_t>> top;
    for (size_t b0 = 0; b0 < held_hist.size(); b0 += 256) {
      const size_t b1 = std::min(held_hist.size(), b0 + 256);
      int64_t len = 0;
      for (size_t b = b0; b < b1; ++b) len = std::max<int64_t>(len, held_hist[b].size());
      const int64_t n = static_cast<int64_t>(b1 - b0);
      std::vector<int64_t> in(n * len, 0);
      for (int64_t r = 0; r < n; ++r) {
        const auto& h = held_hist[b0 + r];
        std::copy(h.begin(), h.end(), in.begin() + r * len + (len - static_cast<int64_t>(h.size())));
      }
      torch::Tensor tin = torch::from_blob(in.data(), {n, len}, torch::kLong);
      torch::Tensor s = torch::matmul(net_->Encode(tin).select(1, len - 1), items_t).contiguous();  // (n, items)
      const float* p = s.data_ptr<float>();
      for (int64_t r = 0; r < n; ++r) {
        const float* row = p + r * num_items_;
        const size_t k = b0 + r;
        const auto& want = held_items[k];
        auto tl = data.UserTimeline(held_user[k]);
        std::fill(had.begin(), had.end(), 0);
        for (size_t e = 0; e + want.size() < tl.size(); ++e) had[data.interactions()[tl[e]].item] = 1;
        top.clear();
        for (uint32_t i = 0; i < num_items_; ++i) {
          if (!had[i]) top.push_back({row[i], static_cast<int64_t>(i) + 1});
        }
        const size_t cut = std::min<size_t>(10, top.size());
        std::partial_sort(top.begin(), top.begin() + cut, top.end(),
                          [](const auto& a, const auto& b) { return a.first > b.first; });
        double dcg = 0, idcg = 0;
        for (size_t j = 0; j < cut; ++j) {
          if (std::binary_search(want.begin(), want.end(), top[j].second)) dcg += 1.0 / std::log2(j + 2.0);
        }
        for (size_t j = 0; j < std::min<size_t>(10, want.size()); ++j) idcg += 1.0 / std::log2(j + 2.0);
        sum += dcg / idcg;
      }
    }
    net_->train();
    return held_hist.empty() ? 0.0 : sum / static_cast<double>(held_hist.size());
  };
  epoch_ndcg_.clear();
  best_epoch_ = 0;
  double best_ndcg = -1;
  std::vector<torch::Tensor> best_params;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    if (o.cosine_lr) {
      const double lr = 0.5 * o.learning_rate * (1 + std::cos(M_PI * epoch / o.epochs));
      for (auto& group : adam.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
    }
    // Shuffle, sort each run of 8 batches by length (less padding: a batch
    // is as long as its longest sequence), then shuffle the batches.
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t r = 0; r < order.size(); r += 8 * batch) {
      auto last = order.begin() + std::min(order.size(), r + 8 * batch);
      std::stable_sort(order.begin() + r, last,
                       [&](size_t a, size_t b) { return seqs[a].size() < seqs[b].size(); });
    }
    std::shuffle(starts.begin(), starts.end(), rng);
    double loss_sum = 0;
    int steps = 0;
    for (size_t start : starts) {
      const size_t end = std::min(order.size(), start + batch);
      const int64_t n = static_cast<int64_t>(end - start);
      int64_t len = 0;
      for (size_t b = start; b < end; ++b) len = std::max<int64_t>(len, seqs[order[b]].size() - 1);
      std::vector<int64_t> in(n * len, 0), pos(n * len, 0), neg(n * len * k, 0);
      for (int64_t r = 0; r < n; ++r) {
        const auto& s = seqs[order[start + r]];
        const auto seen = data.UserItems(seq_user[order[start + r]]);
        const int64_t m = static_cast<int64_t>(s.size()) - 1;
        for (int64_t t = 0; t < m; ++t) {
          const int64_t slot = r * len + (len - m + t);
          in[slot] = s[t];
          pos[slot] = s[t + 1];
          for (int j = 0; j < (softmax ? 0 : k); ++j) {
            uint32_t x = 0;
            for (int tries = 0; tries < 20; ++tries) {
              x = static_cast<uint32_t>(rng() % num_items_);
              if (!std::binary_search(seen.begin(), seen.end(), x)) break;
            }
            neg[slot * k + j] = x + 1;
          }
        }
      }
      torch::Tensor tin = torch::from_blob(in.data(), {n, len}, torch::kLong);
      torch::Tensor tpos = torch::from_blob(pos.data(), {n, len}, torch::kLong);
      torch::Tensor tneg = torch::from_blob(neg.data(), {n, len, k}, torch::kLong);
      torch::Tensor h = net_->Encode(tin);                                        // (N, L, d)
      if (softmax || gbce) {
        // Logits over every item at the non-padded positions only (for
        // gBCE too: cheaper than gathering k embeddings per position when
        // k is in the hundreds), then the softmax's cross-entropy, or gBCE
        // on the positive's and the negatives' logits.
        torch::Tensor keep = tpos != 0;
        torch::Tensor logits = torch::matmul(h.index({keep}), net_->item->weight.slice(0, 1).t());  // (P, items)
        torch::Tensor target = tpos.index({keep}) - 1;
        torch::Tensor loss =
            softmax ? torch::nn::functional::cross_entropy(logits, target)
                    : Gbce(logits.gather(1, target.unsqueeze(1)).squeeze(1),  // (P)
                           logits.gather(1, tneg.index({keep}) - 1), beta);   // (P, k)
        adam.zero_grad();
        loss.backward();
        adam.step();
        loss_sum += loss.item<double>();
        ++steps;
        continue;
      }
      torch::Tensor pl = (h * net_->item(tpos)).sum(-1);                          // (N, L)
      torch::Tensor nl = (h.unsqueeze(2) * net_->item(tneg)).sum(-1);             // (N, L, k)
      torch::Tensor valid = (tpos != 0).to(torch::kFloat);
      torch::Tensor per = torch::softplus(-pl) + torch::softplus(nl).sum(-1);    // BCE
      torch::Tensor loss = (per * valid).sum() / valid.sum().clamp_min(1);
      adam.zero_grad();
      loss.backward();
      adam.step();
      loss_sum += loss.item<double>();
      ++steps;
    }
    last_loss_ = steps ? loss_sum / steps : 0;
    if (held_hist.empty()) continue;
    const double v = held_ndcg();
    epoch_ndcg_.push_back(v);
    if (v > best_ndcg) {
      best_ndcg = v;
      best_epoch_ = epoch + 1;
      torch::NoGradGuard no_grad;
      best_params.clear();
      for (const auto& p : net_->parameters()) best_params.push_back(p.detach().clone());
    } else if (epoch + 1 - best_epoch_ >= o.patience) {
      break;
    }
  }
  if (!best_params.empty()) {
    torch::NoGradGuard no_grad;
    auto params = net_->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
  }
  net_->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor e = net_->item->weight.slice(0, 1).contiguous();
  item_emb_.assign(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
  generation_ = next_generation++;
  return Status::OK();
}

void SeqRecommender::Tokens(const models::UserQuery& query, std::vector<int64_t>* tokens,
                            std::vector<size_t>* index) const {
  tokens->clear();
  index->clear();
  for (size_t i = query.items.size(); i-- > 0 && tokens->size() < static_cast<size_t>(net_->max_len);) {
    if (query.items[i] >= num_items_) continue;
    tokens->push_back(static_cast<int64_t>(query.items[i]) + 1);
    index->push_back(i);
  }
  std::reverse(tokens->begin(), tokens->end());
  std::reverse(index->begin(), index->end());
}

void SeqRecommender::Score(const models::UserQuery& query, std::span<float> scores) const {
  std::vector<int64_t> tokens;
  std::vector<size_t> index;
  Tokens(query, &tokens, &index);
  if (tokens.empty()) {
    std::fill(scores.begin(), scores.end(), 0.0f);
    return;
  }
  std::vector<float> h(net_->dim);
  {
    torch::InferenceMode guard;
    const int64_t len = static_cast<int64_t>(tokens.size());
    torch::Tensor seq = torch::from_blob(tokens.data(), {1, len}, torch::kLong);
    torch::Tensor w;
    torch::Tensor out = net_->Encode(seq, &w).select(1, len - 1).contiguous();  // (1, d)
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + net_->dim, h.begin());
    // For Attention on the same history (the request's explanation).
    torch::Tensor row = w.select(0, 0).select(0, len - 1).contiguous();
    last_pass.generation = generation_;
    last_pass.tokens = tokens;
    last_pass.attention.assign(row.data_ptr<float>(), row.data_ptr<float>() + len);
  }
  const size_t d = h.size();
  for (uint32_t i = 0; i < num_items_; ++i) {
    const float* e = item_emb_.data() + static_cast<size_t>(i) * d;
    float s = 0;
    for (size_t x = 0; x < d; ++x) s += h[x] * e[x];
    scores[i] = s;
  }
  CalibrateScores(options_, scores.first(num_items_));
}

void CalibrateScores(const SeqOptions& options, std::span<float> logits) {
  if (!options.probability_scores || logits.empty()) return;
  const float top = *std::max_element(logits.begin(), logits.end());
  double t = options.score_temperature;
  if (options.relative_temperature) {
    double sum = 0, sq = 0;
    for (float s : logits) sum += s, sq += static_cast<double>(s) * s;
    const double n = static_cast<double>(logits.size());
    const double sd = std::sqrt(std::max(0.0, sq / n - (sum / n) * (sum / n)));
    if (sd > 0) t *= sd;
  }
  const float inv_t = static_cast<float>(1.0 / t);
  for (float& s : logits) s = std::exp((s - top) * inv_t);
}

std::vector<std::pair<size_t, float>> SeqRecommender::Attention(const models::UserQuery& query,
                                                                size_t k) const {
  std::vector<int64_t> tokens;
  std::vector<size_t> index;
  Tokens(query, &tokens, &index);
  std::vector<std::pair<size_t, float>> out;
  if (tokens.empty()) return out;
  const int64_t len = static_cast<int64_t>(tokens.size());
  if (last_pass.generation != generation_ || last_pass.tokens != tokens) {
    torch::InferenceMode guard;
    torch::Tensor seq = torch::from_blob(tokens.data(), {1, len}, torch::kLong);
    torch::Tensor w;
    net_->Encode(seq, &w);
    torch::Tensor row = w.select(0, 0).select(0, len - 1).contiguous();  // last query over keys
    last_pass.generation = generation_;
    last_pass.tokens = tokens;
    last_pass.attention.assign(row.data_ptr<float>(), row.data_ptr<float>() + len);
  }
  const float* p = last_pass.attention.data();
  for (int64_t t = 0; t < len; ++t) out.push_back({index[t], p[t]});
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.size() > k) out.resize(k);
  return out;
}

Status SeqRecommender::Save(models::ModelWriter& out) const {
  if (!net_) return Status::FailedPrecondition("seq: not fitted");
  out.Put<uint32_t>(1);  // format
  out.Put<uint32_t>(num_items_);
  out.Put<int32_t>(net_->dim);
  out.Put<int32_t>(static_cast<int32_t>(net_->layers.size()));
  out.Put<int32_t>(net_->heads);
  out.Put<int32_t>(net_->max_len);
  const auto params = net_->named_parameters();
  out.Put<uint64_t>(params.size());
  for (const auto& p : params) {
    torch::Tensor t = p.value().detach().contiguous();
    out.PutString(p.key());
    out.PutArray(t.data_ptr<float>(), static_cast<size_t>(t.numel()));
  }
  return Status::OK();
}

Status SeqRecommender::Load(models::ModelReader& in) {
  uint32_t format = 0, items = 0;
  int32_t dim = 0, blocks = 0, heads = 0, max_len = 0;
  uint64_t count = 0;
  if (!in.Get(&format) || !in.Expect(format == 1, "seq format") || !in.Get(&items) || !in.Get(&dim) ||
      !in.Get(&blocks) || !in.Get(&heads) || !in.Get(&max_len) ||
      !in.Expect(dim > 0 && dim <= 4096 && blocks > 0 && blocks <= 64 && heads > 0 && dim % heads == 0 &&
                     max_len > 0 && max_len <= 100000 &&
                     in.CanHold(static_cast<uint64_t>(items) * dim, sizeof(float)),
                 "seq shape") ||
      !in.Get(&count)) {
    return in.status();
  }
  auto net = std::make_shared<Net>(items, dim, blocks, heads, max_len, 0.0);
  auto params = net->named_parameters();
  if (!in.Expect(count == params.size(), "seq parameter count")) return in.status();
  torch::NoGradGuard no_grad;
  std::vector<float> buf;
  for (auto& p : params) {
    std::string name;
    if (!in.GetString(&name) || !in.Expect(name == p.key(), "seq parameter name") ||
        !in.GetVector(&buf, static_cast<uint64_t>(p.value().numel())) ||
        !in.Expect(buf.size() == static_cast<size_t>(p.value().numel()), "seq parameter size")) {
      return in.status();
    }
    p.value().copy_(torch::from_blob(buf.data(), p.value().sizes(), torch::kFloat));
  }
  net->eval();
  num_items_ = items;
  net_ = std::move(net);
  torch::Tensor e = net_->item->weight.slice(0, 1).contiguous();
  item_emb_.assign(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
  generation_ = next_generation++;
  last_loss_ = 0;
  return Status::OK();
}

}  // namespace recdb::seq
