// Fuzzes the index checkpoint loader. Byte 0 picks the mode:
//   even: the rest is a whole file for ReadIndexFile (header, checksums, sizes);
//   odd:  the rest is an HNSW payload wrapped in a VALID header and checksum
//         (as a bug or a malicious writer could produce), for HnswIndex::Load,
//         which must verify the graph before hnswlib sees it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include "fuzz_util.h"
#include "index/hnsw_index.h"
#include "index/index_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recdb;
  using namespace recdb::index;
  if (size < 1) return 0;
  const std::string& path = recdb::fuzz::ScratchPath("index");
  const uint32_t dim = 4;
  if (data[0] % 2 == 0) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data + 1, 1, size - 1, f);
    std::fclose(f);
    ReadIndexFile(Env::Default(), path, IndexKind::kHnsw, dim, Metric::kL2)
        .status()
        .IgnoreError();
    auto loaded = HnswIndex::Load(path, dim, Metric::kL2);
    (void)loaded;
    return 0;
  }
  // Header fields from the first bytes, the payload from the rest.
  size_t pos = 1;
  auto take = [&](uint64_t* v, size_t n) {
    *v = 0;
    for (size_t i = 0; i < n && pos < size; ++i) *v |= uint64_t{data[pos++]} << (8 * i);
  };
  IndexFileHeader h;
  h.kind = IndexKind::kHnsw;
  h.dimension = dim;
  h.metric = Metric::kL2;
  take(&h.m, 1);
  take(&h.ef_construction, 1);
  take(&h.element_count, 2);
  take(&h.live_count, 2);
  take(&h.covered_sequence, 1);
  auto writer = IndexFileWriter::Create(Env::Default(), path);
  if (!writer.ok()) return 0;
  if (!(*writer)->Append(data + pos, size - pos).ok()) return 0;
  if (!(*writer)->Finish(h).ok()) return 0;
  auto loaded = HnswIndex::Load(path, dim, Metric::kL2);
  if (loaded.ok()) {
    // A graph that loads must be searchable.
    const float q[dim] = {0.5f, -0.5f, 0.25f, 1.0f};
    (void)(*loaded)->Search(std::span<const float>(q, dim), 5);
  }
  return 0;
}
