// EventLog: recdb's only contact with NATS JetStream (libnats 3.4.1). It owns
// one connection and knows the stream layout:
//   stream  <name>, subjects <name>.ev.<partition>, R<replicas>, file
//   storage, a duplicate window for message-id dedup; the partition count is
//   fixed at creation and stored in the stream's description
//   ("recdb-cluster v1 partitions=N").
// Everything above it (ClusterNode) sees Status values, never natsStatus.
//
// Thread-safety: Publish and PublishRawAsync serialise on an internal mutex
// (the asynchronous-publish state of a jsCtx is per context); Describe and
// Follow may run concurrently with them. A LogReader is used by one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nats/nats.h>

#include "recdb/status.h"

namespace recdb::cluster {

struct LogOptions {
  // Comma-separated server URLs, e.g. "nats://127.0.0.1:4222,nats://...".
  std::string servers;
  // Stream name; also the subject prefix. [A-Za-z0-9_-]{1,64}.
  std::string stream = "recdb";
  // Partitions and replicas of a stream created by OpenStream(create=true);
  // an existing stream keeps its own. Default 64, R3.
  uint32_t partitions = 64;
  int replicas = 3;
  // JetStream's message-id dedup window: a write retried within it is stored
  // once. Default 2 min. Cost: server memory per id in the window.
  int64_t duplicate_window_ms = 120000;
  // How long one publish round waits for its acknowledgements, how many
  // rounds a Publish makes (re-sending the unacknowledged messages with the
  // same ids) and the pause between rounds. The defaults ride out a leader
  // election (a few seconds) and give up after ~20 s without a quorum.
  int ack_wait_ms = 2000;
  int publish_attempts = 8;
  int retry_backoff_ms = 500;
  // Timeout of one JetStream API request (stream info, create).
  int api_timeout_ms = 3000;
  // Connect timeout per server.
  int connect_timeout_ms = 2000;
};

// What the stream says about itself.
struct StreamIdentity {
  uint32_t partitions = 0;
  int64_t created_ns = 0;  // creation time: changes if the stream is recreated
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::string leader;  // server name of the stream's Raft leader ("" = none)
  // Replicas the leader reports as reachable: itself plus each peer that is
  // current, not offline and heard from within the last 5 s; and the
  // stream's replica count. Writes need healthy_replicas > replicas / 2.
  int healthy_replicas = 0;
  int replicas = 0;
};

// One message to publish: partition, message id (the event id), body.
struct OutMessage {
  uint32_t partition = 0;
  std::string id;
  std::string body;
};

// One delivered message.
struct LogMessage {
  uint64_t stream_seq = 0;
  uint64_t consumer_seq = 0;
  uint64_t pending = 0;  // messages after this one on the consumer
  std::string subject;
  std::string id;  // the message id (event id) it was published with; "" if none
  std::string body;
};

// An ordered, ephemeral push consumer over every partition's subject.
class LogReader {
 public:
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // The next message, or false after timeout_ms with none.
  // Errors: Aborted if the subscription failed or the client dropped
  // messages (slow consumer): the caller resubscribes from its position.
  StatusOr<bool> Next(int timeout_ms, LogMessage* out);

 private:
  friend class EventLog;
  explicit LogReader(natsSubscription* sub) : sub_(sub) {}
  natsSubscription* sub_;
};

class EventLog {
 public:
  // Connects to any of options.servers. Errors: Aborted if no server
  // answers; InvalidArgument for a bad stream name or no servers.
  [[nodiscard]] static StatusOr<std::unique_ptr<EventLog>> Connect(const LogOptions& options);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  const LogOptions& options() const { return options_; }

  // Creates the stream if absent and `create` (retrying while the cluster
  // elects its meta leader, bounded by ~api_timeout_ms * 5), then describes it.
  // Errors: NotFound if absent and !create; FailedPrecondition if a stream
  // of that name is not a recdb stream; Aborted if JetStream does not answer.
  StatusOr<StreamIdentity> OpenStream(bool create);

  // The stream's current state. Errors: Aborted if JetStream does not
  // answer within timeout_ms (no quorum, no server); NotFound.
  StatusOr<StreamIdentity> Describe(int timeout_ms);

  // Publishes every message with its id as the JetStream message id and
  // returns, in (*sequences)[i], the stream sequence JetStream stored
  // message i at (for a duplicate id: the first copy's). Returns OK only
  // when every message is acknowledged, i.e. stored on a quorum of the
  // stream's replicas. Unacknowledged messages are re-sent with the same id
  // in up to options.publish_attempts rounds.
  // Errors: Aborted ("no quorum ...") when some message is still
  // unacknowledged after the last round; the caller may retry the same ids
  // within the duplicate window without creating copies.
  Status Publish(const std::vector<OutMessage>& messages, std::vector<uint64_t>* sequences);

  // The benchmark anchor: js_PublishMsgAsync of the same bodies to the same
  // subjects without per-message bookkeeping (and, unless with_ids, without
  // message ids), then js_PublishAsyncComplete. Errors: Aborted.
  Status PublishRawAsync(const std::vector<OutMessage>& messages, bool with_ids = false);

  // An ordered consumer over "<stream>.ev.*" (or, with partition >= 0, over
  // that partition's subject only) delivering from stream sequence
  // start_seq (>= 1). Errors: Aborted if JetStream refuses.
  StatusOr<std::unique_ptr<LogReader>> Follow(uint64_t start_seq, int64_t partition = -1);

  // Overwrites message `seq`'s stored bytes and removes it
  // (js_EraseMsg). Errors: NotFound if no such message (already erased);
  // Aborted if JetStream does not answer.
  Status Erase(uint64_t seq);

  // The node registry: KV bucket "<stream>-nodes" (created on first use
  // with the stream's replica count, history 1), one key per node name
  // ([A-Za-z0-9_-]{1,64}) holding the node's one-line status text
  // (ClusterNode reports it; `recdb cluster status` reads it).
  // Errors: InvalidArgument for a bad name; Aborted if JetStream does not
  // answer.
  Status PutNodeStatus(const std::string& node, const std::string& value);
  // Every registered node's (name, value), sorted by name. An absent bucket
  // is an empty list. Errors: Aborted if JetStream does not answer.
  StatusOr<std::vector<std::pair<std::string, std::string>>> ReadNodeStatuses();

  // --- Artifact streams (shipped snapshots, snapshot_ship.h) ---------------
  // One stream per artifact: `name`, the single subject `subject`, file
  // storage, `replicas` replicas, a duplicate window of options.duplicate_
  // window_ms. Retiring an artifact deletes its stream, which removes its
  // store and Raft directories on every server (a subject purge would only
  // mark messages deleted in 2.9.10, README). An existing stream of that
  // name is reused. Errors: Aborted if JetStream does not answer.
  Status CreateArtifactStream(const std::string& name, const std::string& subject, int replicas);
  // Errors: NotFound if absent; Aborted.
  Status DeleteArtifactStream(const std::string& name);
  // The number of messages the stream holds. Errors: NotFound; Aborted.
  StatusOr<uint64_t> ArtifactMessages(const std::string& name);
  // Publishes `bodies` (each < the server's max payload, 1 MiB) to
  // `subject` with message ids "<id_prefix>/<i>" (i = first_index + k),
  // at most `window` unacknowledged at a time, and waits for every
  // acknowledgement (stored on a quorum). Errors: Aborted (no quorum, a
  // refused message); re-sending the same ids stores no copies.
  Status PublishArtifact(const std::string& subject, const std::string& id_prefix,
                         size_t first_index, const std::vector<std::string>& bodies);
  // An ordered consumer over artifact stream `name` from sequence 1.
  StatusOr<std::unique_ptr<LogReader>> FollowArtifact(const std::string& name,
                                                      const std::string& subject);
  // js_EraseMsg of message `seq` of artifact stream `name` (tests tamper with it).
  Status EraseArtifactMessage(const std::string& name, uint64_t seq);
  // A manifest bucket "<stream>-<bucket>" (KV, `replicas`, history 1; e.g.
  // "snapshots" for published snapshots, "models" for published models):
  // one key per published artifact. Put is the commit point of a publish;
  // Delete removes a key (absent: OK). Errors: InvalidArgument for a bad
  // key; Aborted.
  Status PutManifest(const std::string& bucket, const std::string& key, const std::string& value,
                     int replicas);
  StatusOr<std::vector<std::pair<std::string, std::string>>> ReadManifests(
      const std::string& bucket);
  Status DeleteManifest(const std::string& bucket, const std::string& key);

  // --- Leases (the trainer election, trainer.h) ---------------------------
  // A key in the KV bucket "<stream>-<bucket>" created on first use with
  // `replicas` replicas, history 1 and a TTL of ttl_ms (the bucket's MaxAge:
  // a key not written for ttl_ms disappears; an existing bucket keeps the
  // TTL it was created with).
  // CreateKey writes `value` only if the key is absent (kvStore_Create; a
  // deleted or expired key counts as absent) and returns its revision.
  // Errors: AlreadyExists (the message names the value there); Aborted.
  StatusOr<uint64_t> CreateKey(const std::string& bucket, const std::string& key,
                               const std::string& value, int replicas, int64_t ttl_ms);
  // UpdateKey writes `value` only if the key's revision is still `last`
  // (kvStore_Update) and returns the new revision. Errors:
  // FailedPrecondition when the key was written by someone else or expired
  // since (the message says which); NotFound without the bucket; Aborted.
  StatusOr<uint64_t> UpdateKey(const std::string& bucket, const std::string& key,
                               const std::string& value, uint64_t last);
  // The key's value and revision, as a replica knows it (possibly a moment
  // behind a write just acknowledged: for reports, not decisions). Errors:
  // NotFound (absent, expired, or no bucket); Aborted.
  StatusOr<std::pair<std::string, uint64_t>> GetKey(const std::string& bucket,
                                                    const std::string& key);
  // Removes the key (kvStore_Purge) if its revision is still `last` when
  // read; OK when absent. Errors: FailedPrecondition (someone else's now);
  // Aborted.
  Status DeleteKey(const std::string& bucket, const std::string& key, uint64_t last);

  // "<stream>.ev.<partition>", and the partition of such a subject (false
  // for any other subject); kGlobalPartition <-> "<stream>.ev.items", the
  // subject of item upserts, which every node applies (the one filter
  // "<stream>.ev.*" of a node's consumer covers it).
  static constexpr uint32_t kGlobalPartition = UINT32_MAX;
  std::string Subject(uint32_t partition) const;
  bool ParseSubject(const std::string& subject, uint32_t* partition) const;

 private:
  struct PendingAck {
    uint64_t sequence = 0;  // 0 = not acknowledged
  };
  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);

  explicit EventLog(const LogOptions& options) : options_(options) {}

  LogOptions options_;
  natsConnection* conn_ = nullptr;
  jsCtx* api_ = nullptr;      // synchronous API requests
  jsCtx* pub_ = nullptr;      // asynchronous publishes with OnAck
  jsCtx* raw_pub_ = nullptr;  // benchmark anchor, no handler
  std::mutex publish_mu_;       // one Publish / PublishRawAsync at a time
  std::mutex ack_mu_;           // guards the fields below (OnAck runs on a libnats thread)
  std::unordered_map<std::string, size_t> inflight_;  // message id -> index
  std::vector<PendingAck>* acks_ = nullptr;
  std::string last_ack_error_;
  // The node registry (PutNodeStatus), opened on first use.
  StatusOr<kvStore*> NodeBucket(bool create);
  // Bucket "<stream>-<suffix>" in *slot, opened (or created with `replicas`
  // and, when ttl_ms > 0, that MaxAge) on first use. kv_mu_ is held by the
  // caller.
  StatusOr<kvStore*> Bucket(const std::string& suffix, kvStore** slot, bool create, int replicas,
                            int64_t ttl_ms = 0);
  // Bucket() with its slot in buckets_. kv_mu_ held.
  StatusOr<kvStore*> NamedBucket(const std::string& suffix, bool create, int replicas,
                                 int64_t ttl_ms = 0);
  // Every (key, value) of a bucket, sorted by key. kv_mu_ held.
  StatusOr<std::vector<std::pair<std::string, std::string>>> ReadBucket(kvStore* kv);
  std::mutex kv_mu_;
  kvStore* nodes_kv_ = nullptr;
  std::map<std::string, kvStore*> buckets_;  // NamedBucket's, by suffix
  jsCtx* artifact_pub_ = nullptr;  // PublishArtifact's asynchronous context, created on first use
  std::mutex artifact_mu_;
};

// Whether `name` is a valid stream or node name: [A-Za-z0-9_-]{1,64}.
bool ValidName(const std::string& name);

}  // namespace recdb::cluster
