// SnapshotManifest: the list of files that make up one snapshot, and the
// text format it is stored in (DIR/snapshot.manifest; storage/FORMAT.md,
// section "Snapshots and backups").
//
// The manifest names every file of the snapshot with its size and CRC-32C,
// the RocksDB sequence number the snapshot covers, the recdb on-disk format
// version, the creation time and the RocksDB identity of the source. Its own
// last line is the CRC-32C of every byte before it, so a damaged manifest is
// detected before any file is trusted. A snapshot directory without a
// manifest is partial (the manifest is written last).
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/status.h"

namespace recdb::storage {

// The manifest's file name inside a snapshot directory.
inline constexpr std::string_view kSnapshotManifestName = "snapshot.manifest";
// First line of every manifest this recdb writes; the number is the version
// of the manifest format (not of the database format).
inline constexpr std::string_view kSnapshotManifestMagic = "recdb-snapshot-manifest";
inline constexpr uint64_t kSnapshotManifestVersion = 1;

struct ManifestFile {
  std::string path;  // relative to the snapshot directory, '/'-separated
  uint64_t size = 0;
  uint32_t crc32c = 0;
};

struct SnapshotManifest {
  uint64_t format_version = 0;       // recdb on-disk format (meta "format_version")
  uint64_t sequence = 0;             // RocksDB sequence number covered (see FORMAT.md)
  int64_t created_unix_micros = 0;   // wall clock at creation
  std::string db_id;                 // RocksDB identity of the source database
  std::vector<ManifestFile> files;   // sorted by path, unique

  uint64_t TotalBytes() const;
};

// The manifest as text, ending with its checksum line.
std::string SerializeManifest(const SnapshotManifest& manifest);

// Parses and checks `text`. Errors: Corruption naming the first problem (bad
// magic or version, checksum mismatch, malformed or missing field, unsafe
// or duplicate path). Never crashes on any input (fuzzed:
// tests/fuzz/fuzz_snapshot_manifest.cc).
Status ParseManifest(std::string_view text, SnapshotManifest* out);

// A relative path that stays inside the snapshot: non-empty, no leading
// '/', no "." or ".." component, no empty component, no control byte.
bool IsSafeRelativePath(std::string_view path);

}  // namespace recdb::storage
