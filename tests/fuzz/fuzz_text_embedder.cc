// Fuzzes TextEmbedder::Load (a model read back from RocksDB); a model that
// loads must embed text and serialise back to bytes that load again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/embed/text_embedder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto model = recdb::TextEmbedder::Load(bytes);
  if (!model.ok()) return 0;
  auto v = model->Embed("Toy Story (1995) Animation|Children's|Comedy");
  if (static_cast<int>(v.size()) != model->dim()) std::abort();
  if (!recdb::TextEmbedder::Load(model->Serialize()).ok()) std::abort();
  return 0;
}
