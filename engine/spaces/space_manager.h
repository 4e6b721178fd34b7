// SpaceManager: embedding spaces -- named vector spaces whose vectors live in
// RocksDB (the source of truth) with one HNSW index per (space, entity kind)
// DERIVED from them (docs/DESIGN.md decisions 1 and 8; engine/spaces/README.md).
//
// Write path: a PutVectors/DeleteVectors call is validated whole, then
// committed as ONE WriteBatch holding the vector puts/deletes, one change-log
// entry per vector ("vector_log" CF) and the log sequence counter. Only after
// the commit is the in-memory index updated, under the space's write mutex,
// so the index applies changes in log order. The index then "covers" the
// batch's last log sequence.
//
// Checkpoints: Checkpoint() (on a schedule, and on Close) saves each index to
// DIR/derived/space-<id>-<kind>.hnsw (index/FORMAT.md: header with covered
// log sequence, CRC, temp file + fsync + rename), then deletes the space's
// log entries the checkpoints cover. Open loads a checkpoint and replays the
// log after it; a missing, damaged, mismatched or too-old checkpoint is
// rebuilt from the "vectors" CF instead. A deleted vector's bytes are zeroed
// in the index at once and leave RocksDB's files at the next checkpoint, which
// flushes and compacts the ranges that saw deletions.
//
// Thread-safety: every method is safe to call concurrently. Lock order:
// spaces_mu_ -> Space::maintenance_mu -> Space::write_mu -> sequence_mu_ ->
// Space::index_mu. Searches take only spaces_mu_ (shared, for the lookup) and
// index_mu (to copy the index pointer), so they never wait for a checkpoint or
// a background rebuild; an index swapped out finishes the searches in flight.
// REQUIRES: the DBImpl outlives this object; Close() runs before the Store
// closes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/embed/embeddings_client.h"
#include "recdb/embedding.h"
#include "recdb/options.h"
#include "recdb/status.h"

namespace recdb {

class DBImpl;
class ItemCatalog;

namespace index {
class HnswIndex;
}  // namespace index
namespace spaces {
struct Space;
}  // namespace spaces

struct SpaceManagerOptions {
  // Checkpoint every index this often (seconds); 0 = only on Checkpoint() and
  // Close(). Default: 300.
  int64_t checkpoint_interval_seconds = 300;
  // Rebuild an index in the background once removed nodes exceed this share
  // of its graph (removed nodes still cost memory and search hops).
  // Default: 0.2.
  double compaction_threshold = 0.2;
};

// What an embedding provider did.
struct EmbedReport {
  int64_t items = 0;          // items visited
  int64_t embedded = 0;       // vectors written
  int64_t skipped_empty = 0;  // items with no text in the chosen fields
};
// Called after each stored batch with (items done, items in total).
using EmbedProgressFn = std::function<void(int64_t done, int64_t total)>;

struct EndpointEmbedOptions {
  EmbeddingEndpoint endpoint;
  // Item fields joined into the text sent to the model, in this order:
  // "title", "description", "categories", "creator".
  std::vector<std::string> fields = {"title", "description"};
  size_t batch_size = 64;  // inputs per request, 1..2048
};

class SpaceManager {
 public:
  SpaceManager(DBImpl* db, const ItemCatalog* catalog, SpaceManagerOptions options = {});
  ~SpaceManager();
  SpaceManager(const SpaceManager&) = delete;
  SpaceManager& operator=(const SpaceManager&) = delete;

  // Loads every space definition and opens its indexes (checkpoint + log
  // catch-up, or rebuild), then schedules checkpoints unless read-only.
  // Errors: Corruption for an unreadable definition or counter; errors of
  // the vectors scan.
  Status Open();

  // Cancels the checkpoint job and checkpoints every index (unless
  // read-only). Later calls do nothing. Returns the first checkpoint error.
  Status Close();

  // As Close, but writes nothing: the state a crash leaves (for tests).
  void CloseWithoutCheckpoint();

  // Creates an empty space. Errors: InvalidArgument for a bad name,
  // dimension, or HNSW parameter (m 2..1024, ef_* 1..100000, model strings
  // over 256 bytes); AlreadyExists if the name is taken; FailedPrecondition
  // when read-only; IOError.
  Status CreateSpace(const SpaceOptions& options);

  // Removes the space, its vectors, change log, text model and index files.
  // Errors: NotFound; FailedPrecondition when read-only; IOError.
  Status DropSpace(const std::string& name);

  // Every space, by name.
  StatusOr<std::vector<SpaceInfo>> ListSpaces() const;
  // Errors: NotFound.
  StatusOr<SpaceInfo> DescribeSpace(const std::string& name) const;

  // Stores (inserts or replaces) vectors of items or users, atomically: either
  // all records are stored or none. A later record for the same id in one
  // batch wins. Errors (nothing stored): NotFound for an unknown space;
  // InvalidArgument naming the record (batch[i]) for an unknown item/user id,
  // a wrong dimension, a NaN/inf value, an all-zero vector in a cosine space,
  // or more than kMaxBatchSize records; FailedPrecondition when read-only;
  // IOError. Internal if the commit succeeded but the index update failed
  // (the vectors are stored; the index is rebuilt in the background).
  Status PutVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                    const std::vector<VectorRecord>& records);

  // The stored vector (as given, not normalised), read from RocksDB.
  // Errors: NotFound for an unknown space or id, or no vector; Corruption if
  // the stored value fails verification.
  StatusOr<std::vector<float>> GetVector(const std::string& space, EntityKind kind,
                                         const std::string& id) const;

  // Deletes the vectors of `ids`, atomically. Ids that have no vector in the
  // space (or are unknown) are skipped. Errors: NotFound for an unknown
  // space; FailedPrecondition when read-only; IOError.
  Status DeleteVectors(const WriteOptions& wo, const std::string& space, EntityKind kind,
                       const std::vector<std::string>& ids);

  // The k items whose vectors are most similar to `query` that pass
  // `filter`, best first (score: see Metric). Returns min(k, matching items
  // with a vector) results; approximate (HNSW), exact for small match sets.
  // Errors: NotFound for an unknown space; InvalidArgument for k outside
  // 1..10000, a wrong dimension or a non-finite query (or all-zero in a
  // cosine space).
  StatusOr<std::vector<ScoredItem>> SearchSimilar(const std::string& space,
                                                  std::span<const float> query, size_t k,
                                                  const ItemFilter& filter = {}) const;

  // As SearchSimilar with the item's own vector as the query; the item itself
  // is never returned. Errors: NotFound for an unknown space, unknown item or
  // an item with no vector in the space; as SearchSimilar.
  StatusOr<std::vector<ScoredItem>> SearchSimilarToItem(const std::string& space,
                                                        const std::string& item_id, size_t k,
                                                        const ItemFilter& filter = {}) const;

  // Saves every index whose covered log position moved since its last
  // checkpoint, truncates the covered change log, and flushes + compacts the
  // vector ranges that saw deletions. Errors: FailedPrecondition when
  // read-only; IOError. A space failing does not stop the others (the first
  // error is returned).
  Status Checkpoint();

  // While a CheckpointPause is alive no index file in DIR/derived/ is written
  // or removed: every space's checkpoint lock is held and CreateSpace /
  // DropSpace wait. Writes and searches continue. A snapshot captures RocksDB
  // and the index files under one (engine/snapshot/).
  class CheckpointPause {
   private:
    friend class SpaceManager;
    std::shared_lock<std::shared_mutex> spaces_lock_;
    std::vector<std::shared_ptr<spaces::Space>> spaces_;
    std::vector<std::unique_lock<std::mutex>> locks_;  // released first
  };
  CheckpointPause PauseCheckpoints();

  // --- Embedding providers (space_embedding.cc) ------------------------------

  // Fits the built-in TextEmbedder (engine/embed/text_embedder.h; dimension =
  // the space's, 8..4096) on every item's title, description and categories,
  // stores the fitted model (CF "vectors", key 00000000 'M' + space id) and
  // writes every item's vector. Items with no text are skipped. Errors:
  // NotFound; InvalidArgument for a dimension the embedder does not support;
  // as PutVectors.
  StatusOr<EmbedReport> EmbedItemsWithTextModel(const std::string& space,
                                                const EmbedProgressFn& progress = {});

  // Embeds every item's text through an OpenAI-compatible endpoint, in
  // batches, storing each batch as it arrives (so an interrupted run keeps
  // what it stored). Errors: NotFound; InvalidArgument for an unknown field,
  // a bad batch size, or a server vector of the wrong dimension; the client's
  // errors (IOError after retries, Corruption for a malformed response).
  StatusOr<EmbedReport> EmbedItemsWithEndpoint(const std::string& space,
                                               const EndpointEmbedOptions& options,
                                               const EmbedProgressFn& progress = {});

  // The built-in text model stored for `space`. NotFound if none.
  StatusOr<std::string> TextModelBytes(const std::string& space) const;

  // --- For tests and diagnostics --------------------------------------------
  struct Stats {
    uint64_t index_loads = 0;       // indexes opened from a checkpoint
    uint64_t index_rebuilds = 0;    // indexes built from the vectors CF
    uint64_t log_replayed = 0;      // change-log entries replayed at open
    uint64_t checkpoints = 0;       // index files written
    uint64_t compactions = 0;       // background rebuilds swapped in
  };
  Stats stats() const;
  // Why each rebuild at open happened ("space 1 item: ..."), oldest first.
  std::vector<std::string> rebuild_reasons() const;
  // Path of the checkpoint file of (space, kind).
  StatusOr<std::string> IndexPath(const std::string& space, EntityKind kind) const;
  // Runs the deleted-fraction check and, if needed, the rebuild now, on the
  // calling thread (the scheduler normally does it). Returns true if swapped.
  StatusOr<bool> CompactIfNeeded(const std::string& space, EntityKind kind);

 private:
  using SpacePtr = std::shared_ptr<spaces::Space>;

  StatusOr<SpacePtr> Find(const std::string& name) const;
  SpaceInfo Info(const spaces::Space& s) const;
  std::string FilePath(uint32_t space_id, EntityKind kind) const;
  Status CheckWritable() const;

  // Open helpers.
  Status OpenSpace(const SpacePtr& s, uint64_t last_sequence);
  // Builds (s, kind)'s index from the vectors CF as of one snapshot, with its
  // covered sequence set to the log position of that snapshot.
  StatusOr<std::shared_ptr<index::HnswIndex>> BuildFromStore(const spaces::Space& s,
                                                             EntityKind kind) const;
  // Replays the log entries of (s, kind) after `after` into `idx`, reading
  // each touched id's current vector. Returns the number replayed.
  StatusOr<uint64_t> ReplayLog(const spaces::Space& s, EntityKind kind, index::HnswIndex* idx,
                               uint64_t after) const;

  // Write path: one batch of changes (values == nullptr: delete).
  struct Change {
    uint32_t iid;
    const std::vector<float>* values;
  };
  Status Commit(const WriteOptions& wo, const SpacePtr& s, EntityKind kind,
                const std::vector<Change>& changes);

  Status CheckpointSpace(spaces::Space& s);
  // Checkpoints every space; the first failure, naming its space, after
  // trying them all.
  Status CheckpointAllSpaces();
  Status RebuildInBackground(const SpacePtr& s, EntityKind kind);
  void MaybeScheduleCompaction(const SpacePtr& s, EntityKind kind);

  StatusOr<std::vector<ScoredItem>> Search(const spaces::Space& s, std::span<const float> query,
                                           size_t k, const ItemFilter& filter,
                                           const uint32_t* exclude_iid) const;

  DBImpl* const db_;
  const ItemCatalog* const catalog_;
  const SpaceManagerOptions options_;

  mutable std::shared_mutex spaces_mu_;
  std::map<std::string, SpacePtr> spaces_;  // GUARDED_BY(spaces_mu_)
  uint64_t next_space_id_ = 1;              // GUARDED_BY(spaces_mu_) exclusive

  // Allocation + commit of log sequences, across spaces, so the persisted
  // counter only ever grows.
  std::mutex sequence_mu_;
  uint64_t next_sequence_ = 1;  // GUARDED_BY(sequence_mu_)

  uint64_t checkpoint_job_ = 0;
  std::atomic<bool> closed_{false};

  mutable std::mutex stats_mu_;
  Stats stats_;                                // GUARDED_BY(stats_mu_)
  mutable std::vector<std::string> rebuild_reasons_;  // GUARDED_BY(stats_mu_)
};

}  // namespace recdb
