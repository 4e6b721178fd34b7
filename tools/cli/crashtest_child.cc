// The crash test's child: runs a seeded random mix of writes (events, item and
// user upserts, event types, vectors put/deleted, Train, ForgetUser,
// SweepRetention) against DIR and
// logs each in the expected-state log (intent before the call, ack after it
// returns OK) until it is killed or has done `max_ops` operations.
#include "tools/cli/crashtest_child.h"

#include <cstdio>
#include <random>

#include "recdb/db.h"
#include "tools/cli/crashtest_model.h"

namespace recdb::cli::crashtest {
namespace {

class Workload {
 public:
  Workload(DB* db, ExpectedLog* log, const ChildConfig& cfg)
      : db_(db), log_(log), cfg_(cfg), rng_(cfg.seed * 1000003ull + cfg.cycle) {
    wo_.sync = cfg.sync;
  }

  // Runs operations until max_ops; returns the first unexpected error.
  Status Run() {
    for (int64_t n = 0; n < cfg_.max_ops; ++n) {
      const std::string op = "c" + std::to_string(cfg_.cycle) + "." + std::to_string(n);
      // A version unique over the whole run: cycle-major.
      const int64_t version = cfg_.cycle * 10'000'000 + n;
      const int r = Uniform(100);
      Status s;
      if (r < 50) {
        s = Events(op);
      } else if (r < 65) {
        s = UpsertItem(op, version);
      } else if (r < 75) {
        s = UpsertUser(op, version);
      } else if (r < 77) {
        s = RegisterType(op);
      } else if (r < 78) {
        s = Train(op);
      } else if (r < 86) {
        s = PutVector(op, version);
      } else if (r < 88) {
        s = DeleteVector(op);
      } else if (r < 89) {
        s = Forget(op);
      } else if (r < 90) {
        s = Sweep(op);
      } else {
        s = Read();
      }
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  int Uniform(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  // Logs the intent, runs `call`, logs its outcome. A non-OK result of the
  // call is logged and returned: without injected faults, every op here is
  // valid and must succeed.
  template <typename Call>
  Status Logged(const std::string& op, const std::string& what, Call&& call) {
    RECDB_RETURN_IF_ERROR(log_->Intent(op, what));
    Status s = call();
    if (!s.ok()) {
      log_->Fail(op, s.ToString()).IgnoreError();
      return s.WithContext("op " + op + " (" + what + ")");
    }
    return log_->Ack(op);
  }

  Status Events(const std::string& op) {
    const int n = 1 + Uniform(8);
    std::vector<Event> events;
    std::string what = "E " + std::to_string(n);
    for (int j = 0; j < n; ++j) {
      Event e;
      e.user = UserId(Uniform(kUsers));
      e.item = ItemId(Uniform(kItems));
      e.type = kEventTypes[Uniform(registered_share_ ? 5 : 4)];
      e.timestamp = kBaseTimestamp + Uniform(86400 * 30);
      e.context["op"] = op + "/" + std::to_string(j);
      what += " " + e.user + " " + e.item + " " + e.type + " " + std::to_string(e.timestamp);
      events.push_back(std::move(e));
    }
    return Logged(op, what, [&] { return db_->RecordEvents(wo_, events); });
  }

  Status UpsertItem(const std::string& op, int64_t version) {
    const std::string id = ItemId(Uniform(kItems));
    return Logged(op, "ITEM " + id + " " + std::to_string(version),
                  [&] { return db_->UpsertItems(wo_, {MakeItem(id, version)}); });
  }

  Status UpsertUser(const std::string& op, int64_t version) {
    const std::string id = UserId(Uniform(kUsers));
    return Logged(op, "USER " + id + " " + std::to_string(version),
                  [&] { return db_->UpsertUsers(wo_, {MakeUser(id, version)}); });
  }

  Status RegisterType(const std::string& op) {
    const int weight = 1 + Uniform(5);
    Status s = Logged(op, "ET crash_share " + std::to_string(weight), [&] {
      return db_->RegisterEventType(EventType{"crash_share", static_cast<double>(weight)});
    });
    if (s.ok()) registered_share_ = true;
    return s;
  }

  Status Train(const std::string& op) {
    return Logged(op, "TRAIN", [&]() -> Status {
      TrainOptions to;
      to.learn_weights = false;
      to.ials_factors = 8;
      to.ials_iterations = 2;
      to.threads = 1;
      auto report = db_->Train(to);
      // Nothing to train on yet is not a failure of the database.
      if (!report.ok() && report.status().code() != StatusCode::kFailedPrecondition) return report.status();
      return Status::OK();
    });
  }

  Status EnsureSpace() {
    if (space_ready_) return Status::OK();
    auto info = db_->DescribeSpace(kSpaceName);
    if (info.ok()) {
      space_ready_ = true;
      return Status::OK();
    }
    if (!info.status().IsNotFound()) return info.status();
    SpaceOptions so;
    so.name = kSpaceName;
    so.dimension = kVectorDim;
    so.metric = Metric::kCosine;
    so.hnsw_m = 8;
    so.hnsw_ef_construction = 64;
    Status s = db_->CreateSpace(so);
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
    space_ready_ = true;
    return Status::OK();
  }

  // Vectors go to items that exist: an item gets its vector only after an
  // acknowledged upsert or event made it exist.
  Status PutVector(const std::string& op, int64_t version) {
    RECDB_RETURN_IF_ERROR(EnsureSpace());
    const std::string id = ItemId(Uniform(kItems));
    if (!db_->GetItem(id).ok()) return Status::OK();
    return Logged(op, "VEC " + id + " " + std::to_string(version), [&] {
      return db_->PutVectors(wo_, kSpaceName, EntityKind::kItem,
                             {VectorRecord{id, MakeVector(id, version)}});
    });
  }

  Status DeleteVector(const std::string& op) {
    RECDB_RETURN_IF_ERROR(EnsureSpace());
    const std::string id = ItemId(Uniform(kItems));
    return Logged(op, "VDEL " + id,
                  [&] { return db_->DeleteVectors(wo_, kSpaceName, EntityKind::kItem, {id}); });
  }

  // Forgets a user that exists, then takes them off the forget ledger at
  // once (untracked: the ledger only makes later writes of the id be dropped,
  // which the workload must not see), so later ops may record them again. A
  // kill between the two leaves the id in the ledger; the next child's
  // ClearLedger() removes it before its first write.
  Status Forget(const std::string& op) {
    const std::string id = UserId(Uniform(kUsers));
    if (!db_->GetUser(id).ok()) return Status::OK();
    RECDB_RETURN_IF_ERROR(Logged(op, "FORGET " + id, [&] { return db_->ForgetUser(id).status(); }));
    return db_->UnforgetUser(id);
  }

  // Runs the retention sweep (flush, compactions, index checkpoints, WAL and
  // MANIFEST rotation). No retention rule is set, so it deletes nothing the
  // verifier tracks; a kill inside it must leave every acknowledged write.
  Status Sweep(const std::string& op) {
    return Logged(op, "SWEEP", [&] { return db_->SweepRetention().status(); });
  }

 public:
  Status ClearLedger() {
    for (int u = 0; u < kUsers; ++u) {
      Status s = db_->UnforgetUser(UserId(u));
      if (!s.ok() && !s.IsNotFound()) return s;
    }
    return Status::OK();
  }

 private:
  // Reads run between writes so that a kill also lands inside them; their
  // results are checked by the parent after the restart, not here.
  Status Read() {
    switch (Uniform(3)) {
      case 0: {
        auto h = db_->GetUserHistory(UserId(Uniform(kUsers)));
        if (!h.ok() && !h.status().IsNotFound()) return h.status();
        return Status::OK();
      }
      case 1: {
        auto c = db_->GetItemCounts(ItemId(Uniform(kItems)));
        if (!c.ok() && !c.status().IsNotFound()) return c.status();
        return Status::OK();
      }
      default: {
        RecommendRequest req;
        req.user = UserId(Uniform(kUsers));
        req.k = 5;
        auto r = db_->Recommend(req);
        if (!r.ok() && r.status().code() != StatusCode::kFailedPrecondition) return r.status();
        return Status::OK();
      }
    }
  }

  DB* db_;
  ExpectedLog* log_;
  const ChildConfig& cfg_;
  std::mt19937_64 rng_;
  WriteOptions wo_;
  bool registered_share_ = false;
  bool space_ready_ = false;
};

}  // namespace

int RunChild(const ChildConfig& cfg) {
  auto log = ExpectedLog::Open(cfg.log_path, cfg.sync_log);
  if (!log.ok()) {
    std::fprintf(stderr, "crashtest child: %s\n", log.status().ToString().c_str());
    return 3;
  }
  Options options;
  options.create_if_missing = true;
  options.background_threads = cfg.background_threads;
  // Background retraining and index checkpoints run while the child writes,
  // so kills land inside them too.
  options.retrain_interval_seconds = 1;
  options.index_checkpoint_interval_seconds = 1;
  options.write_buffer_bytes = 256u << 10;  // frequent flushes
  options.block_cache_bytes = 4u << 20;
  auto db = DB::Open(options, cfg.db_path);
  if (!db.ok()) {
    std::fprintf(stderr, "crashtest child: open: %s\n", db.status().ToString().c_str());
    return 3;
  }
  Workload workload(db->get(), log->get(), cfg);
  Status s = workload.ClearLedger();
  if (s.ok()) s = workload.Run();
  if (!s.ok()) {
    std::fprintf(stderr, "crashtest child: %s\n", s.ToString().c_str());
    return 3;
  }
  s = (*db)->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "crashtest child: close: %s\n", s.ToString().c_str());
    return 3;
  }
  return 0;
}

}  // namespace recdb::cli::crashtest
