#include "engine/embed/text_embedder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "recdb/splitmix64.h"

namespace recdb {
namespace {

constexpr uint32_t kMagic = 0x52445445;  // "ETDR"
constexpr uint32_t kVersion = 1;

uint64_t Fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void AppendU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<char*>(&v), 4); }
void AppendU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<char*>(&v), 8); }

}  // namespace

TextEmbedder::TextEmbedder(int dim) : dim_(std::clamp(dim, 8, 4096)), idf_(kBuckets, 1.0f) {}

template <typename Fn>
void TextEmbedder::ForEachFeature(std::string_view text, Fn&& fn) {
  // Words: runs of ASCII alphanumerics or any non-ASCII byte (keeps UTF-8
  // letters together), lower-cased.
  std::vector<std::string> words;
  std::string cur;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      cur.push_back(static_cast<char>(std::tolower(c)));
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));

  std::unordered_map<uint32_t, uint32_t> counts;
  auto add = [&](std::string_view feature, uint64_t seed) {
    counts[static_cast<uint32_t>(Fnv1a(feature, seed) % kBuckets)]++;
  };
  for (size_t i = 0; i < words.size(); ++i) {
    add(words[i], 1);
    if (i + 1 < words.size()) add(words[i] + " " + words[i + 1], 2);
    std::string marked = "<" + words[i] + ">";
    for (size_t j = 0; j + 3 <= marked.size(); ++j) add(std::string_view(marked).substr(j, 3), 3);
  }
  for (const auto& [bucket, count] : counts) fn(bucket, count);
}

void TextEmbedder::Fit(const std::vector<std::string>& corpus) {
  std::vector<uint32_t> df(kBuckets, 0);
  for (const auto& doc : corpus) {
    ForEachFeature(doc, [&](uint32_t bucket, uint32_t) { df[bucket]++; });
  }
  documents_ = corpus.size();
  for (uint32_t b = 0; b < kBuckets; ++b) {
    // Smoothed IDF, as in scikit-learn: log((1 + n) / (1 + df)) + 1.
    idf_[b] = documents_ == 0 ? 1.0f
                              : static_cast<float>(std::log((1.0 + documents_) / (1.0 + df[b])) + 1.0);
  }
}

std::vector<float> TextEmbedder::Embed(std::string_view text) const {
  std::vector<float> v(dim_, 0.0f);
  ForEachFeature(text, [&](uint32_t bucket, uint32_t count) {
    float w = (1.0f + std::log(static_cast<float>(count))) * idf_[bucket];
    uint64_t h = SplitMix64(bucket);  // a bucket id spread into independent-looking bits
    for (int k = 0; k < 4; ++k) {
      uint32_t coord = static_cast<uint32_t>((h >> (k * 16)) & 0xFFFF) % dim_;
      float sign = ((SplitMix64(h + k) >> 63) != 0) ? -1.0f : 1.0f;
      v[coord] += sign * w;
    }
  });
  double norm = 0;
  for (float x : v) norm += double(x) * x;
  if (norm > 0) {
    float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= inv;
  }
  return v;
}

std::string TextEmbedder::Serialize() const {
  std::string out;
  AppendU32(&out, kMagic);
  AppendU32(&out, kVersion);
  AppendU32(&out, static_cast<uint32_t>(dim_));
  AppendU64(&out, documents_);
  const float default_idf =
      documents_ == 0 ? 1.0f : static_cast<float>(std::log((1.0 + documents_) / 1.0) + 1.0);
  uint32_t n = 0;
  std::string entries;
  for (uint32_t b = 0; b < kBuckets; ++b) {
    if (idf_[b] == default_idf) continue;
    AppendU32(&entries, b);
    entries.append(reinterpret_cast<const char*>(&idf_[b]), 4);
    ++n;
  }
  AppendU32(&out, n);
  out += entries;
  return out;
}

StatusOr<TextEmbedder> TextEmbedder::Load(std::string_view bytes) {
  auto read = [&](size_t off, void* dst, size_t n) {
    if (off + n > bytes.size()) return false;
    std::memcpy(dst, bytes.data() + off, n);
    return true;
  };
  uint32_t magic = 0, version = 0, dim = 0, n = 0;
  uint64_t docs = 0;
  if (!read(0, &magic, 4) || !read(4, &version, 4) || !read(8, &dim, 4) || !read(12, &docs, 8) ||
      !read(20, &n, 4)) {
    return Status::Corruption("text embedder model: truncated header");
  }
  if (magic != kMagic) return Status::Corruption("text embedder model: bad magic");
  if (version != kVersion) return Status::Corruption("text embedder model: unknown version");
  if (dim < 8 || dim > 4096) return Status::Corruption("text embedder model: bad dimension");
  if (bytes.size() != 24 + size_t(n) * 8) return Status::Corruption("text embedder model: bad size");
  TextEmbedder e(static_cast<int>(dim));
  e.documents_ = docs;
  const float default_idf =
      docs == 0 ? 1.0f : static_cast<float>(std::log((1.0 + docs) / 1.0) + 1.0);
  std::fill(e.idf_.begin(), e.idf_.end(), default_idf);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t b = 0;
    float idf = 0;
    read(24 + size_t(i) * 8, &b, 4);
    read(28 + size_t(i) * 8, &idf, 4);
    if (b >= kBuckets || !std::isfinite(idf)) {
      return Status::Corruption("text embedder model: bad entry");
    }
    e.idf_[b] = idf;
  }
  return e;
}

}  // namespace recdb
