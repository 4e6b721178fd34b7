#include "cluster/event_log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace recdb::cluster {

namespace {

constexpr char kDescriptionPrefix[] = "recdb-cluster v1 partitions=";

std::string NatsError(natsStatus s) {
  std::string out = natsStatus_GetText(s);
  const char* detail = nats_GetLastError(nullptr);
  if (detail != nullptr && *detail != '\0') {
    out += ": ";
    out += detail;
  }
  return out;
}

}  // namespace

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

bool ValidStreamName(const std::string& name) { return ValidName(name); }

using Clock = std::chrono::steady_clock;

int64_t MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

StatusOr<StreamIdentity> IdentityOf(const jsStreamInfo* si) {
  StreamIdentity id;
  const char* desc = si->Config != nullptr ? si->Config->Description : nullptr;
  const std::string prefix = kDescriptionPrefix;
  if (desc == nullptr || std::string(desc).rfind(prefix, 0) != 0) {
    return Status::FailedPrecondition("stream \"" + std::string(si->Config ? si->Config->Name : "") +
                                      "\" exists but is not a recdb cluster stream (description \"" +
                                      (desc ? desc : "") + "\")");
  }
  unsigned long n = 0;
  if (std::sscanf(desc + prefix.size(), "%lu", &n) != 1 || n == 0 || n > 65536) {
    return Status::Corruption(std::string("stream description \"") + desc + "\": bad partition count");
  }
  id.partitions = static_cast<uint32_t>(n);
  id.created_ns = si->Created;
  id.first_seq = si->State.FirstSeq;
  id.last_seq = si->State.LastSeq;
  id.replicas = si->Config != nullptr ? static_cast<int>(si->Config->Replicas) : 0;
  if (si->Cluster != nullptr && si->Cluster->Leader != nullptr) {
    id.leader = si->Cluster->Leader;
    id.healthy_replicas = 1;
    for (int i = 0; i < si->Cluster->ReplicasLen; ++i) {
      const jsPeerInfo* p = si->Cluster->Replicas[i];
      if (p != nullptr && p->Current && !p->Offline && p->Active < int64_t{5000000000}) {
        id.healthy_replicas++;
      }
    }
  }
  return id;
}

// A JetStream context for asynchronous publishes: up to 4096 in flight,
// stalling (and acknowledgements awaited) for `ack_wait_ms`; `handler`
// (may be null) sees each acknowledgement with `closure`.
natsStatus AsyncPublisher(natsConnection* conn, int ack_wait_ms, jsPubAckHandler handler,
                          void* closure, jsCtx** out) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = ack_wait_ms;
  o.PublishAsync.MaxPending = 4096;
  o.PublishAsync.StallWait = ack_wait_ms;
  o.PublishAsync.AckHandler = handler;
  o.PublishAsync.AckHandlerClosure = closure;
  return natsConnection_JetStream(out, conn, &o);
}

// Queues `body` on `subject` through `js` with the deduplication id `id`
// (none if null); the wait for its acknowledgement is the caller's.
natsStatus PublishAsync(jsCtx* js, const std::string& subject, const std::string& body,
                        const char* id) {
  natsMsg* m = nullptr;
  natsStatus s =
      natsMsg_Create(&m, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
  if (s == NATS_OK) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    s = js_PublishMsgAsync(js, &m, &po);
  }
  natsMsg_Destroy(m);  // no-op when the library took it
  return s;
}

}  // namespace

// --- LogReader ----------------------------------------------------------------

LogReader::~LogReader() {
  if (sub_ != nullptr) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
}

StatusOr<bool> LogReader::Next(int timeout_ms, LogMessage* out) {
  natsMsg* m = nullptr;
  natsStatus s = natsSubscription_NextMsg(&m, sub_, timeout_ms);
  if (s == NATS_TIMEOUT) return false;
  if (s != NATS_OK) return Status::Aborted("log subscription: " + NatsError(s));
  jsMsgMetaData* meta = nullptr;
  s = natsMsg_GetMetaData(&meta, m);
  if (s != NATS_OK) {
    natsMsg_Destroy(m);
    return Status::Aborted("log message without JetStream metadata: " + NatsError(s));
  }
  out->stream_seq = meta->Sequence.Stream;
  out->consumer_seq = meta->Sequence.Consumer;
  out->pending = meta->NumPending;
  jsMsgMetaData_Destroy(meta);
  out->subject = natsMsg_GetSubject(m);
  out->body.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  const char* id = nullptr;
  if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
    out->id = id;
  } else {
    out->id.clear();
  }
  natsMsg_Destroy(m);
  int64_t dropped = 0;
  if (natsSubscription_GetDropped(sub_, &dropped) == NATS_OK && dropped > 0) {
    return Status::Aborted("log subscription dropped " + std::to_string(dropped) +
                           " messages (slow consumer)");
  }
  return true;
}

// --- EventLog -----------------------------------------------------------------

StatusOr<std::unique_ptr<EventLog>> EventLog::Connect(const LogOptions& options) {
  if (!ValidStreamName(options.stream)) {
    return Status::InvalidArgument("stream name \"" + options.stream +
                                   "\": want [A-Za-z0-9_-]{1,64}");
  }
  std::vector<std::string> urls;
  size_t start = 0;
  while (start <= options.servers.size()) {
    size_t comma = options.servers.find(',', start);
    if (comma == std::string::npos) comma = options.servers.size();
    if (comma > start) urls.push_back(options.servers.substr(start, comma - start));
    start = comma + 1;
  }
  if (urls.empty()) return Status::InvalidArgument("no NATS server URLs");
  std::vector<const char*> ptrs;
  for (const auto& u : urls) ptrs.push_back(u.c_str());

  std::unique_ptr<EventLog> log(new EventLog(options));
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetServers(opts, ptrs.data(), static_cast<int>(ptrs.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, options.connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, 1000000);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 1000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts, 3);
  if (s == NATS_OK) s = natsConnection_Connect(&log->conn_, opts);
  if (opts != nullptr) natsOptions_Destroy(opts);
  if (s != NATS_OK) return Status::Aborted("connect to " + options.servers + ": " + NatsError(s));

  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.api_timeout_ms;
  s = natsConnection_JetStream(&log->api_, log->conn_, &jo);
  if (s == NATS_OK) {
    s = AsyncPublisher(log->conn_, options.ack_wait_ms, &EventLog::OnAck, log.get(), &log->pub_);
  }
  if (s == NATS_OK) s = AsyncPublisher(log->conn_, options.ack_wait_ms, nullptr, nullptr, &log->raw_pub_);
  if (s != NATS_OK) return Status::Aborted("JetStream context: " + NatsError(s));
  return log;
}

EventLog::~EventLog() {
  if (nodes_kv_ != nullptr) kvStore_Destroy(nodes_kv_);
  for (auto& [suffix, kv] : buckets_) kvStore_Destroy(kv);
  if (artifact_pub_ != nullptr) jsCtx_Destroy(artifact_pub_);
  if (pub_ != nullptr) jsCtx_Destroy(pub_);
  if (raw_pub_ != nullptr) jsCtx_Destroy(raw_pub_);
  if (api_ != nullptr) jsCtx_Destroy(api_);
  if (conn_ != nullptr) {
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
}

StatusOr<kvStore*> EventLog::Bucket(const std::string& suffix, kvStore** slot, bool create,
                                    int replicas, int64_t ttl_ms) {
  // kv_mu_ is held by the caller.
  if (*slot != nullptr) return *slot;
  const std::string bucket = options_.stream + "-" + suffix;
  natsStatus s = js_KeyValue(slot, api_, bucket.c_str());
  if (s == NATS_OK) return *slot;
  *slot = nullptr;
  if (s != NATS_NOT_FOUND) {
    return Status::Aborted("KV bucket \"" + bucket + "\": " + NatsError(s) +
                           " (no JetStream quorum or no server reachable?)");
  }
  if (!create) return Status::NotFound("no KV bucket \"" + bucket + "\"");
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = bucket.c_str();
  cfg.History = 1;
  cfg.Replicas = replicas;
  cfg.TTL = ttl_ms * 1000000;  // ns; 0 = keys never expire
  s = js_CreateKeyValue(slot, api_, &cfg);
  if (s != NATS_OK) {
    *slot = nullptr;
    return Status::Aborted("create KV bucket \"" + bucket + "\": " + NatsError(s));
  }
  return *slot;
}

StatusOr<kvStore*> EventLog::NodeBucket(bool create) {
  return Bucket("nodes", &nodes_kv_, create, options_.replicas);
}

StatusOr<std::vector<std::pair<std::string, std::string>>> EventLog::ReadBucket(kvStore* kv) {
  std::vector<std::pair<std::string, std::string>> out;
  kvKeysList keys{};
  kvWatchOptions wo;
  kvWatchOptions_Init(&wo);
  wo.Timeout = options_.api_timeout_ms;
  natsStatus s = kvStore_Keys(&keys, kv, &wo);
  if (s == NATS_NOT_FOUND) return out;  // an empty bucket
  if (s != NATS_OK) return Status::Aborted("list KV keys: " + NatsError(s));
  for (int i = 0; i < keys.Count; ++i) {
    kvEntry* e = nullptr;
    if (kvStore_Get(&e, kv, keys.Keys[i]) == NATS_OK && e != nullptr) {
      out.emplace_back(keys.Keys[i], std::string(static_cast<const char*>(kvEntry_Value(e)),
                                                 static_cast<size_t>(kvEntry_ValueLen(e))));
    }
    if (e != nullptr) kvEntry_Destroy(e);
  }
  kvKeysList_Destroy(&keys);
  std::sort(out.begin(), out.end());
  return out;
}

Status EventLog::PutNodeStatus(const std::string& node, const std::string& value) {
  if (!ValidName(node)) {
    return Status::InvalidArgument("node name \"" + node + "\": want [A-Za-z0-9_-]{1,64}");
  }
  std::lock_guard lock(kv_mu_);
  RECDB_ASSIGN_OR_RETURN(kvStore * kv, NodeBucket(/*create=*/true));
  uint64_t rev = 0;
  natsStatus s = kvStore_PutString(&rev, kv, node.c_str(), value.c_str());
  if (s != NATS_OK) return Status::Aborted("report node \"" + node + "\": " + NatsError(s));
  return Status::OK();
}

StatusOr<std::vector<std::pair<std::string, std::string>>> EventLog::ReadNodeStatuses() {
  std::lock_guard lock(kv_mu_);
  StatusOr<kvStore*> kv = NodeBucket(/*create=*/false);
  if (kv.status().IsNotFound()) return std::vector<std::pair<std::string, std::string>>{};
  RECDB_RETURN_IF_ERROR(kv.status());
  return ReadBucket(*kv);
}

StatusOr<kvStore*> EventLog::NamedBucket(const std::string& suffix, bool create, int replicas,
                                         int64_t ttl_ms) {
  kvStore*& slot = buckets_[suffix];
  StatusOr<kvStore*> kv = Bucket(suffix, &slot, create, replicas, ttl_ms);
  if (!kv.ok()) buckets_.erase(suffix);
  return kv;
}

Status EventLog::PutManifest(const std::string& bucket, const std::string& key,
                             const std::string& value, int replicas) {
  if (!ValidName(key)) return Status::InvalidArgument("manifest key \"" + key + "\"");
  std::lock_guard lock(kv_mu_);
  RECDB_ASSIGN_OR_RETURN(kvStore * kv, NamedBucket(bucket, true, replicas));
  uint64_t rev = 0;
  natsStatus s = kvStore_Put(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (s != NATS_OK) return Status::Aborted("put manifest \"" + key + "\": " + NatsError(s));
  return Status::OK();
}

StatusOr<std::vector<std::pair<std::string, std::string>>> EventLog::ReadManifests(
    const std::string& bucket) {
  std::lock_guard lock(kv_mu_);
  StatusOr<kvStore*> kv = NamedBucket(bucket, false, 0);
  if (kv.status().IsNotFound()) return std::vector<std::pair<std::string, std::string>>{};
  RECDB_RETURN_IF_ERROR(kv.status());
  return ReadBucket(*kv);
}

Status EventLog::DeleteManifest(const std::string& bucket, const std::string& key) {
  if (!ValidName(key)) return Status::InvalidArgument("manifest key \"" + key + "\"");
  std::lock_guard lock(kv_mu_);
  StatusOr<kvStore*> kv = NamedBucket(bucket, false, 0);
  if (kv.status().IsNotFound()) return Status::OK();
  RECDB_RETURN_IF_ERROR(kv.status());
  // Purge, not Delete: the key's earlier revision (the manifest) goes too.
  natsStatus s = kvStore_Purge(*kv, key.c_str(), nullptr);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    return Status::Aborted("delete manifest \"" + key + "\": " + NatsError(s));
  }
  return Status::OK();
}

namespace {

// Whether a KV write was refused because the key's last revision is not the
// expected one (JetStream error 10071, "wrong last sequence": kvStore_Create
// of a live key, kvStore_Update after another write or an expiry). libnats
// 3.4.1's KV calls return NATS_ERR and leave the reason in the error text.
bool WrongLastSequence(const std::string& error) {
  return error.find("wrong last sequence") != std::string::npos;
}

// The live value and revision of `key` (NotFound: absent, deleted, expired).
// kvStore_Get may be answered by any replica (direct get): a moment behind.
StatusOr<std::pair<std::string, uint64_t>> ReadKey(kvStore* kv, const std::string& key) {
  kvEntry* e = nullptr;
  natsStatus s = kvStore_Get(&e, kv, key.c_str());
  if (s == NATS_NOT_FOUND) return Status::NotFound("no key \"" + key + "\"");
  if (s != NATS_OK || e == nullptr) {
    if (e != nullptr) kvEntry_Destroy(e);
    return Status::Aborted("read key \"" + key + "\": " + NatsError(s));
  }
  std::pair<std::string, uint64_t> out{
      std::string(static_cast<const char*>(kvEntry_Value(e)), static_cast<size_t>(kvEntry_ValueLen(e))),
      kvEntry_Revision(e)};
  kvEntry_Destroy(e);
  return out;
}

}  // namespace

StatusOr<uint64_t> EventLog::CreateKey(const std::string& bucket, const std::string& key,
                                       const std::string& value, int replicas, int64_t ttl_ms) {
  if (!ValidName(key)) return Status::InvalidArgument("key \"" + key + "\"");
  std::lock_guard lock(kv_mu_);
  RECDB_ASSIGN_OR_RETURN(kvStore * kv, NamedBucket(bucket, true, replicas, ttl_ms));
  uint64_t rev = 0;
  natsStatus s =
      kvStore_Create(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (s == NATS_OK) return rev;
  const std::string error = NatsError(s);
  if (!WrongLastSequence(error)) return Status::Aborted("create key \"" + key + "\": " + error);
  // Refused by the stream leader: the key lives. Who holds it is read back
  // (possibly from a replica a moment behind: for the message only).
  StatusOr<std::pair<std::string, uint64_t>> there = ReadKey(kv, key);
  return Status::AlreadyExists(
      "key \"" + key + "\" is held" +
      (there.ok() ? " by \"" + there->first + "\" (revision " + std::to_string(there->second) + ")"
                  : std::string()));
}

StatusOr<uint64_t> EventLog::UpdateKey(const std::string& bucket, const std::string& key,
                                       const std::string& value, uint64_t last) {
  if (!ValidName(key)) return Status::InvalidArgument("key \"" + key + "\"");
  std::lock_guard lock(kv_mu_);
  RECDB_ASSIGN_OR_RETURN(kvStore * kv, NamedBucket(bucket, false, 0));
  uint64_t rev = 0;
  natsStatus s =
      kvStore_Update(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()), last);
  if (s == NATS_OK) return rev;
  const std::string error = NatsError(s);
  if (!WrongLastSequence(error)) return Status::Aborted("update key \"" + key + "\": " + error);
  // Refused by the stream leader: written by someone else, or expired.
  StatusOr<std::pair<std::string, uint64_t>> there = ReadKey(kv, key);
  return Status::FailedPrecondition(
      "key \"" + key + "\" is no longer at revision " + std::to_string(last) +
      (there.status().IsNotFound() ? std::string(" (expired)")
       : there.ok() ? " (now \"" + there->first + "\", revision " +
                          std::to_string(there->second) + ")"
                    : std::string()));
}

StatusOr<std::pair<std::string, uint64_t>> EventLog::GetKey(const std::string& bucket,
                                                            const std::string& key) {
  if (!ValidName(key)) return Status::InvalidArgument("key \"" + key + "\"");
  std::lock_guard lock(kv_mu_);
  RECDB_ASSIGN_OR_RETURN(kvStore * kv, NamedBucket(bucket, false, 0));
  return ReadKey(kv, key);
}

Status EventLog::DeleteKey(const std::string& bucket, const std::string& key, uint64_t last) {
  if (!ValidName(key)) return Status::InvalidArgument("key \"" + key + "\"");
  std::lock_guard lock(kv_mu_);
  StatusOr<kvStore*> kv = NamedBucket(bucket, false, 0);
  if (kv.status().IsNotFound()) return Status::OK();
  RECDB_RETURN_IF_ERROR(kv.status());
  StatusOr<std::pair<std::string, uint64_t>> there = ReadKey(*kv, key);
  if (there.status().IsNotFound()) return Status::OK();
  RECDB_RETURN_IF_ERROR(there.status());
  if (there->second != last) {
    return Status::FailedPrecondition("key \"" + key + "\" is now \"" + there->first +
                                      "\" (revision " + std::to_string(there->second) + ")");
  }
  natsStatus s = kvStore_Purge(*kv, key.c_str(), nullptr);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    return Status::Aborted("delete key \"" + key + "\": " + NatsError(s));
  }
  return Status::OK();
}

Status EventLog::CreateArtifactStream(const std::string& name, const std::string& subject,
                                      int replicas) {
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Description = "recdb-cluster artifact";
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = replicas;
  cfg.Duplicates = options_.duplicate_window_ms * 1000000;
  Status last = Status::Aborted("no attempt");
  for (int attempt = 0; attempt < 5; ++attempt) {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(&si, api_, &cfg, nullptr, &jerr);
    if (si != nullptr) jsStreamInfo_Destroy(si);
    if (s == NATS_OK || jerr == JSStreamNameExistErr) return Status::OK();
    last = Status::Aborted("create stream \"" + name + "\": " + NatsError(s) + " (js error " +
                           std::to_string(static_cast<int>(jerr)) + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return last;
}

Status EventLog::DeleteArtifactStream(const std::string& name) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteStream(api_, name.c_str(), nullptr, &jerr);
  if (s == NATS_OK) return Status::OK();
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    return Status::NotFound("no stream \"" + name + "\"");
  }
  return Status::Aborted("delete stream \"" + name + "\": " + NatsError(s) + " (js error " +
                         std::to_string(static_cast<int>(jerr)) + ")");
}

StatusOr<uint64_t> EventLog::ArtifactMessages(const std::string& name) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, api_, name.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    if (si != nullptr) jsStreamInfo_Destroy(si);
    return Status::NotFound("no stream \"" + name + "\"");
  }
  if (s != NATS_OK) return Status::Aborted("stream \"" + name + "\" info: " + NatsError(s));
  const uint64_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

Status EventLog::PublishArtifact(const std::string& subject, const std::string& id_prefix,
                                 size_t first_index, const std::vector<std::string>& bodies) {
  std::lock_guard lock(artifact_mu_);
  if (artifact_pub_ == nullptr) {
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = options_.ack_wait_ms;
    o.PublishAsync.MaxPending = 16;  // at most 16 chunks (8 MiB) in flight
    o.PublishAsync.StallWait = options_.ack_wait_ms;
    natsStatus s = natsConnection_JetStream(&artifact_pub_, conn_, &o);
    if (s != NATS_OK) {
      artifact_pub_ = nullptr;
      return Status::Aborted("JetStream context: " + NatsError(s));
    }
  }
  for (size_t k = 0; k < bodies.size(); ++k) {
    const std::string id = id_prefix + "/" + std::to_string(first_index + k);
    natsStatus s = PublishAsync(artifact_pub_, subject, bodies[k], id.c_str());
    if (s != NATS_OK) {
      natsMsgList pending{};
      if (js_PublishAsyncGetPendingList(&pending, artifact_pub_) == NATS_OK) {
        natsMsgList_Destroy(&pending);
      }
      return Status::Aborted("publish " + id + ": " + NatsError(s));
    }
  }
  jsPubOptions co;
  jsPubOptions_Init(&co);
  co.MaxWait = options_.ack_wait_ms * 4;
  natsStatus s = js_PublishAsyncComplete(artifact_pub_, &co);
  if (s != NATS_OK) {
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, artifact_pub_) == NATS_OK) {
      natsMsgList_Destroy(&pending);
    }
    return Status::Aborted("no quorum: chunks of " + id_prefix + " not acknowledged: " +
                           NatsError(s));
  }
  return Status::OK();
}

StatusOr<std::unique_ptr<LogReader>> EventLog::FollowArtifact(const std::string& name,
                                                              const std::string& subject) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Ordered = true;
  so.Stream = name.c_str();
  so.Config.DeliverPolicy = js_DeliverAll;
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub, api_, subject.c_str(), nullptr, &so, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    return Status::NotFound("no stream \"" + name + "\"");
  }
  if (s != NATS_OK) return Status::Aborted("follow \"" + subject + "\": " + NatsError(s));
  natsSubscription_SetPendingLimits(sub, 4096, 512 << 20);
  return std::unique_ptr<LogReader>(new LogReader(sub));
}

Status EventLog::EraseArtifactMessage(const std::string& name, uint64_t seq) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_EraseMsg(api_, name.c_str(), seq, nullptr, &jerr);
  if (s == NATS_OK) return Status::OK();
  return Status::Aborted("erase message " + std::to_string(seq) + " of " + name + ": " +
                         NatsError(s));
}

std::string EventLog::Subject(uint32_t partition) const {
  if (partition == kGlobalPartition) return options_.stream + ".ev.items";
  return options_.stream + ".ev." + std::to_string(partition);
}

bool EventLog::ParseSubject(const std::string& subject, uint32_t* partition) const {
  const std::string prefix = options_.stream + ".ev.";
  if (subject.size() <= prefix.size() || subject.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  if (subject.compare(prefix.size(), std::string::npos, "items") == 0) {
    *partition = kGlobalPartition;
    return true;
  }
  uint64_t p = 0;
  for (size_t i = prefix.size(); i < subject.size(); ++i) {
    const char c = subject[i];
    if (c < '0' || c > '9' || p > 1000000) return false;
    p = p * 10 + static_cast<uint64_t>(c - '0');
  }
  *partition = static_cast<uint32_t>(p);
  return true;
}

StatusOr<StreamIdentity> EventLog::Describe(int timeout_ms) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = timeout_ms;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, api_, options_.stream.c_str(), &jo, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    if (si != nullptr) jsStreamInfo_Destroy(si);
    return Status::NotFound("no stream \"" + options_.stream + "\"");
  }
  if (s != NATS_OK) {
    return Status::Aborted("stream \"" + options_.stream + "\" info: " + NatsError(s) +
                           " (no JetStream quorum or no server reachable?)");
  }
  StatusOr<StreamIdentity> id = IdentityOf(si);
  jsStreamInfo_Destroy(si);
  return id;
}

StatusOr<StreamIdentity> EventLog::OpenStream(bool create) {
  const auto start = Clock::now();
  const int64_t budget_ms = int64_t{options_.api_timeout_ms} * 5;
  Status last = Status::Aborted("no attempt");
  for (int attempt = 0; attempt < 100 && MillisSince(start) < budget_ms; ++attempt) {
    StatusOr<StreamIdentity> id = Describe(options_.api_timeout_ms);
    if (id.ok() || id.status().IsFailedPrecondition() || id.status().IsCorruption()) return id;
    last = id.status();
    if (id.status().IsNotFound()) {
      if (!create) return id.status();
      const std::string desc = kDescriptionPrefix + std::to_string(options_.partitions);
      const std::string subject = options_.stream + ".ev.*";
      const char* subjects[] = {subject.c_str()};
      jsStreamConfig cfg;
      jsStreamConfig_Init(&cfg);
      cfg.Name = options_.stream.c_str();
      cfg.Description = desc.c_str();
      cfg.Subjects = subjects;
      cfg.SubjectsLen = 1;
      cfg.Storage = js_FileStorage;
      cfg.Replicas = options_.replicas;
      cfg.Duplicates = options_.duplicate_window_ms * 1000000;
      jsStreamInfo* si = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = js_AddStream(&si, api_, &cfg, nullptr, &jerr);
      if (si != nullptr) jsStreamInfo_Destroy(si);
      if (s == NATS_OK || jerr == JSStreamNameExistErr) continue;  // describe it
      last = Status::Aborted("create stream \"" + options_.stream + "\": " + NatsError(s) +
                             " (js error " + std::to_string(static_cast<int>(jerr)) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return last;
}

void EventLog::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<EventLog*>(closure);
  const char* id = nullptr;
  if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK) id = nullptr;
  {
    std::lock_guard lock(self->ack_mu_);
    if (self->acks_ != nullptr && id != nullptr) {
      auto it = self->inflight_.find(id);
      if (it != self->inflight_.end()) {
        if (pa != nullptr) {
          (*self->acks_)[it->second].sequence = pa->Sequence;
        } else if (pae != nullptr) {
          self->last_ack_error_ = pae->ErrText != nullptr && *pae->ErrText != '\0'
                                      ? pae->ErrText
                                      : natsStatus_GetText(pae->Err);
        }
      }
    }
  }
  natsMsg_Destroy(msg);
}

Status EventLog::Publish(const std::vector<OutMessage>& messages,
                         std::vector<uint64_t>* sequences) {
  std::lock_guard publish(publish_mu_);
  const size_t n = messages.size();
  sequences->assign(n, 0);
  if (n == 0) return Status::OK();
  std::vector<PendingAck> acks(n);
  // first[i]: index of the first message with messages[i].id (a batch may
  // repeat an id: it is published once).
  std::vector<size_t> first(n);
  {
    std::lock_guard lock(ack_mu_);
    inflight_.clear();
    for (size_t i = 0; i < n; ++i) {
      if (messages[i].id.empty()) return Status::InvalidArgument("message " + std::to_string(i) + ": empty id");
      first[i] = inflight_.emplace(messages[i].id, i).first->second;
    }
    acks_ = &acks;
    last_ack_error_.clear();
  }
  std::vector<std::string> subjects(n);
  for (size_t i = 0; i < n; ++i) subjects[i] = Subject(messages[i].partition);

  const auto start = Clock::now();
  std::string error;
  int attempt = 0;
  size_t unacked = n;
  for (; attempt < options_.publish_attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.retry_backoff_ms));
    std::vector<size_t> todo;
    {
      std::lock_guard lock(ack_mu_);
      for (size_t i = 0; i < n; ++i) {
        if (first[i] == i && acks[i].sequence == 0) todo.push_back(i);
      }
    }
    if (todo.empty()) break;
    for (size_t i : todo) {
      // No per-message MaxWait: the round's js_PublishAsyncComplete bounds
      // the wait, and the messages still pending after it are taken back
      // (js_PublishAsyncGetPendingList) and re-sent next round.
      natsStatus s = PublishAsync(pub_, subjects[i], messages[i].body, messages[i].id.c_str());
      if (s != NATS_OK) {
        error = "publish: " + NatsError(s);
        break;  // the connection is down or stalled: wait for what is in flight
      }
    }
    jsPubOptions co;
    jsPubOptions_Init(&co);
    co.MaxWait = options_.ack_wait_ms + 1000;
    natsStatus s = js_PublishAsyncComplete(pub_, &co);
    if (s != NATS_OK) {
      error = "waiting for acknowledgements: " + NatsError(s);
      natsMsgList pending{};
      if (js_PublishAsyncGetPendingList(&pending, pub_) == NATS_OK) natsMsgList_Destroy(&pending);
    }
    std::lock_guard lock(ack_mu_);
    unacked = 0;
    for (size_t i = 0; i < n; ++i) {
      if (first[i] == i && acks[i].sequence == 0) ++unacked;
    }
    if (unacked == 0) break;
  }
  std::string ack_error;
  {
    std::lock_guard lock(ack_mu_);
    acks_ = nullptr;
    inflight_.clear();
    ack_error = last_ack_error_;
    for (size_t i = 0; i < n; ++i) (*sequences)[i] = acks[first[i]].sequence;
  }
  if (unacked == 0) return Status::OK();
  return Status::Aborted("no quorum: " + std::to_string(unacked) + " of " + std::to_string(n) +
                         " messages not acknowledged by JetStream after " +
                         std::to_string(options_.publish_attempts) + " attempts over " +
                         std::to_string(MillisSince(start)) + " ms (last error: " +
                         (ack_error.empty() ? error : ack_error) +
                         "); retry the same ids to avoid copies");
}

Status EventLog::PublishRawAsync(const std::vector<OutMessage>& messages, bool with_ids) {
  std::lock_guard publish(publish_mu_);
  for (const OutMessage& om : messages) {
    natsStatus s =
        PublishAsync(raw_pub_, Subject(om.partition), om.body, with_ids ? om.id.c_str() : nullptr);
    if (s != NATS_OK) return Status::Aborted("raw publish: " + NatsError(s));
  }
  jsPubOptions co;
  jsPubOptions_Init(&co);
  co.MaxWait = 30000;
  natsStatus s = js_PublishAsyncComplete(raw_pub_, &co);
  if (s != NATS_OK) return Status::Aborted("raw publish complete: " + NatsError(s));
  return Status::OK();
}

Status EventLog::Erase(uint64_t seq) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_EraseMsg(api_, options_.stream.c_str(), seq, nullptr, &jerr);
  if (s == NATS_OK) return Status::OK();
  if (s == NATS_NOT_FOUND || jerr == JSSequenceNotFoundErr || jerr == JSNoMessageFoundErr) {
    return Status::NotFound("no message " + std::to_string(seq));
  }
  return Status::Aborted("erase message " + std::to_string(seq) + ": " + NatsError(s) +
                         " (js error " + std::to_string(static_cast<int>(jerr)) + ")");
}

StatusOr<std::unique_ptr<LogReader>> EventLog::Follow(uint64_t start_seq, int64_t partition) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Ordered = true;
  so.Stream = options_.stream.c_str();
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = start_seq < 1 ? 1 : start_seq;
  const std::string filter = partition >= 0 ? Subject(static_cast<uint32_t>(partition))
                                            : options_.stream + ".ev.*";
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub, api_, filter.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return Status::Aborted("follow \"" + filter + "\" from " + std::to_string(start_seq) + ": " +
                           NatsError(s));
  }
  // The client buffers up to this much before counting drops (slow consumer).
  natsSubscription_SetPendingLimits(sub, 1 << 20, 512 << 20);
  return std::unique_ptr<LogReader>(new LogReader(sub));
}

}  // namespace recdb::cluster
