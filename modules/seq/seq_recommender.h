// SeqRecommender: a self-attentive sequence model (SASRec, Kang & McAuley
// 2018) as a blend component, trained in-process with libtorch.
//
// Model: item embeddings (scaled by sqrt(dim)) + learned positional
// embeddings, `blocks` pre-norm causal self-attention blocks (LayerNorm ->
// multi-head attention -> dropout -> residual; LayerNorm -> ReLU FFN ->
// dropout -> residual), a final LayerNorm. The score of item i for a history
// is dot(h, e_i), h the last position's hidden state and e_i the item's
// embedding. Training: every window of max_len + 1 events of each user's
// history (or only the newest: SeqOptions::all_windows); at every position
// the next item is the positive, softmax cross-entropy over every item (or
// BCE or gSASRec's gBCE against `negatives` sampled items), Adam.
//
// Real time: Score encodes the query's history (the newest max_len items,
// events after the fit included) in one forward pass; the user id is not
// used. Items the model has not seen (id >= num_items()) are skipped.
//
// Reproducible: Fit seeds torch and its own sampler with `seed` and runs
// with `threads` intra-op threads; the same data and options give the same
// weights. Fits in one process are serialised (torch's generator is global).
//
// This header includes no torch header: only seq_recommender.cc does.
//
// Thread-safety: see Recommender (Score may run concurrently after Fit).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/models/recommender.h"

namespace recdb::seq {

struct SeqOptions {
  int dim = 64;            // embedding and hidden size. Default: 64
  int blocks = 2;          // self-attention blocks. Default: 2
  int heads = 1;           // attention heads (dim % heads == 0). Default: 1
  int max_len = 50;        // positions (newest events used). Default: 50
  double dropout = 0.3;    // Default: 0.3
  // Passes over the training sequences. Default: 20 (with all_windows and
  // lr 0.01: validation NDCG@10 0.223 in a third of the time 40 epochs at
  // lr 0.005 took for 0.231, which overran the 120 s bar; README.md)
  int epochs = 20;
  int batch_size = 32;     // users per step. Default: 32
  double learning_rate = 1e-2;  // Adam. Default: 0.01
  double weight_decay = 0;      // Adam's L2. Default: 0
  // Sampled negatives per position (kSampledBce, kGbce: items the user never
  // had, drawn uniformly). Default: 1
  int negatives = 1;
  // The next-item objective: binary cross-entropy against `negatives`
  // sampled items, softmax cross-entropy over every item (SASRec-CE,
  // logits at the non-padded positions only), or gSASRec's generalised BCE
  // (Petrov & Macdonald 2023: BCE against `negatives` sampled items with
  // the positive's log-sigmoid weighted by beta, GbceBeta below, so the
  // sampled model's sigmoid is calibrated to the full distribution at
  // gbce_t = 1). Default: kSoftmax (README.md, "Tuning": it doubled
  // validation NDCG@10 at a fifth of the steps)
  enum class Loss { kSampledBce, kSoftmax, kGbce };
  Loss loss = Loss::kSoftmax;
  // gBCE's calibration t in [0, 1]: 0 is plain BCE (beta 1), 1 full
  // calibration (beta = alpha). Default: 0.75 (the gSASRec paper's)
  double gbce_t = 0.75;
  // Training sequences per user: only the newest max_len + 1 events
  // (false, SASRec's rule), or every window of max_len + 1 events, newest
  // first, stepping by max_len so each transition is trained once (true:
  // more data for users with long histories: 485 of ml-100k's 943 users
  // have more than 51 train events). Default: true (README.md, "Tuning":
  // validation NDCG@10 0.207 -> 0.231 at 40 epochs, twice the fit time)
  bool all_windows = true;
  // Learning rate over the epochs: constant (false) or cosine-decayed from
  // learning_rate to 0 at the last epoch (true). Default: false
  bool cosine_lr = false;
  // Early stopping: the newest 20% of the events of this fraction of the
  // users (evenly spaced by id, users with >= 5 events: the evaluation's
  // rule) are held out of training; after every epoch the model ranks them
  // (mean NDCG@10 among the items each user has not had), the best epoch's
  // weights are kept, and
  // training stops after `patience` epochs without a gain, so `epochs` is
  // the most it runs. 0: off, every epoch on all the data. Default: 0
  double early_stop_fraction = 0;
  int patience = 3;        // epochs without a gain before stopping. Default: 3
  // Score returns exp(logit - max logit), the softmax's shape, instead of
  // the logits: the same ranking alone, but the blend's per-user
  // z-normalisation then spreads the few items the model is sure of far
  // above the rest. Not stored: the options the component is made with
  // decide. Default: true (README.md, "Tuning": the blend with seq on
  // validation NDCG@10 0.2606 at temperature 1 against 0.2573 with the
  // logits)
  bool probability_scores = true;
  // With probability_scores: exp((logit - max) / score_temperature).
  // Default: 2.5 (the blend with seq on validation NDCG@10 0.2634, against
  // 0.2626 at 2, 0.2618 at 3, 0.2606 at 1 and 0.2551 at 0.5; README.md
  // "Tuning", fourth session)
  double score_temperature = 2.5;
  // With probability_scores: the temperature is score_temperature times the
  // standard deviation of the query's logits, so every user's scores get the
  // same shape however spread the model's logits are for them. Default: false
  bool relative_temperature = false;
  uint64_t seed = 42;      // Default: 42
  // torch intra-op threads while fitting. Default: 1: the model is too small
  // to gain from more, and OpenMP's spinning pool took 80% of the fit's CPU
  // on 2 loaded cores (perf, README.md "Tuning").
  int threads = 1;
};

class SeqRecommender final : public models::Recommender {
 public:
  explicit SeqRecommender(SeqOptions options = {});
  ~SeqRecommender() override;

  std::string_view Name() const override { return "seq"; }
  // InvalidArgument for unusable options.
  Status Fit(const models::Dataset& data) override;
  uint32_t num_items() const override { return num_items_; }
  void Score(const models::UserQuery& query, std::span<float> scores) const override;
  Status Save(models::ModelWriter& out) const override;
  Status Load(models::ModelReader& in) override;

  // What the last position attended to in the last block (mean over
  // heads): (index into query.items, weight), heaviest first, at most k.
  // Empty when no history item is known to the model. Right after Score on
  // the same history (on the same thread) it reuses Score's forward pass.
  std::vector<std::pair<size_t, float>> Attention(const models::UserQuery& query, size_t k) const;
  // The explanation's evidence: Attention.
  std::vector<std::pair<size_t, float>> HistoryEvidence(const models::UserQuery& query,
                                                        size_t k) const override {
    return Attention(query, k);
  }

  // Mean training loss of the last epoch of the last Fit (0 after Load).
  double last_loss() const { return last_loss_; }
  // With early stopping, the held-out NDCG@10 after each epoch of the last
  // Fit, and the (1-based) epoch whose weights were kept; empty and 0
  // without it.
  const std::vector<double>& epoch_ndcg() const { return epoch_ndcg_; }
  int best_epoch() const { return best_epoch_; }
  const SeqOptions& options() const { return options_; }

 private:
  struct Net;
  // The history as model tokens (item + 1), newest max_len, with their
  // indices into query.items.
  void Tokens(const models::UserQuery& query, std::vector<int64_t>* tokens,
              std::vector<size_t>* index) const;

  SeqOptions options_;
  uint32_t num_items_ = 0;
  std::shared_ptr<Net> net_;
  std::vector<float> item_emb_;  // num_items x dim, for scoring
  double last_loss_ = 0;
  std::vector<double> epoch_ndcg_;
  int best_epoch_ = 0;
  // Which fit the weights are (new at every Fit and Load): the key of the
  // thread's last forward pass, which Attention reuses after Score on the
  // same history (one pass per request instead of two).
  uint64_t generation_ = 0;
};

// What Score does to the logits of one query (all num_items of them), in
// place: with options.probability_scores, exp((logit - max) / T), T =
// options.score_temperature (times the logits' standard deviation with
// options.relative_temperature); otherwise nothing. One home for the variant
// study (recdb-seq-sweep), which scores a fitted model at several settings.
void CalibrateScores(const SeqOptions& options, std::span<float> logits);

// gSASRec's beta: alpha * (t * (1 - 1 / alpha) + 1 / alpha) with alpha =
// negatives / (num_items - 1), the sampling rate of a negative.
double GbceBeta(int negatives, uint32_t num_items, double t);
// The gBCE loss Fit minimises, through the same torch code, for tests: the
// mean over positions p of -beta log sigmoid(pos[p]) - sum_j log(1 -
// sigmoid(neg[p * negatives + j])) (= BCE of the positive logit transformed
// to log(1 / (sigmoid(s)^-beta - 1)), the paper's form).
double GbceLoss(std::span<const float> pos_logits, std::span<const float> neg_logits, int negatives,
                double beta);

// Registers "seq" with the blend (engine/models/component_registry.h), with
// `base` options and the blend's thread count. Called by the plugin's
// static initializer (plugin_init.cc, defaults) or by a binary that links
// the module.
void RegisterSeqComponent(const SeqOptions& base = {});

}  // namespace recdb::seq
