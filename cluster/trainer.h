// The cluster's trainer (issue #21 item 5): item-side models (co-occurrence,
// EASE, iALS item factors, popularity) are global, so ONE node trains them
// and every serving node installs the result.
//
//   - Election: a lease in the KV bucket "<stream>-trainer" (key "lock",
//     the bucket's TTL = the lease). TrainerLock::Acquire creates the key
//     (kvStore_Create: fails while another candidate's key lives) or, when
//     this candidate holds it, renews it (kvStore_Update with the revision
//     it last wrote: fails if someone else wrote since). A holder that stops
//     renewing loses the key after the TTL and another candidate's Acquire
//     then succeeds.
//   - Publish: the holder, a ClusterNode owning every partition, trains its
//     database (DB::Train) and ships DIR/derived/fused.model (and
//     fused.retrieval) as a versioned artifact with the rules of
//     snapshot_ship.h: stream "<stream>-model-v<N>-<unix µs>" (subject
//     "<stream>.model.v<N>-<unix µs>"), chunks with a header line, CRC-32C per file,
//     then the manifest (ModelManifest) under key "v<N>" of the KV bucket
//     "<stream>-models", written with kvStore_Create: the commit point, and
//     a second publisher of the same version (a holder whose lease lapsed)
//     fails instead of overwriting. The newest ShipOptions::keep versions
//     are kept, older ones retired (manifest, then stream).
//   - Install: a serving node fetches the newest manifest's chunks, checks
//     every file's size and CRC-32C, and hands the directory to
//     DB::InstallModel, which verifies the model file itself and swaps it in
//     atomically; on any failure the previous model keeps serving.
//     User-side scoring (history, iALS fold-in, recency) stays the serving
//     node's own, in real time: every request reads the user's history there.
//
// Limits (README "Not done"): a model names items by the trainer's internal
// ids, so only a node whose database holds the same items at the same ids
// can install it (DB::InstallModel refuses others: FailedPrecondition) --
// in practice a full replica, which applies the same log in the same order.
// ClusterNode::ForgetUser retires the published models trained before its
// marker; a node that installed one serves it from memory until the next.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/event_log.h"
#include "cluster/snapshot_ship.h"
#include "recdb/recommend.h"
#include "recdb/status.h"

namespace recdb::cluster {

class ClusterNode;

// --- The election ----------------------------------------------------------

struct TrainerLockOptions {
  // This candidate's name ([A-Za-z0-9_-]{1,64}), the lock's value.
  std::string candidate;
  // The lease: a holder that does not renew for this long loses the lock.
  // It is the TTL of the bucket, fixed by whoever creates the bucket first.
  // Renew well within it (e.g. every ttl_ms / 3). Default 10 s.
  int64_t ttl_ms = 10000;
  // Replicas of the bucket when this candidate creates it; 0 = the log's
  // LogOptions::replicas.
  int replicas = 0;
};

class TrainerLock {
 public:
  // `log` must outlive the lock.
  TrainerLock(EventLog* log, TrainerLockOptions options);

  // Takes the lock if no live candidate holds it, or renews it if this one
  // does. Returns whether this candidate holds it now. A holder whose renewal
  // finds someone else's revision (its lease lapsed and another took over)
  // returns false and stops holding.
  // Errors: InvalidArgument for a bad candidate name; Aborted if JetStream
  // does not answer (the holder must then assume it lost the lock once
  // ttl_ms passed since its last successful Acquire).
  StatusOr<bool> Acquire();
  // Gives the lock up at once if this candidate holds it (others need not
  // wait for the TTL). Errors: Aborted.
  Status Release();
  bool held() const { return revision_ != 0; }
  const TrainerLockOptions& options() const { return options_; }
  // The candidate holding the lock ("" when none), as a replica of the
  // bucket knows it: a moment behind an Acquire just made. For reports;
  // Acquire's answer is the decision. Errors: Aborted.
  StatusOr<std::string> Holder();

 private:
  EventLog* log_;
  TrainerLockOptions options_;
  uint64_t revision_ = 0;  // the revision this candidate last wrote; 0 = not held
};

// --- Model artifacts --------------------------------------------------------

// What the KV manifest says about one published model.
struct ModelManifest {
  std::string id;          // "v<version>": the manifest's key
  uint64_t version = 0;    // 1, 2, ... within one stream
  // The chunk stream's id, "v<version>-<unix µs>": each publish ships to a
  // stream of its own, so a publisher that loses the commit of a version
  // to another deletes only its own chunks.
  std::string artifact;
  // The stream sequence the trainer had applied when its training started:
  // the model holds at least every event up to it (and perhaps some later).
  uint64_t position = 0;
  int64_t created_ns = 0;  // the event stream's creation time
  uint32_t partitions = 0;
  std::string trainer;     // the candidate that published it
  uint64_t chunk_bytes = 0;
  uint64_t chunks = 0;
  uint64_t bytes = 0;
  std::vector<ShippedFile> files;  // "fused.model", maybe "fused.retrieval"
};
std::string FormatModelManifest(const ModelManifest& m);
// Errors: Corruption.
Status ParseModelManifest(const std::string& text, ModelManifest* out);

// "<stream>-model-<artifact>" and "<stream>.model.<artifact>".
std::string ModelStreamName(const std::string& stream, const std::string& id);
std::string ModelSubject(const std::string& stream, const std::string& id);

// Publishes the model files in `model_dir` (as Train writes them to
// DIR/derived/: fused.model, optionally fused.retrieval; nothing else is
// shipped) as the next version (1 + the newest of the published versions
// and of the last committed one, key "latest" of the bucket, which
// retiring leaves: versions grow even after a forget retired them all), then retires the versions beyond options.keep and any of an
// earlier stream of the same name.
// Errors: InvalidArgument (no fused.model, chunk size, keep < 1);
// AlreadyExists when another publisher committed that version first
// (nothing of this publish stays); Aborted (JetStream did not store every
// chunk: no manifest); IOError.
StatusOr<ModelManifest> PublishModelDir(EventLog* log, const StreamIdentity& identity,
                                        const std::string& model_dir, uint64_t position,
                                        const std::string& trainer,
                                        const ShipOptions& options = {});
// Every committed model manifest of this log's stream name, newest first
// (by version). One that does not parse is skipped. Errors: Aborted.
StatusOr<std::vector<ModelManifest>> ListPublishedModels(EventLog* log);
// Fetches `m` into `dest` and checks every file (FetchArtifactFiles).
Status FetchPublishedModel(EventLog* log, const ModelManifest& m, const std::string& dest,
                           const ShipOptions& options = {});
// Manifest first, then its stream. Errors: Aborted.
Status RetirePublishedModel(EventLog* log, const ModelManifest& m);
// Retires every published model whose position is before `sequence` (its
// training may have read events before a forget marker there). Returns how
// many. Errors: Aborted.
StatusOr<int> RetirePublishedModelsBefore(EventLog* log, uint64_t sequence);

// --- On a node --------------------------------------------------------------

// The trainer's step: with `lock` held, trains `node`'s database (DB::Train
// with `train`; the node must own every partition) and publishes its model
// files (PublishModelDir, through "<db_path>.model-out/"), renewing the lock
// just before the commit. Returns the published manifest.
// Errors: FailedPrecondition if the lock is not held (or was lost before
// the commit: nothing is published) or the node does not own every
// partition; those of DB::Train and PublishModelDir.
StatusOr<ModelManifest> TrainAndPublishModel(ClusterNode* node, TrainerLock* lock,
                                             const TrainOptions& train = {},
                                             const ShipOptions& ship = {});

struct ModelInstall {
  ModelManifest manifest;  // the newest published model of the stream
  bool installed = false;  // false: its version is not newer than `installed_version`
};
// A serving node's step: the newest published model of the node's stream
// (same creation time and partition count), if its version is newer than
// `installed_version`, fetched into "<db_path>.model-in/<id>" (removed
// afterwards), every file's CRC-32C checked, and installed with
// DB::InstallModel. On any error the node's previous model keeps serving.
// One call at a time per node (the download directory is fixed), as
// TrainAndPublishModel (its "<db_path>.model-out/").
// Errors: NotFound if none is published; Corruption for a missing or damaged
// chunk (FetchArtifactFiles) or a model file that fails its own checks;
// FailedPrecondition for a model of other data (DB::InstallModel); Aborted.
StatusOr<ModelInstall> InstallNewestModel(ClusterNode* node, uint64_t installed_version,
                                          const ShipOptions& ship = {});

// --- The version a node serves, across restarts ----------------------------

// A node that installed (InstallNewestModel) or published
// (TrainAndPublishModel) a version records it in its own database, key
// "cluster-model/<stream>" (WriteOptions::applied_position_key, synced),
// with the size and CRC-32C the manifest gives for fused.model: the record
// names the bytes it is about. It is written after DB::InstallModel wrote
// DIR/derived/fused.model durably, and InstalledModelVersion trusts it only
// when that file still has the recorded size and CRC-32C: a crash between
// the install and the record (the file is the new version, the record the
// old one), a local Train or a damaged file make the node claim no version
// (it downloads the newest once more), never one it does not serve.
// Errors: IOError of the write.
Status RecordInstalledModel(ClusterNode* node, const ModelManifest& m);
// The version recorded by RecordInstalledModel if it is of this node's
// stream (creation time, partition count), DIR/derived/fused.model matches
// it and the database serves a model; 0 otherwise (none recorded, another
// stream's, another file). Errors: IOError, Corruption of a malformed record.
StatusOr<uint64_t> InstalledModelVersion(ClusterNode* node);

// --- Running it: one loop per node -------------------------------------------

struct ModelLoopOptions {
  // Stand for trainer as `candidate` (TrainerLock, lease ttl_ms): while
  // holding the lock, train and publish whenever the node applied messages
  // past the newest published model's position. The node must own every
  // partition. Choose ttl_ms above the longest training: a holder renews
  // between rounds and just before each commit, so a training longer than
  // the lease lets another candidate take over (the version commit makes
  // sure only one of them publishes each version).
  bool train = false;
  std::string candidate;
  int64_t ttl_ms = 30000;
  TrainOptions train_options;
  // The trainer trains only once the node applied at least this many log
  // messages (events and forget markers; stream sequences) past the newest
  // published model's position (past 0 when none is published). >= 1.
  uint64_t train_after = 1;
  // Install each newer published model (InstallNewestModel) while not
  // holding the trainer lock.
  bool follow = false;
  // Pause between rounds. Default 5 s.
  int interval_ms = 5000;
  ShipOptions ship;
};

struct ModelLoopStats {
  uint64_t rounds = 0;
  bool holds_lock = false;
  uint64_t published_version = 0;  // the last version this node published
  uint64_t installed_version = 0;  // the last version this node installed
  std::string last_error;          // of the last round ("" when it went well)
};

// A thread running ModelLoopOptions' rounds on a node until Stop. After each
// round it sets the node's reported model state (ClusterNode::SetModelState:
// installed_version, holds_lock), which `recdb cluster status` shows. It
// starts from the version the node recorded (InstalledModelVersion): a
// restarted node reports the version it serves before its first round, and
// that round downloads only a newer one.
class ModelLoop {
 public:
  // `node` must outlive the loop. Errors: InvalidArgument (neither train nor
  // follow; train without a valid candidate name; train_after 0).
  [[nodiscard]] static StatusOr<std::unique_ptr<ModelLoop>> Start(ClusterNode* node,
                                                                  ModelLoopOptions options);
  ~ModelLoop();
  ModelLoop(const ModelLoop&) = delete;
  ModelLoop& operator=(const ModelLoop&) = delete;
  // Stops after the round in progress and releases the lock; idempotent.
  void Stop();
  ModelLoopStats stats() const;
  // Runs a round now instead of at the end of the pause, and returns the
  // stats after a round that started after this call (the round in
  // progress, if any, does not count). Errors: Aborted after timeout_ms
  // ("not done within"; the round still runs) or once stopped.
  StatusOr<ModelLoopStats> RunRoundNow(int timeout_ms);

 private:
  ModelLoop(ClusterNode* node, ModelLoopOptions options);
  void Run();
  // One round; its error becomes last_error.
  Status Round();

  ClusterNode* node_;
  ModelLoopOptions options_;
  std::unique_ptr<TrainerLock> lock_;
  std::thread thread_;
  mutable std::mutex mu_;  // guards stats_, stop_; wakes the thread at Stop
  std::condition_variable cv_;
  bool stop_ = false;
  bool kick_ = false;        // RunRoundNow: start a round now
  bool in_round_ = false;    // a round is running
  std::condition_variable done_cv_;  // a round ended
  ModelLoopStats stats_;
};

}  // namespace recdb::cluster
