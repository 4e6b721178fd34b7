#include "engine/embed/text_embedder.h"

#include <gtest/gtest.h>

#include <cmath>

namespace recdb {
namespace {

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

std::vector<std::string> Corpus() {
  return {"Toy Story (1995) Animation Children's Comedy",
          "Toy Story 2 (1999) Animation Children's Comedy",
          "GoldenEye (1995) Action Adventure Thriller",
          "Heat (1995) Action Crime Thriller",
          "Sense and Sensibility (1995) Drama Romance",
          "Four Weddings and a Funeral (1994) Comedy Romance"};
}

TEST(TextEmbedderTest, EmbeddingsAreUnitLengthAndDeterministic) {
  TextEmbedder e(64);
  e.Fit(Corpus());
  auto v = e.Embed("Toy Story");
  ASSERT_EQ(v.size(), 64u);
  EXPECT_NEAR(Dot(v, v), 1.0f, 1e-5);
  EXPECT_EQ(v, e.Embed("Toy Story"));
  auto zero = e.Embed("  ,;  ");
  EXPECT_EQ(Dot(zero, zero), 0.0f);
}

TEST(TextEmbedderTest, SharedWordsMeanCloserVectors) {
  TextEmbedder e(128);
  auto corpus = Corpus();
  e.Fit(corpus);
  auto toy1 = e.Embed(corpus[0]);
  auto toy2 = e.Embed(corpus[1]);
  auto heat = e.Embed(corpus[3]);
  auto golden = e.Embed(corpus[2]);
  EXPECT_GT(Dot(toy1, toy2), Dot(toy1, heat) + 0.3f);
  EXPECT_GT(Dot(heat, golden), Dot(heat, toy1));
  // Character trigrams make a misspelling still close.
  EXPECT_GT(Dot(e.Embed("thriller"), e.Embed("thriler")), 0.5f);
}

TEST(TextEmbedderTest, SerializeRoundTrips) {
  TextEmbedder e(32);
  e.Fit(Corpus());
  auto loaded = TextEmbedder::Load(e.Serialize());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->dim(), 32);
  EXPECT_EQ(loaded->Embed("Heat crime"), e.Embed("Heat crime"));
}

TEST(TextEmbedderTest, LoadRejectsDamagedBytes) {
  TextEmbedder e(32);
  e.Fit(Corpus());
  std::string bytes = e.Serialize();
  EXPECT_TRUE(TextEmbedder::Load(bytes.substr(0, bytes.size() - 3)).status().IsCorruption());
  EXPECT_TRUE(TextEmbedder::Load("").status().IsCorruption());
  std::string bad = bytes;
  bad[0] ^= 1;
  EXPECT_TRUE(TextEmbedder::Load(bad).status().IsCorruption());
}

}  // namespace
}  // namespace recdb
