// Fuzzes the snapshot manifest parser (storage/snapshot_manifest.h). Mode
// byte 0: the input as it is on disk (almost always a checksum failure).
// Mode byte 1: the input is the body and the harness appends its correct
// checksum line, so the field parser sees every mutation. Either way:
// Corruption or a manifest, never a crash; a parsed manifest re-serializes
// to text that parses to the same files.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/crc32c.h"
#include "storage/snapshot_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recdb;
  using namespace recdb::storage;
  if (size < 1) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    char crc[16];
    std::snprintf(crc, sizeof(crc), "%08x", Crc32c(text));
    text += std::string("manifest_crc32c ") + crc + "\n";
  }
  SnapshotManifest m;
  if (!ParseManifest(text, &m).ok()) return 0;
  for (const ManifestFile& f : m.files) {
    if (!IsSafeRelativePath(f.path)) std::abort();
  }
  SnapshotManifest again;
  if (!ParseManifest(SerializeManifest(m), &again).ok()) std::abort();
  if (again.files.size() != m.files.size() || again.sequence != m.sequence ||
      again.db_id != m.db_id) {
    std::abort();
  }
  for (size_t i = 0; i < m.files.size(); ++i) {
    if (again.files[i].path != m.files[i].path || again.files[i].size != m.files[i].size ||
        again.files[i].crc32c != m.files[i].crc32c) {
      std::abort();
    }
  }
  return 0;
}
