// recdb-cluster: operations for recdb over a NATS JetStream log
// (cluster/README.md). `recdb cluster ...` runs this program (the core CLI
// does not link libnats).
//
//   recdb-cluster create-stream --servers URLS [--stream NAME] [--partitions N] [--replicas R]
//   recdb-cluster status        --servers URLS [--stream NAME] [--json]
//   recdb-cluster snapshot      --db DIR --backup-dir DIR [--stream NAME]
//                               [--publish --servers URLS [--own P,P-Q] [--keep N] [--chunk-kib K]]
//   recdb-cluster snapshots     --servers URLS [--stream NAME]: the published snapshots
//   recdb-cluster serve         --servers URLS --db DIR --name NAME [--stream NAME]
//                               [--own P,P-Q] --token-file F|--token T [--port N]
//                               [--trainer] [--follow-models] ...
//   recdb-cluster route         --partitions N --node NAME=PARTS[@ADDR]... USER...
//                               (or --servers URLS [--stream NAME]: the node registry)
//   recdb-cluster router        (--partitions N --node ... | --servers URLS) --token-file F
//                               [--port N]: HTTP, forwards to the owning node
//
// Exit status: 0 success, 1 error (a clear message on stderr), 2 bad usage.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cluster/event_log.h"
#include "cluster/node.h"
#include "cluster/router.h"
#include "cluster/snapshot_ship.h"
#include "cluster/trainer.h"
#include "cluster/serve/node_front.h"
#include "cluster/serve/router_front.h"
#include "recdb/db.h"
#include "recdb/snapshot.h"
#include "tools/serve/http_server.h"

namespace recdb::cluster {
namespace {

constexpr int kOk = 0;
constexpr int kError = 1;
constexpr int kUsage = 2;

const char kUsageText[] =
    "usage: recdb cluster COMMAND [flags]\n"
    "  create-stream --servers URLS [--stream NAME] [--partitions N] [--replicas R]\n"
    "      create the event stream (partitions fixed from then on); an existing stream\n"
    "      with the same partition count is reported, another count is an error\n"
    "  status --servers URLS [--stream NAME] [--json]\n"
    "      the stream (first/last sequence, leader, replicas) and each node that reports\n"
    "      to it: partitions, applied sequence, lag behind the stream's last sequence,\n"
    "      the model version it serves (* = it holds the trainer lock); the trainer lock's\n"
    "      holder and the published model versions\n"
    "  snapshot --db DIR --backup-dir DIR [--stream NAME]\n"
    "      snapshot a STOPPED node's database (a serving node: POST /v1/snapshots) and\n"
    "      print the log position stored in it (a new node bootstraps from it)\n"
    "      --publish --servers URLS [--own PARTS] [--keep N] [--chunk-kib K]: also ship it\n"
    "      through the log (chunks of K KiB, default 512, in a stream of its own, then its\n"
    "      manifest in KV <stream>-snapshots) and keep the newest N published (default 2);\n"
    "      --own: the partitions the database holds (default all)\n"
    "  snapshots --servers URLS [--stream NAME]\n"
    "      list the published snapshots, newest first (what serve --bootstrap takes)\n"
    "  serve --servers URLS --db DIR --name NAME [--stream NAME] [--own PARTS]\n"
    "        (--token-file F | --token T) [--address IP] [--port N] [--threads N]\n"
    "        [--backup-dir DIR] [--max-wait-ms MS] [--partitions N] [--no-create-stream]\n"
    "        [--bootstrap] [--trainer] [--follow-models] [--model-interval-ms MS]\n"
    "        [--train-after N] [--trainer-lease-ms MS]\n"
    "      run a node: follow the log into DIR and serve `recdb serve`'s HTTP API, writes\n"
    "      through the log, reads local with min_sequence=S (cluster/README.md);\n"
    "      --bootstrap: when DIR is absent or empty, start from the newest published\n"
    "      snapshot holding the node's partitions, then the log after it\n"
    "      --trainer: stand for the trainer lock (a lease of MS, default 30000, in KV\n"
    "      <stream>-trainer; choose it above the longest training); while holding it,\n"
    "      every --model-interval-ms (5000) train when the node applied at least N\n"
    "      (--train-after, default 1) log messages past the newest published model, and\n"
    "      publish the model as the next version (KV <stream>-models, newest 2 kept)\n"
    "      --follow-models: while not the trainer, install each newer published version\n"
    "      (checked, then swapped in atomically; the previous one serves until then)\n"
    "      both need a full replica (--own all)\n"
    "  route (--partitions N --node NAME=PARTS[@ADDR]... | --servers URLS [--stream NAME])\n"
    "        USER...\n"
    "      print each user's partition and owning node\n"
    "  router (--partitions N --node NAME=PARTS@ADDR... | --servers URLS [--stream NAME])\n"
    "         (--token-file F | --token T) [--address IP] [--port N] [--threads N]\n"
    "         [--refresh-ms MS] [--max-report-age-ms MS]\n"
    "      an HTTP entry point forwarding each request to a node owning its user, failing\n"
    "      over to another owner; with --servers the table is re-read from the registry\n"
    "      every MS (2000), leaving out nodes silent for longer than --max-report-age-ms\n"
    "      (10000; 0 keeps every registered node)\n"
    "URLS: comma-separated nats://host:port. PARTS: 0-31,40 or all.\n"
    "Exit status: 0 success, 1 error, 2 bad usage.\n";

int Usage(const std::string& why) {
  std::fprintf(stderr, "recdb cluster: %s\n%s", why.c_str(), kUsageText);
  return kUsage;
}

int Fail(const std::string& command, const Status& s) {
  std::fprintf(stderr, "recdb cluster %s: error: %s\n", command.c_str(), s.ToString().c_str());
  return kError;
}

// --flag VALUE pairs (repeatable flags keep every value), switches, and
// positional arguments.
struct Args {
  std::multimap<std::string, std::string> flags;
  std::vector<std::string> positional;
  bool Has(const std::string& k) const { return flags.count(k) > 0; }
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  }
  std::vector<std::string> All(const std::string& k) const {
    std::vector<std::string> out;
    for (auto [a, b] = flags.equal_range(k); a != b; ++a) out.push_back(a->second);
    return out;
  }
};

bool IsSwitch(const std::string& name) {
  return name == "json" || name == "no-create-stream" || name == "allow-remote" ||
         name == "publish" || name == "bootstrap" || name == "trainer" || name == "follow-models";
}

// Parses argv[first..]; returns false (with *why) on a malformed line or a
// flag outside `known`.
bool ParseArgs(int argc, char** argv, int first, const std::vector<std::string>& known, Args* out,
               std::string* why) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      out->positional.push_back(a);
      continue;
    }
    a = a.substr(2);
    std::string value;
    const size_t eq = a.find('=');
    bool has_value = false;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
      a.resize(eq);
      has_value = true;
    }
    bool ok = false;
    for (const std::string& k : known) ok = ok || k == a;
    if (!ok) {
      *why = "unknown flag --" + a;
      return false;
    }
    if (IsSwitch(a)) {
      out->flags.emplace(a, "1");
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        *why = "--" + a + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    out->flags.emplace(a, value);
  }
  return true;
}

bool ParseUint(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtoull(s.c_str(), &end, 10);
  return end == s.c_str() + s.size() && s[0] != '-';
}

StatusOr<LogOptions> LogOptionsFrom(const Args& args) {
  LogOptions o;
  o.servers = args.Get("servers");
  if (o.servers.empty()) return Status::InvalidArgument("--servers URLS is required");
  o.stream = args.Get("stream", "recdb");
  if (!ValidName(o.stream)) {
    return Status::InvalidArgument("--stream \"" + o.stream + "\": want [A-Za-z0-9_-]{1,64}");
  }
  uint64_t n = 0;
  if (args.Has("partitions")) {
    if (!ParseUint(args.Get("partitions"), &n) || n == 0 || n > 4096) {
      return Status::InvalidArgument("--partitions: want 1..4096");
    }
    o.partitions = static_cast<uint32_t>(n);
  }
  if (args.Has("replicas")) {
    if (!ParseUint(args.Get("replicas"), &n) || n == 0 || n > 5) {
      return Status::InvalidArgument("--replicas: want 1..5");
    }
    o.replicas = static_cast<int>(n);
  }
  // Operations answer quickly when nothing is reachable.
  o.connect_timeout_ms = 2000;
  return o;
}

// --- create-stream ------------------------------------------------------------

int CreateStream(int argc, char** argv) {
  Args args;
  std::string why;
  if (!ParseArgs(argc, argv, 2, {"servers", "stream", "partitions", "replicas"}, &args, &why)) {
    return Usage(why);
  }
  StatusOr<LogOptions> o = LogOptionsFrom(args);
  if (!o.ok()) return Usage(o.status().message());
  StatusOr<std::unique_ptr<EventLog>> log = EventLog::Connect(*o);
  if (!log.ok()) return Fail("create-stream", log.status());
  StatusOr<StreamIdentity> before = (*log)->Describe(o->api_timeout_ms);
  if (before.ok()) {
    if (args.Has("partitions") && before->partitions != o->partitions) {
      return Fail("create-stream",
                  Status::AlreadyExists("stream \"" + o->stream + "\" exists with " +
                                        std::to_string(before->partitions) + " partitions, not " +
                                        std::to_string(o->partitions) +
                                        " (the count is fixed at creation)"));
    }
    std::printf("stream %s exists: partitions %u replicas %d last_sequence %llu\n",
                o->stream.c_str(), before->partitions, before->replicas,
                static_cast<unsigned long long>(before->last_seq));
    return kOk;
  }
  if (!before.status().IsNotFound()) return Fail("create-stream", before.status());
  StatusOr<StreamIdentity> id = (*log)->OpenStream(/*create=*/true);
  if (!id.ok()) return Fail("create-stream", id.status());
  std::printf("stream %s created: partitions %u replicas %d subjects %s.ev.<partition>\n",
              o->stream.c_str(), id->partitions, id->replicas, o->stream.c_str());
  return kOk;
}

// --- status --------------------------------------------------------------------

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

int StatusCmd(int argc, char** argv) {
  Args args;
  std::string why;
  if (!ParseArgs(argc, argv, 2, {"servers", "stream", "json"}, &args, &why)) return Usage(why);
  StatusOr<LogOptions> o = LogOptionsFrom(args);
  if (!o.ok()) return Usage(o.status().message());
  StatusOr<std::unique_ptr<EventLog>> log = EventLog::Connect(*o);
  if (!log.ok()) return Fail("status", log.status());
  StatusOr<StreamIdentity> id = (*log)->Describe(o->api_timeout_ms);
  if (!id.ok()) return Fail("status", id.status());
  StatusOr<std::vector<std::pair<std::string, std::string>>> nodes = (*log)->ReadNodeStatuses();
  if (!nodes.ok()) return Fail("status", nodes.status());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::vector<bool> covered(id->partitions, false);
  struct Row {
    std::string name;
    NodeReport r;
    std::string problem;
  };
  std::vector<Row> rows;
  for (const auto& [name, value] : *nodes) {
    Row row{name, {}, ""};
    Status s = ParseNodeReport(value, &row.r);
    if (!s.ok()) row.problem = s.message();
    for (uint32_t p : row.r.owned) {
      if (p < covered.size()) covered[p] = true;
    }
    rows.push_back(std::move(row));
  }
  std::vector<uint32_t> uncovered;
  for (uint32_t p = 0; p < covered.size(); ++p) {
    if (!covered[p]) uncovered.push_back(p);
  }
  const bool quorum = !id->leader.empty() && id->healthy_replicas > id->replicas / 2;
  // The trainer (trainer.h): who holds the lock, the published models of
  // this stream (not of an earlier stream of the same name).
  StatusOr<std::string> holder = TrainerLock(log->get(), {.candidate = "status"}).Holder();
  if (!holder.ok()) return Fail("status", holder.status());
  StatusOr<std::vector<ModelManifest>> all_models = ListPublishedModels(log->get());
  if (!all_models.ok()) return Fail("status", all_models.status());
  std::vector<ModelManifest> models;
  for (const ModelManifest& m : *all_models) {
    if (m.created_ns == id->created_ns && m.partitions == id->partitions) models.push_back(m);
  }
  if (args.Has("json")) {
    std::string j = "{\"stream\":\"" + JsonEscape(o->stream) +
                    "\",\"partitions\":" + std::to_string(id->partitions) +
                    ",\"first_sequence\":" + std::to_string(id->first_seq) +
                    ",\"last_sequence\":" + std::to_string(id->last_seq) + ",\"leader\":\"" +
                    JsonEscape(id->leader) + "\",\"healthy_replicas\":" +
                    std::to_string(id->healthy_replicas) +
                    ",\"replicas\":" + std::to_string(id->replicas) +
                    ",\"quorum\":" + (quorum ? "true" : "false") + ",\"uncovered\":\"" +
                    FormatPartitionSet(uncovered) + "\",\"trainer_lock\":\"" +
                    JsonEscape(*holder) + "\",\"models\":[";
    for (size_t i = 0; i < models.size(); ++i) {
      j += std::string(i ? "," : "") + "{\"version\":" + std::to_string(models[i].version) +
           ",\"position\":" + std::to_string(models[i].position) + ",\"trainer\":\"" +
           JsonEscape(models[i].trainer) + "\",\"bytes\":" + std::to_string(models[i].bytes) +
           "}";
    }
    j += "],\"nodes\":[";
    for (size_t i = 0; i < rows.size(); ++i) {
      const NodeReport& r = rows[i].r;
      const uint64_t lag = id->last_seq > r.applied ? id->last_seq - r.applied : 0;
      j += std::string(i ? "," : "") + "{\"name\":\"" + JsonEscape(rows[i].name) +
           "\",\"owned\":\"" + FormatPartitionSet(r.owned) +
           "\",\"applied\":" + std::to_string(r.applied) + ",\"lag\":" + std::to_string(lag) +
           ",\"report_age_ms\":" + std::to_string(now_ms - r.updated_ms) + ",\"address\":\"" +
           JsonEscape(r.address) + "\",\"stored\":" + std::to_string(r.stored) +
           ",\"dropped_forgotten\":" + std::to_string(r.dropped_forgotten) +
           ",\"model_version\":" + std::to_string(r.model_version) +
           ",\"trainer\":" + (r.trainer ? "true" : "false") + ",\"error\":\"" +
           JsonEscape(rows[i].problem.empty() ? r.error : rows[i].problem) + "\"}";
    }
    j += "]}";
    std::printf("%s\n", j.c_str());
    return kOk;
  }
  std::printf("stream %s: partitions %u, sequences %llu..%llu, leader %s, %d of %d replicas "
              "healthy%s\n",
              o->stream.c_str(), id->partitions, static_cast<unsigned long long>(id->first_seq),
              static_cast<unsigned long long>(id->last_seq),
              id->leader.empty() ? "(none)" : id->leader.c_str(), id->healthy_replicas,
              id->replicas, quorum ? "" : " (NO QUORUM: writes fail)");
  if (rows.empty()) {
    std::printf("no node has reported (nodes report when started with a name: "
                "recdb cluster serve --name)\n");
  } else {
    std::printf("%-16s %-12s %12s %10s %10s %7s  %-21s %s\n", "node", "partitions", "applied",
                "lag", "report_age", "model", "address", "error");
    for (const Row& row : rows) {
      const NodeReport& r = row.r;
      const uint64_t lag = id->last_seq > r.applied ? id->last_seq - r.applied : 0;
      const std::string model = (r.model_version == 0 ? std::string("-")
                                                      : "v" + std::to_string(r.model_version)) +
                                (r.trainer ? "*" : "");
      std::printf("%-16s %-12s %12llu %10llu %9llds %7s  %-21s %s\n", row.name.c_str(),
                  FormatPartitionSet(r.owned).c_str(), static_cast<unsigned long long>(r.applied),
                  static_cast<unsigned long long>(lag),
                  static_cast<long long>((now_ms - r.updated_ms) / 1000), model.c_str(),
                  r.address.empty() ? "-" : r.address.c_str(),
                  row.problem.empty() ? r.error.c_str() : row.problem.c_str());
    }
  }
  if (!uncovered.empty()) {
    std::printf("partitions no reporting node owns: %s\n", FormatPartitionSet(uncovered).c_str());
  }
  // model: the version a node serves (installed through the log), * = it
  // holds the trainer lock.
  std::printf("trainer lock: %s; published models:", holder->empty() ? "(free)" : holder->c_str());
  if (models.empty()) std::printf(" none");
  for (const ModelManifest& m : models) {
    std::printf(" v%llu (position %llu, by %s)", static_cast<unsigned long long>(m.version),
                static_cast<unsigned long long>(m.position), m.trainer.c_str());
  }
  std::printf("\n");
  return kOk;
}

// --- snapshot ------------------------------------------------------------------

int SnapshotCmd(int argc, char** argv) {
  Args args;
  std::string why;
  if (!ParseArgs(argc, argv, 2,
                 {"db", "backup-dir", "stream", "publish", "servers", "own", "keep", "chunk-kib"},
                 &args, &why)) {
    return Usage(why);
  }
  if (!args.Has("db") || !args.Has("backup-dir")) return Usage("--db and --backup-dir are required");
  const bool publish = args.Has("publish");
  ShipOptions ship;
  std::vector<uint32_t> owned;
  LogOptions lo;
  if (publish) {
    StatusOr<LogOptions> o = LogOptionsFrom(args);
    if (!o.ok()) return Usage(o.status().message());
    lo = *o;
    uint64_t n = 0;
    if (!ParseUint(args.Get("keep", "2"), &n) || n < 1 || n > 1000) {
      return Usage("--keep: want 1..1000");
    }
    ship.keep = static_cast<int>(n);
    if (!ParseUint(args.Get("chunk-kib", "512"), &n) || n < 1 || n > 1000) {
      return Usage("--chunk-kib: want 1..1000 (below the server's 1 MiB max payload)");
    }
    ship.chunk_bytes = n << 10;
    if (args.Has("own") && args.Get("own") != "all") {
      Status s = ParsePartitionSet(args.Get("own"), &owned);
      if (!s.ok() || owned.empty()) return Usage("--own: " + s.message());
    }
  } else if (args.Has("servers") || args.Has("own") || args.Has("keep") || args.Has("chunk-kib")) {
    return Usage("--servers, --own, --keep and --chunk-kib go with --publish");
  }
  const std::string stream = args.Get("stream", "recdb");
  const std::string key = "cluster/" + stream;
  Options opts;
  opts.create_if_missing = false;
  opts.background_threads = 1;
  StatusOr<std::unique_ptr<DB>> db = DB::Open(opts, args.Get("db"));
  if (!db.ok()) {
    const std::string m = db.status().ToString();
    if (m.find("LOCK") != std::string::npos) {
      return Fail("snapshot", Status::FailedPrecondition(
                                  args.Get("db") +
                                  " is open in another process (a running node): stop it, or "
                                  "take the snapshot through its HTTP API (POST /v1/snapshots)"));
    }
    return Fail("snapshot", db.status());
  }
  StatusOr<std::string> pos = (*db)->GetAppliedPosition(key);
  if (!pos.ok()) {
    (void)(*db)->Close();
    if (pos.status().IsNotFound()) {
      return Fail("snapshot", Status::NotFound(args.Get("db") + " holds no position of stream \"" +
                                               stream + "\" (not a node of it, or it applied "
                                               "nothing yet)"));
    }
    return Fail("snapshot", pos.status());
  }
  if (publish) {
    // Users forgotten before the snapshot leave no bytes in what is shipped.
    StatusOr<SweepReport> swept = (*db)->SweepRetention();
    if (!swept.ok()) {
      (void)(*db)->Close();
      return Fail("snapshot", swept.status());
    }
  }
  StatusOr<SnapshotInfo> info = (*db)->CreateSnapshot(args.Get("backup-dir"));
  Status closed = (*db)->Close();
  if (!info.ok()) return Fail("snapshot", info.status());
  if (!closed.ok()) return Fail("snapshot", closed);
  // The position inside the snapshot itself (it is committed with the data).
  Options ro;
  ro.read_only = true;
  ro.create_if_missing = false;
  ro.background_threads = 1;
  StatusOr<std::unique_ptr<DB>> snap = DB::Open(ro, info->path);
  if (!snap.ok()) return Fail("snapshot", snap.status());
  StatusOr<std::string> snap_pos = (*snap)->GetAppliedPosition(key);
  (void)(*snap)->Close();
  if (!snap_pos.ok()) return Fail("snapshot", snap_pos.status());
  unsigned long long seq = 0;
  std::sscanf(snap_pos->c_str(), "v1 seq=%llu", &seq);
  std::printf("snapshot %s applied %llu position \"%s\" files %llu bytes %llu\n",
              info->path.c_str(), seq, snap_pos->c_str(),
              static_cast<unsigned long long>(info->files),
              static_cast<unsigned long long>(info->bytes));
  if (!publish) return kOk;
  std::fflush(stdout);
  StatusOr<std::unique_ptr<EventLog>> log = EventLog::Connect(lo);
  if (!log.ok()) return Fail("snapshot", log.status());
  StatusOr<StreamIdentity> id = (*log)->OpenStream(/*create=*/false);
  if (!id.ok()) return Fail("snapshot", id.status());
  StatusOr<ShippedManifest> m = PublishSnapshotDir(log->get(), *id, info->path, owned, ship);
  if (!m.ok()) return Fail("snapshot", m.status());
  std::printf("published %s position %llu partitions %s files %zu chunks %llu bytes %llu "
              "(stream %s, manifest in KV %s-snapshots)\n",
              m->id.c_str(), static_cast<unsigned long long>(m->position),
              FormatPartitionSet(m->owned).c_str(), m->files.size(),
              static_cast<unsigned long long>(m->chunks),
              static_cast<unsigned long long>(m->bytes),
              SnapshotStreamName(stream, m->id).c_str(), stream.c_str());
  return kOk;
}

// --- snapshots -----------------------------------------------------------------

int SnapshotsCmd(int argc, char** argv) {
  Args args;
  std::string why;
  if (!ParseArgs(argc, argv, 2, {"servers", "stream"}, &args, &why)) return Usage(why);
  StatusOr<LogOptions> o = LogOptionsFrom(args);
  if (!o.ok()) return Usage(o.status().message());
  StatusOr<std::unique_ptr<EventLog>> log = EventLog::Connect(*o);
  if (!log.ok()) return Fail("snapshots", log.status());
  StatusOr<StreamIdentity> id = (*log)->OpenStream(/*create=*/false);
  if (!id.ok()) return Fail("snapshots", id.status());
  StatusOr<std::vector<ShippedManifest>> all = ListShippedSnapshots(log->get());
  if (!all.ok()) return Fail("snapshots", all.status());
  std::printf("stream %s first_sequence %llu last_sequence %llu: %zu published snapshots\n",
              o->stream.c_str(), static_cast<unsigned long long>(id->first_seq),
              static_cast<unsigned long long>(id->last_seq), all->size());
  for (const ShippedManifest& m : *all) {
    const bool usable = m.created_ns == id->created_ns && m.partitions == id->partitions &&
                        m.position + 1 >= id->first_seq;
    std::printf("%s position %llu partitions %s files %zu chunks %llu bytes %llu%s\n",
                m.id.c_str(), static_cast<unsigned long long>(m.position),
                FormatPartitionSet(m.owned).c_str(), m.files.size(),
                static_cast<unsigned long long>(m.chunks),
                static_cast<unsigned long long>(m.bytes),
                usable ? "" : " UNUSABLE (older than the stream's first sequence, or another stream)");
  }
  return kOk;
}

// --- serve ---------------------------------------------------------------------

StatusOr<std::string> ReadToken(const Args& args) {
  std::string token;
  if (args.Has("token") == args.Has("token-file")) {
    return Status::InvalidArgument("give one of --token T or --token-file FILE");
  }
  if (args.Has("token")) {
    token = args.Get("token");
  } else {
    std::ifstream in(args.Get("token-file"));
    if (!in) return Status::IOError("cannot read --token-file " + args.Get("token-file"));
    std::getline(in, token);
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < 16) return Status::InvalidArgument("the bearer token must be >= 16 bytes");
  return token;
}

// The HTTP flags serve and router share: --address, --port, --threads,
// --allow-remote and the token; checked as `recdb serve` checks them.
StatusOr<serve::ServerOptions> ServerOptionsFrom(const Args& args) {
  StatusOr<std::string> token = ReadToken(args);
  if (!token.ok()) return token.status();
  serve::ServerOptions so;
  so.address = args.Get("address", "127.0.0.1");
  uint64_t n = 0;
  if (!ParseUint(args.Get("port", "0"), &n) || n > 65535) {
    return Status::InvalidArgument("--port: want 0..65535");
  }
  so.port = static_cast<uint16_t>(n);
  if (!ParseUint(args.Get("threads", "2"), &n)) return Status::InvalidArgument("--threads: want a number");
  so.threads = static_cast<int>(n);
  so.allow_remote = args.Has("allow-remote");
  so.token = *token;
  so.handle_signals = true;
  RECDB_RETURN_IF_ERROR(serve::HttpServer::CheckOptions(so));
  return so;
}

int Serve(int argc, char** argv) {
  Args args;
  std::string why;
  if (!ParseArgs(argc, argv, 2,
                 {"servers", "stream", "partitions", "replicas", "db", "name", "own", "token",
                  "token-file", "address", "port", "threads", "backup-dir", "max-wait-ms",
                  "no-create-stream", "allow-remote", "bootstrap", "trainer", "follow-models",
                  "model-interval-ms", "train-after", "trainer-lease-ms"},
                 &args, &why)) {
    return Usage(why);
  }
  StatusOr<LogOptions> lo = LogOptionsFrom(args);
  if (!lo.ok()) return Usage(lo.status().message());
  if (!args.Has("db") || !args.Has("name")) return Usage("--db and --name are required");
  StatusOr<serve::ServerOptions> server_options = ServerOptionsFrom(args);
  if (!server_options.ok()) return Usage(server_options.status().message());
  serve::ServerOptions so = std::move(server_options).value();
  so.backup_dir = args.Get("backup-dir");
  NodeOptions no;
  no.log = *lo;
  no.db_path = args.Get("db");
  no.name = args.Get("name");
  if (!ValidName(no.name)) return Usage("--name: want [A-Za-z0-9_-]{1,64}");
  no.create_stream = !args.Has("no-create-stream");
  no.db_options.background_threads = 1;
  if (args.Has("own") && args.Get("own") != "all") {
    Status s = ParsePartitionSet(args.Get("own"), &no.owned);
    if (!s.ok() || no.owned.empty()) return Usage("--own: " + s.message());
  }
  uint64_t n = 0;
  if (!ParseUint(args.Get("max-wait-ms", "30000"), &n)) return Usage("--max-wait-ms: want a number");
  const int max_wait_ms = static_cast<int>(n);
  // The model loop (trainer.h): --trainer and/or --follow-models.
  ModelLoopOptions mo;
  mo.train = args.Has("trainer");
  mo.follow = args.Has("follow-models");
  mo.candidate = no.name;
  // The trainer serves requests too: its training yields to them (nice +10,
  // one core left to serving), as `recdb serve`'s scheduled retrains do.
  mo.train_options.low_priority = true;
  if (mo.train || mo.follow) {
    if (!no.owned.empty()) {
      return Usage("--trainer and --follow-models need a full replica (--own all): a model "
                   "names items by the trainer's internal ids");
    }
    if (!ParseUint(args.Get("model-interval-ms", "5000"), &n) || n < 10 || n > 86400000) {
      return Usage("--model-interval-ms: want 10..86400000");
    }
    mo.interval_ms = static_cast<int>(n);
    if (!ParseUint(args.Get("train-after", "1"), &n) || n < 1) {
      return Usage("--train-after: want a number >= 1");
    }
    mo.train_after = n;
    if (!ParseUint(args.Get("trainer-lease-ms", "30000"), &n) || n < 1000 || n > 86400000) {
      return Usage("--trainer-lease-ms: want 1000..86400000");
    }
    mo.ttl_ms = static_cast<int64_t>(n);
  } else if (args.Has("model-interval-ms") || args.Has("train-after") ||
             args.Has("trainer-lease-ms")) {
    return Usage("--model-interval-ms, --train-after and --trainer-lease-ms go with --trainer "
                 "or --follow-models");
  }

  std::error_code ec;
  const bool empty_dir =
      !std::filesystem::exists(no.db_path, ec) || std::filesystem::is_empty(no.db_path, ec);
  StatusOr<std::unique_ptr<ClusterNode>> node =
      args.Has("bootstrap") && empty_dir ? ClusterNode::BootstrapFromPublishedSnapshot(no)
                                         : ClusterNode::Open(no);
  if (!node.ok()) return Fail("serve", node.status());
  std::unique_ptr<ModelLoop> models;
  NodeFront front(node->get(), no.name, max_wait_ms);
  so.front = [&front](serve::ApiService& service, std::string_view method,
                      std::string_view target, std::string_view body) {
    return front.Answer(service, method, target, body);
  };
  StatusOr<std::unique_ptr<serve::HttpServer>> server = serve::HttpServer::Start((*node)->db(), so);
  if (!server.ok()) return Fail("serve", server.status());
  const std::string address = (*server)->address() + ":" + std::to_string((*server)->port());
  (*node)->SetAddress(address);
  Status s = (*node)->Start();
  if (!s.ok()) return Fail("serve", s);
  if (mo.train || mo.follow) {
    StatusOr<std::unique_ptr<ModelLoop>> loop = ModelLoop::Start(node->get(), mo);
    if (!loop.ok()) return Fail("serve", loop.status());
    models = std::move(loop).value();
    front.SetModelLoop(models.get());
  }
  // In the registry before announcing readiness (status and router see it).
  s = (*node)->ReportNow();
  if (!s.ok()) {
    std::fprintf(stderr, "recdb cluster serve: warning: not in the node registry yet: %s\n",
                 s.ToString().c_str());
  }
  std::printf("{\"address\":\"%s\",\"port\":%u,\"node\":\"%s\",\"stream\":\"%s\","
              "\"partitions\":%u,\"owned\":\"%s\",\"applied\":%llu,\"trainer\":%s,"
              "\"follow_models\":%s,\"model_version\":%llu}\n",
              (*server)->address().c_str(), static_cast<unsigned>((*server)->port()),
              no.name.c_str(), no.log.stream.c_str(), (*node)->partitions(),
              FormatPartitionSet((*node)->owned()).c_str(),
              static_cast<unsigned long long>((*node)->applied_sequence()),
              mo.train ? "true" : "false", mo.follow ? "true" : "false",
              static_cast<unsigned long long>((*node)->Report().model_version));
  std::fflush(stdout);
  (*server)->Wait();  // until SIGINT/SIGTERM; requests in flight finish
  server->reset();
  front.SetModelLoop(nullptr);
  if (models != nullptr) models->Stop();  // releases the trainer lock at once
  models.reset();
  s = (*node)->Close();
  if (!s.ok()) return Fail("serve", s);
  return kOk;
}

// --- route ---------------------------------------------------------------------

// The routing table: --partitions N and --node specs, or the node registry
// of --servers/--stream. *usage: the error is the command line's.
// The routing table from the node registry: every node that reported, or
// with max_age_ms > 0 only those whose last report is at most that old by
// this machine's clock (a stopped node stops reporting and leaves the table).
StatusOr<Router> RouterFromRegistry(EventLog& log, uint32_t partitions, const std::string& stream,
                                    int64_t max_age_ms) {
  RECDB_ASSIGN_OR_RETURN(auto reports, log.ReadNodeStatuses());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::vector<RouteNode> nodes;
  for (const auto& [name, value] : reports) {
    NodeReport r;
    if (!ParseNodeReport(value, &r).ok()) continue;
    if (max_age_ms > 0 && now_ms - r.updated_ms > max_age_ms) continue;
    nodes.push_back(RouteNode{name, r.owned, r.address});
  }
  if (nodes.empty()) {
    return Status::NotFound("no node of stream \"" + stream + "\" has reported" +
                            (max_age_ms > 0 ? " in the last " + std::to_string(max_age_ms) + " ms"
                                            : std::string()));
  }
  return Router::Create(partitions, std::move(nodes));
}

// The table from --servers (the registry) or --partitions and --node specs.
// With `refresh` (registry only) also how to re-read it: nodes whose report
// is older than `max_age_ms` are left out (0: none).
StatusOr<Router> RouterFrom(const Args& args, bool* usage, RouterFront::Refresh* refresh = nullptr,
                            int64_t max_age_ms = 0) {
  std::vector<RouteNode> nodes;
  uint32_t partitions = 0;
  *usage = true;
  if (args.Has("servers")) {
    RECDB_ASSIGN_OR_RETURN(LogOptions o, LogOptionsFrom(args));
    *usage = false;
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> connected, EventLog::Connect(o));
    std::shared_ptr<EventLog> log = std::move(connected);
    RECDB_ASSIGN_OR_RETURN(StreamIdentity id, log->Describe(o.api_timeout_ms));
    if (refresh != nullptr) {
      *refresh = [log, partitions = id.partitions, stream = o.stream, max_age_ms] {
        return RouterFromRegistry(*log, partitions, stream, max_age_ms);
      };
    }
    return RouterFromRegistry(*log, id.partitions, o.stream, max_age_ms);
  } else {
    uint64_t n = 0;
    if (!ParseUint(args.Get("partitions"), &n) || n == 0 || n > 4096) {
      return Status::InvalidArgument("--partitions N (1..4096) and --node specs, or --servers");
    }
    partitions = static_cast<uint32_t>(n);
    for (const std::string& spec : args.All("node")) {
      RECDB_ASSIGN_OR_RETURN(RouteNode rn, Router::ParseNodeSpec(spec, partitions));
      nodes.push_back(rn);
    }
    if (nodes.empty()) return Status::InvalidArgument("give at least one --node NAME=PARTS[@ADDR]");
  }
  return Router::Create(partitions, nodes);
}

int Route(int argc, char** argv) {
  Args args;
  std::string why;
  if (!ParseArgs(argc, argv, 2, {"partitions", "node", "servers", "stream"}, &args, &why)) {
    return Usage(why);
  }
  if (args.positional.empty()) return Usage("route: give at least one USER");
  bool usage = false;
  StatusOr<Router> router = RouterFrom(args, &usage);
  if (!router.ok()) return usage ? Usage(router.status().message()) : Fail("route", router.status());
  int rc = kOk;
  for (const std::string& user : args.positional) {
    StatusOr<const RouteNode*> r = router->Route(user);
    if (!r.ok()) {
      std::fprintf(stderr, "recdb cluster route: error: %s\n", r.status().message().c_str());
      rc = kError;
      continue;
    }
    std::printf("%s partition %u node %s%s%s\n", user.c_str(), router->PartitionOf(user),
                (*r)->name.c_str(), (*r)->address.empty() ? "" : " address ",
                (*r)->address.c_str());
  }
  return rc;
}

// --- router (HTTP) ---------------------------------------------------------------

int RouterCmd(int argc, char** argv) {
  Args args;
  std::string why;
  if (!ParseArgs(argc, argv, 2,
                 {"partitions", "node", "servers", "stream", "token", "token-file", "address",
                  "port", "threads", "allow-remote", "refresh-ms", "max-report-age-ms"},
                 &args, &why)) {
    return Usage(why);
  }
  StatusOr<serve::ServerOptions> server_options = ServerOptionsFrom(args);
  if (!server_options.ok()) return Usage(server_options.status().message());
  serve::ServerOptions so = std::move(server_options).value();
  uint64_t refresh_ms = 0, max_age_ms = 0;
  if (!ParseUint(args.Get("refresh-ms", "2000"), &refresh_ms) || refresh_ms == 0) {
    return Usage("--refresh-ms: want a number > 0");
  }
  if (!ParseUint(args.Get("max-report-age-ms", "10000"), &max_age_ms)) {
    return Usage("--max-report-age-ms: want a number");
  }
  bool usage = false;
  RouterFront::Refresh refresh;
  StatusOr<Router> router =
      RouterFrom(args, &usage, &refresh, static_cast<int64_t>(max_age_ms));
  if (!router.ok()) {
    return usage ? Usage(router.status().message()) : Fail("router", router.status());
  }
  RouterFront front(*router, so.token, refresh, static_cast<int64_t>(refresh_ms));
  so.front = [&front](serve::ApiService&, std::string_view method, std::string_view target,
                      std::string_view body) { return front.Answer(method, target, body); };
  // No database: the front answers every request itself.
  StatusOr<std::unique_ptr<serve::HttpServer>> server = serve::HttpServer::Start(nullptr, so);
  if (!server.ok()) return Fail("router", server.status());
  std::printf("{\"address\":\"%s\",\"port\":%u,\"role\":\"router\",\"nodes\":%zu,"
              "\"uncovered\":\"%s\"}\n",
              (*server)->address().c_str(), static_cast<unsigned>((*server)->port()),
              router->nodes().size(), FormatPartitionSet(router->uncovered()).c_str());
  std::fflush(stdout);
  (*server)->Wait();
  return kOk;
}

}  // namespace
}  // namespace recdb::cluster

int main(int argc, char** argv) {
  using namespace recdb::cluster;
  if (argc < 2) return Usage("give a command");
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::printf("%s", kUsageText);
    return kOk;
  }
  if (cmd == "create-stream") return CreateStream(argc, argv);
  if (cmd == "status") return StatusCmd(argc, argv);
  if (cmd == "snapshot") return SnapshotCmd(argc, argv);
  if (cmd == "snapshots") return SnapshotsCmd(argc, argv);
  if (cmd == "serve") return Serve(argc, argv);
  if (cmd == "route") return Route(argc, argv);
  if (cmd == "router") return RouterCmd(argc, argv);
  return Usage("unknown command \"" + cmd + "\"");
}
