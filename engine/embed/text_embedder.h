// TextEmbedder: a built-in text embedding model that needs no model files.
//
// Features are lower-cased words, word bigrams and character trigrams of each
// word (with word-boundary marks), hashed into 2^18 buckets. A feature's
// weight is sublinear TF (1 + log tf) times the bucket's IDF, fitted on a
// corpus (the item catalogue). The weighted features are projected to `dim`
// dimensions by a fixed sparse random projection (each bucket adds +-1 to
// four hashed coordinates), then L2-normalised. The projection is a pure
// function of the bucket, so the model is just the IDF table.
//
// It is a bag-of-n-grams model: it captures shared words and spelling, not
// meaning. Use an external model through the embeddings endpoint for
// semantics; this one makes the demo and MovieLens titles/genres work offline.
//
// Thread-safety: const methods are safe for concurrent use after Fit/Load.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/status.h"

namespace recdb {

class TextEmbedder {
 public:
  static constexpr uint32_t kBuckets = 1u << 18;

  // REQUIRES: 8 <= dim <= 4096.
  explicit TextEmbedder(int dim = 128);

  int dim() const { return dim_; }

  // Fits the IDF table on `corpus` (one document per entry). Replaces any
  // previous fit. An empty corpus leaves every IDF at 1.
  void Fit(const std::vector<std::string>& corpus);

  // The L2-normalised embedding of `text`; all zeros if it has no features.
  std::vector<float> Embed(std::string_view text) const;

  // Serialised model: magic, version, dim, documents, then the non-default
  // IDF entries. Load returns Corruption for bytes Serialize did not produce.
  std::string Serialize() const;
  static StatusOr<TextEmbedder> Load(std::string_view bytes);

 private:
  // Calls fn(bucket, count) once per distinct hashed feature of `text`.
  template <typename Fn>
  static void ForEachFeature(std::string_view text, Fn&& fn);

  int dim_;
  uint64_t documents_ = 0;
  std::vector<float> idf_;  // kBuckets entries
};

}  // namespace recdb
