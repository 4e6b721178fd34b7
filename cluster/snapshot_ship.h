// Shipping recdb snapshots through JetStream (issue #21 items 4 and 6).
//
// A published snapshot is a snapshot directory of DB::CreateSnapshot (recdb's
// own format; it holds the node's applied position, committed with its data)
// cut into chunks below the server's 1 MiB max payload:
//   - stream "<stream>-snap-<id>" (the event stream's replica count, file
//     storage), subject "<stream>.snap.<id>", one message per chunk: a text
//     header line "recdb-chunk v1 file=F offset=O length=L\n" and L bytes of
//     file F of the manifest;
//   - then, only once JetStream acknowledged every chunk and the stream
//     holds exactly that many messages, a manifest under key <id> in the KV
//     bucket "<stream>-snapshots" (FormatShippedManifest). The manifest is the
//     commit point: a snapshot without one is never fetched.
// One stream per snapshot, not one shared stream: retiring a snapshot deletes
// its stream, which removes its store and its Raft log on every server at
// once; nats-server 2.9.10's subject purge only marks messages deleted, and
// js_EraseMsg per chunk leaves the stream's Raft log holding the chunks until
// it compacts.
//
// Not in the apply path: nothing here changes what a node applies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/event_log.h"
#include "recdb/status.h"

namespace recdb::cluster {

struct ShipOptions {
  // Bytes of file data per chunk message. Must stay below the server's
  // max_payload (1 MiB by default) with the header line. Default 512 KiB.
  size_t chunk_bytes = 512 << 10;
  // Published snapshots kept after a publish, per set of partitions held
  // (the newest by position, then id); older ones, and those of an earlier
  // stream of the same name, are retired. >= 1. Default 2.
  int keep = 2;
  // Bound on one fetch's wait for chunks (whole fetch). Default 5 min.
  int fetch_timeout_ms = 300000;
};

// What the KV manifest says about one published snapshot.
struct ShippedFile {
  std::string name;  // path relative to the snapshot directory ("db/000012.sst")
  uint64_t size = 0;
  uint32_t crc32c = 0;
  uint64_t chunks = 0;
};
struct ShippedManifest {
  std::string id;             // "p<position>-<unix micros>"
  std::string snapshot_name;  // the snapshot directory's name ("snapshot-000003")
  uint64_t position = 0;      // the applied stream sequence the snapshot holds
  int64_t created_ns = 0;     // the event stream's creation time
  uint32_t partitions = 0;    // the event stream's partition count
  std::vector<uint32_t> owned;  // partitions the snapshot holds
  uint64_t chunk_bytes = 0;
  uint64_t chunks = 0;  // messages in the snapshot's stream
  uint64_t bytes = 0;   // sum of the files' sizes
  std::vector<ShippedFile> files;
};

// Text form (one "key value" line each, then one "file NAME SIZE CRC CHUNKS"
// line per file). Parse errors: Corruption.
std::string FormatShippedManifest(const ShippedManifest& m);
Status ParseShippedManifest(const std::string& text, ShippedManifest* out);

// CRC-32C (Castagnoli) of `n` bytes, continuing `crc` (0 to start).
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);
// The size and CRC-32C of the file at `path`. Errors: IOError.
Status FileCrc(const std::string& path, uint64_t* size, uint32_t* crc);

// "<stream>-snap-<id>" and "<stream>.snap.<id>".
std::string SnapshotStreamName(const std::string& stream, const std::string& id);
std::string SnapshotSubject(const std::string& stream, const std::string& id);

// Publishes the snapshot directory `snapshot_dir` (made by DB::CreateSnapshot
// of a node of `identity`'s stream; `owned`: the partitions it holds, empty =
// all), then retires the published snapshots beyond options.keep.
// The position is read from the snapshot itself.
// Errors: InvalidArgument (chunk size >= 1 MiB, keep < 1); NotFound if the
// snapshot holds no position of this stream; FailedPrecondition if it holds
// another stream's (recreated, other partition count); Aborted when
// JetStream does not store every chunk (nothing is committed: no manifest);
// IOError.
StatusOr<ShippedManifest> PublishSnapshotDir(EventLog* log, const StreamIdentity& identity,
                                             const std::string& snapshot_dir,
                                             const std::vector<uint32_t>& owned,
                                             const ShipOptions& options = {});

// Every committed manifest of this log's stream, newest first (position,
// then id). A manifest that does not parse is skipped. Errors: Aborted.
StatusOr<std::vector<ShippedManifest>> ListShippedSnapshots(EventLog* log);

// Fetches `m`'s chunks with an ordered consumer into `dest` (created; a
// snapshot directory DB::Restore accepts) and checks every file's size and
// CRC-32C against the manifest.
// Errors: NotFound if its stream is gone (retired); Corruption for a
// missing, extra, malformed or damaged chunk or a file whose size or
// checksum differs (dest is then removed); Aborted on a timeout or a
// consumer failure; IOError.
Status FetchShippedSnapshot(EventLog* log, const ShippedManifest& m, const std::string& dest,
                            const ShipOptions& options = {});

// Retires one published snapshot: its manifest first (no new fetch picks
// it), then its stream (chunks gone from every server's store). Errors:
// Aborted.
Status RetireShippedSnapshot(EventLog* log, const ShippedManifest& m);

// Retires every published snapshot whose position is before `sequence` and
// that holds `partition` (-1: any). Returns how many. Errors: Aborted.
StatusOr<int> RetireShippedSnapshotsBefore(EventLog* log, uint64_t sequence, int64_t partition);

// --- The shipping rules every artifact shares (snapshots above, trained
// models in trainer.h): one stream per artifact, chunks with a header line,
// CRC-32C per file, the manifest in KV as the commit point ----------------

// chunk_bytes must leave room for the header below the 1 MiB max payload.
// Errors: InvalidArgument.
Status CheckChunkBytes(size_t chunk_bytes);
// A manifest's "file NAME SIZE CRC CHUNKS\n" line; Parse takes the text
// after "file " (false when malformed).
std::string FormatShippedFile(const ShippedFile& f);
bool ParseShippedFile(const std::string& text, ShippedFile* out);
// The regular files under `dir` (paths relative to it, sorted), each with
// its size, CRC-32C and chunk count. Errors: InvalidArgument for a name
// with white space; IOError.
Status DescribeArtifactFiles(const std::string& dir, uint64_t chunk_bytes,
                             std::vector<ShippedFile>* files);
// Creates artifact stream `stream_name` (single subject `subject`) and
// publishes `files` of `dir` in chunks with message ids "<id>/<k>" (three
// rounds at most, re-sending the same ids); OK only once the stream holds
// exactly every chunk. On failure the stream is deleted. Errors: Aborted;
// IOError (a file changed while publishing).
Status ShipArtifactFiles(EventLog* log, const std::string& stream_name,
                         const std::string& subject, const std::string& id,
                         const std::string& dir, const std::vector<ShippedFile>& files,
                         uint64_t chunk_bytes, int replicas);
// Fetches the chunks of `files` from stream `stream_name` into `dest`
// (created) with an ordered consumer, checks each chunk's header against
// the files and then every file's size and CRC-32C. `what` names the
// artifact in messages. Errors: NotFound if the stream is gone (retired);
// Corruption for a missing, extra, malformed or damaged chunk (dest is then
// removed); Aborted on a timeout or a consumer failure; IOError.
Status FetchArtifactFiles(EventLog* log, const std::string& what, const std::string& stream_name,
                          const std::string& subject, const std::vector<ShippedFile>& files,
                          uint64_t chunk_bytes, const std::string& dest, int timeout_ms);

}  // namespace recdb::cluster
