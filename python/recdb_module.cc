// The Python module `recdb`: recdb::DB (recdb/db.h) for Python, built with
// pybind11 on the public C++ API only.
//
//   import recdb
//   db = recdb.open("/tmp/shop", create_if_missing=True)
//   db.record_events([{"user": "u1", "item": "i1", "type": "view", "timestamp": 1700000000}])
//   db.train()
//   db.recommend("u1", k=10)   # [{"item", "score", "contributions", "propensity",
//                              #   "policy", "explanation"}, ...]
//
// Results are plain Python objects (dicts, lists, str, float). Failures raise
// recdb.Error (a subclass per status code: NotFoundError, ...). Every call
// into the database releases the GIL, so Python threads can recommend while
// another trains. A DB is closed by close(), by leaving a `with` block, or
// when it is garbage-collected; calls after close() raise
// FailedPreconditionError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "convert.h"
#include "recdb/db.h"
#include "recdb/options_file.h"

namespace recdb::python {
namespace {

using namespace py::literals;

// The Python-side database: owns the C++ DB until the Python object dies.
class PyDB {
 public:
  explicit PyDB(std::unique_ptr<DB> db) : db_(std::move(db)) {}
  PyDB(const PyDB&) = delete;
  PyDB& operator=(const PyDB&) = delete;
  // Closing flushes memtables: let other Python threads run meanwhile.
  ~PyDB() {
    py::gil_scoped_release release;
    db_.reset();
  }

  void Close() {
    Check(Call([&] { return db_->Close(); }));
  }

  void RegisterEventType(const std::string& name, double weight) {
    EventType t;
    t.name = name;
    t.weight = weight;
    Check(Call([&] { return db_->RegisterEventType(t); }));
  }

  py::list EventTypes() {
    auto types = Unwrap(Call([&] { return db_->ListEventTypes(); }));
    py::list out;
    for (const EventType& t : types) out.append(py::dict("name"_a = t.name, "weight"_a = t.weight));
    return out;
  }

  // {"stored", "counted_only", "dropped_forgotten"}: every event in one count.
  py::dict RecordEvents(const py::iterable& events, bool sync) {
    std::vector<Event> batch = EventsFrom(events);
    RecordEventsResult r;
    Check(Call([&] { return db_->RecordEvents(Write(sync), batch, &r); }));
    return py::dict("stored"_a = r.stored, "counted_only"_a = r.counted_only,
                    "dropped_forgotten"_a = r.dropped_forgotten);
  }
  void UpsertItems(const py::iterable& items, bool sync) {
    std::vector<Item> batch = ItemsFrom(items);
    Check(Call([&] { return db_->UpsertItems(Write(sync), batch); }));
  }
  void UpsertUsers(const py::iterable& users, bool sync) {
    std::vector<User> batch = UsersFrom(users);
    Check(Call([&] { return db_->UpsertUsers(Write(sync), batch); }));
  }

  py::dict GetItem(const py::object& id_arg) {
    const std::string id = StrArg(id_arg, "id");
    return ItemToDict(Unwrap(Call([&] { return db_->GetItem(id); })));
  }
  py::dict GetUser(const py::object& id_arg) {
    const std::string id = StrArg(id_arg, "id");
    return UserToDict(Unwrap(Call([&] { return db_->GetUser(id); })));
  }
  py::list History(const py::object& user_arg, const py::object& start, const py::object& end,
                   const py::object& limit) {
    const std::string user = StrArg(user_arg, "user");
    HistoryRange range;
    if (!start.is_none()) range.start = Int64Arg(start, "start");
    if (!end.is_none()) range.end = Int64Arg(end, "end");
    range.limit = SizeArg(limit, "limit");
    auto events = Unwrap(Call([&] { return db_->GetUserHistory(user, range); }));
    py::list out;
    for (const Event& e : events) out.append(EventToDict(e));
    return out;
  }
  py::dict Stats() { return StatsToDict(Unwrap(Call([&] { return db_->GetStats(); }))); }

  py::dict Train(bool learn_weights, bool reuse_stored_weights, bool incremental,
                 int ials_factors, int ials_iterations, int threads) {
    TrainOptions o;
    o.learn_weights = learn_weights;
    o.reuse_stored_weights = reuse_stored_weights;
    o.incremental = incremental;
    o.ials_factors = ials_factors;
    o.ials_iterations = ials_iterations;
    o.threads = threads;
    return TrainReportToDict(Unwrap(Call([&] { return db_->Train(o); })));
  }

  py::list Recommend(const py::object& user, const py::object& k, const py::object& context,
                     const py::object& now,
                     bool exclude_seen, const py::object& exclude, const py::object& weights,
                     const py::object& session_items, const py::object& categories,
                     const py::object& attributes, bool available_only, const py::object& care,
                     const py::object& pin, const py::object& boost, const py::object& bury,
                     bool explain, bool require_known_user, const py::object& policy) {
    RecommendRequest r;
    if (!user.is_none()) r.user = StrArg(user, "user");
    r.require_known_user = require_known_user;
    r.k = SizeArg(k, "k");
    if (!context.is_none()) r.context = context.cast<std::map<std::string, std::string>>();
    r.now = Int64Arg(now, "now");
    r.exclude_seen = exclude_seen;
    r.filter = FilterFrom(categories, attributes, exclude, available_only);
    r.exclude_ids = r.filter.exclude_ids;
    if (!weights.is_none()) r.weights = weights.cast<std::map<std::string, double>>();
    if (!session_items.is_none()) {
      r.session_items = session_items.cast<std::vector<std::string>>();
    }
    if (!care.is_none()) r.care = CareFrom(care.cast<py::dict>());
    if (!pin.is_none()) r.rules.pin = pin.cast<std::vector<std::string>>();
    if (!boost.is_none()) r.rules.boost = boost.cast<std::map<std::string, double>>();
    if (!bury.is_none()) r.rules.bury = bury.cast<std::vector<std::string>>();
    if (!policy.is_none()) r.policy = StrArg(policy, "policy");
    return RecommendationsToList(Unwrap(Call([&] { return db_->Recommend(r); })), explain,
                                 /*with_policy=*/true);
  }

  py::list Similar(const py::object& item_arg, const py::object& k_arg,
                   const py::object& categories, const py::object& attributes,
                   const py::object& exclude, bool available_only, bool explain) {
    const std::string item = StrArg(item_arg, "item");
    const size_t k = SizeArg(k_arg, "k");
    ItemFilter f = FilterFrom(categories, attributes, exclude, available_only);
    return RecommendationsToList(Unwrap(Call([&] { return db_->SimilarItems(item, k, f); })),
                                 explain, /*with_policy=*/false);
  }

  void RecordImpressions(const std::string& user, const std::vector<std::string>& items,
                         const py::object& timestamp, const py::object& context,
                         const py::object& propensities) {
    ImpressionContext c;
    c.timestamp = Int64Arg(timestamp, "timestamp");
    if (!context.is_none()) c.context = context.cast<std::map<std::string, std::string>>();
    if (!propensities.is_none()) c.propensities = DoublesFrom(propensities, "propensities");
    Check(Call([&] { return db_->RecordImpressions(WriteOptions{}, user, items, c); }));
  }

  // ---- Embedding spaces

  void CreateSpace(const std::string& name, int dimension, const std::string& metric,
                   const std::string& model_name, const std::string& model_version, int hnsw_m,
                   int ef_construction, int ef_search) {
    SpaceOptions o;
    o.name = name;
    o.dimension = dimension;
    o.metric = MetricFrom(metric);
    o.model_name = model_name;
    o.model_version = model_version;
    o.hnsw_m = hnsw_m;
    o.hnsw_ef_construction = ef_construction;
    o.hnsw_ef_search = ef_search;
    Check(Call([&] { return db_->CreateSpace(o); }));
  }
  void DropSpace(const std::string& name) {
    Check(Call([&] { return db_->DropSpace(name); }));
  }
  py::list Spaces() {
    auto spaces = Unwrap(Call([&] { return db_->ListSpaces(); }));
    py::list out;
    for (const SpaceInfo& s : spaces) out.append(SpaceInfoToDict(s));
    return out;
  }
  void PutVectors(const std::string& space, const std::vector<std::string>& ids,
                  const py::object& vectors, const std::string& kind, bool sync) {
    std::vector<VectorRecord> records = VectorRecordsFrom(ids, vectors);
    const EntityKind k = KindFrom(kind);
    Check(Call([&] { return db_->PutVectors(Write(sync), space, k, records); }));
  }
  std::vector<float> GetVector(const std::string& space, const std::string& id,
                               const std::string& kind) {
    const EntityKind k = KindFrom(kind);
    return Unwrap(Call([&] { return db_->GetVector(space, k, id); }));
  }
  void DeleteVectors(const std::string& space, const std::vector<std::string>& ids,
                     const std::string& kind, bool sync) {
    const EntityKind k = KindFrom(kind);
    Check(Call([&] { return db_->DeleteVectors(Write(sync), space, k, ids); }));
  }
  py::list Search(const std::string& space, const py::object& query, const py::object& k_arg,
                  const py::object& categories, const py::object& attributes,
                  const py::object& exclude, bool available_only) {
    std::vector<float> q = VectorFrom(query, "query");
    const size_t k = SizeArg(k_arg, "k");
    ItemFilter f = FilterFrom(categories, attributes, exclude, available_only);
    return ScoredItemsToList(Unwrap(Call([&] { return db_->SearchSimilar(space, q, k, f); })));
  }
  py::list SearchSimilarToItem(const std::string& space, const std::string& item,
                               const py::object& k_arg,
                               const py::object& categories, const py::object& attributes,
                               const py::object& exclude, bool available_only) {
    ItemFilter f = FilterFrom(categories, attributes, exclude, available_only);
    const size_t k = SizeArg(k_arg, "k");
    return ScoredItemsToList(
        Unwrap(Call([&] { return db_->SearchSimilarToItem(space, item, k, f); })));
  }

  // ---- Privacy and snapshots

  py::dict Forget(const py::object& user_arg, bool wait_for_physical_erasure, bool retrain) {
    const std::string user = StrArg(user_arg, "user");
    ForgetOptions o;
    o.wait_for_physical_erasure = wait_for_physical_erasure;
    o.retrain = retrain;
    return ReceiptToDict(Unwrap(Call([&] { return db_->ForgetUser(user, o); })));
  }
  void Unforget(const std::string& user) {
    Check(Call([&] { return db_->UnforgetUser(user); }));
  }
  py::object ExportUser(const std::string& user) {
    std::string json = Unwrap(Call([&] { return db_->ExportUser(user); }));
    return py::module_::import("json").attr("loads")(json);
  }
  py::dict SweepRetention() {
    SweepReport r = Unwrap(Call([&] { return db_->SweepRetention(); }));
    return py::dict("expired_events_removed"_a = r.expired_events_removed,
                    "excess_events_removed"_a = r.excess_events_removed,
                    "inactive_users_forgotten"_a = r.inactive_users_forgotten,
                    "ranges_compacted"_a = r.ranges_compacted,
                    "full_compaction"_a = r.full_compaction, "seconds"_a = r.seconds);
  }
  py::dict Snapshot(const std::string& backup_dir, bool link_files) {
    SnapshotOptions o;
    o.link_files = link_files;
    return SnapshotInfoToDict(Unwrap(Call([&] { return db_->CreateSnapshot(backup_dir, o); })));
  }

 private:
  static WriteOptions Write(bool sync) {
    WriteOptions wo;
    wo.sync = sync;
    return wo;
  }

  // Runs `fn` (a database call) without the GIL and returns its result.
  template <typename Fn>
  static auto Call(Fn&& fn) -> decltype(fn()) {
    py::gil_scoped_release release;
    return fn();
  }

  std::unique_ptr<DB> db_;
};

std::unique_ptr<PyDB> Open(const std::string& path, const std::string& options_file,
                           std::optional<bool> create_if_missing, std::optional<bool> error_if_exists,
                           std::optional<bool> read_only, std::optional<bool> auto_create_users,
                           std::optional<bool> auto_create_items,
                           std::optional<int> background_threads,
                           std::optional<int64_t> retrain_interval_seconds,
                           std::optional<int64_t> index_checkpoint_interval_seconds) {
  // The options file first (recdb/options_file.h: care defaults, retention,
  // key file, aggregate privacy, ...); then each keyword argument given.
  Options o;
  if (!options_file.empty()) {
    StatusOr<Options> loaded = LoadOptionsFile(options_file);
    if (!loaded.ok()) Raise(loaded.status());
    o = std::move(loaded).value();
  }
  if (create_if_missing) o.create_if_missing = *create_if_missing;
  if (error_if_exists) o.error_if_exists = *error_if_exists;
  if (read_only) o.read_only = *read_only;
  if (auto_create_users) o.auto_create_users = *auto_create_users;
  if (auto_create_items) o.auto_create_items = *auto_create_items;
  if (background_threads) o.background_threads = *background_threads;
  if (retrain_interval_seconds) o.retrain_interval_seconds = *retrain_interval_seconds;
  if (index_checkpoint_interval_seconds) {
    o.index_checkpoint_interval_seconds = *index_checkpoint_interval_seconds;
  }
  StatusOr<std::unique_ptr<DB>> db = [&] {
    py::gil_scoped_release release;
    return DB::Open(o, path);
  }();
  if (!db.ok()) Raise(db.status());
  return std::make_unique<PyDB>(std::move(db).value());
}

py::dict Restore(const std::string& src, const std::string& dest,
                 const std::string& forget_ledger_from) {
  RestoreOptions o;
  o.forget_ledger_from = forget_ledger_from;
  StatusOr<RestoreReport> r = [&] {
    py::gil_scoped_release release;
    return DB::Restore(src, dest, o);
  }();
  if (!r.ok()) Raise(r.status());
  const RestoreReport& report = *r;
  return py::dict("snapshot"_a = SnapshotInfoToDict(report.snapshot), "files"_a = report.files,
                  "bytes"_a = report.bytes,
                  "forgotten_by_snapshot_ledger"_a = report.forgotten_by_snapshot_ledger,
                  "forgotten_by_live_ledger"_a = report.forgotten_by_live_ledger,
                  "seconds"_a = report.seconds);
}

}  // namespace
}  // namespace recdb::python

PYBIND11_MODULE(recdb, m) {
  using namespace recdb::python;
  using namespace pybind11::literals;
  m.doc() = "recdb: an embedded recommendation database (Python binding of the C++ API).";
#ifdef RECDB_VERSION_STRING
  m.attr("__version__") = RECDB_VERSION_STRING;
#endif
  RegisterErrors(m);

  m.def("open", &Open, "path"_a, py::kw_only(), "options_file"_a = "",
        "create_if_missing"_a = py::none(), "error_if_exists"_a = py::none(),
        "read_only"_a = py::none(), "auto_create_users"_a = py::none(),
        "auto_create_items"_a = py::none(), "background_threads"_a = py::none(),
        "retrain_interval_seconds"_a = py::none(),
        "index_checkpoint_interval_seconds"_a = py::none(),
        "Opens (or creates) the database in directory `path`; options as recdb::Options: "
        "those of options_file (JSON, recdb/options_file.h, the file `recdb --options` "
        "reads) when given, else the defaults, then each keyword argument given.");
  m.def("restore", &Restore, "src"_a, "dest"_a, py::kw_only(), "forget_ledger_from"_a = "",
        "Restores a snapshot (or a backup directory's newest) into the empty directory dest.");

  const py::object none = py::none();
  py::class_<PyDB>(m, "DB", "A recdb database; create with recdb.open().")
      .def("close", &PyDB::Close, "Flushes and releases the directory.")
      .def("__enter__", [](PyDB& self) -> PyDB& { return self; },
           py::return_value_policy::reference)
      .def("__exit__",
           [](PyDB& self, const py::object&, const py::object&, const py::object&) {
             self.Close();
           })
      .def("register_event_type", &PyDB::RegisterEventType, "name"_a, "weight"_a = 1.0)
      .def("event_types", &PyDB::EventTypes)
      .def("record_events", &PyDB::RecordEvents, "events"_a, py::kw_only(), "sync"_a = false,
           "Appends events: dicts with user, item, timestamp (or ts), and optionally type "
           "('view'), value, context. All or nothing; unknown keys are errors. Returns "
           "{'stored', 'counted_only', 'dropped_forgotten'}: events of a forgotten user "
           "are dropped, not stored.")
      .def("upsert_items", &PyDB::UpsertItems, "items"_a, py::kw_only(), "sync"_a = false)
      .def("upsert_users", &PyDB::UpsertUsers, "users"_a, py::kw_only(), "sync"_a = false)
      .def("get_item", &PyDB::GetItem, "id"_a)
      .def("get_user", &PyDB::GetUser, "id"_a)
      .def("history", &PyDB::History, "user"_a, py::kw_only(), "start"_a = none, "end"_a = none,
           "limit"_a = 0)
      .def("stats", &PyDB::Stats)
      .def("train", &PyDB::Train, py::kw_only(), "learn_weights"_a = true,
           "reuse_stored_weights"_a = false, "incremental"_a = false, "ials_factors"_a = 64, "ials_iterations"_a = 15,
           "threads"_a = 2, "Fits the recommenders; returns the training report.")
      .def("recommend", &PyDB::Recommend, "user"_a = none, "k"_a = 10, py::kw_only(),
           "context"_a = none, "now"_a = 0, "exclude_seen"_a = true, "exclude"_a = none,
           "weights"_a = none, "session_items"_a = none, "categories"_a = none,
           "attributes"_a = none, "available_only"_a = true, "care"_a = none, "pin"_a = none,
           "boost"_a = none, "bury"_a = none, "explain"_a = true, "require_known_user"_a = false,
           "policy"_a = none,
           "The k best items for `user`: a list of dicts with item, score, contributions, "
           "propensity, policy (and policy_note when 'learned' was asked for but the fused "
           "list served) and (with explain) explanation {sentence, evidence}. policy: None or "
           "'fused' (the fused ranking, propensity 1) or 'learned' (the learned policy's draw; "
           "record each result's propensity with record_impressions). An unknown user gets "
           "the popularity fallback, or recdb.NotFoundError with require_known_user=True.")
      .def("similar", &PyDB::Similar, "item"_a, "k"_a = 10, py::kw_only(),
           "categories"_a = none, "attributes"_a = none, "exclude"_a = none,
           "available_only"_a = true, "explain"_a = true)
      .def("record_impressions", &PyDB::RecordImpressions, "user"_a, "items"_a, py::kw_only(),
           "timestamp"_a = 0, "context"_a = none, "propensities"_a = none,
           "Record that `items` were shown to `user`, slot 0 first (rotation, fair "
           "exposure). propensities: per slot, the probability in (0, 1] with which the "
           "showing policy put that item there, for `recdb eval --off-policy`.")
      .def("create_space", &PyDB::CreateSpace, "name"_a, "dimension"_a, py::kw_only(),
           "metric"_a = "cosine", "model_name"_a = "", "model_version"_a = "", "hnsw_m"_a = 16,
           "ef_construction"_a = 200, "ef_search"_a = 64)
      .def("drop_space", &PyDB::DropSpace, "name"_a)
      .def("spaces", &PyDB::Spaces)
      .def("put_vectors", &PyDB::PutVectors, "space"_a, "ids"_a, "vectors"_a, py::kw_only(),
           "kind"_a = "item", "sync"_a = false,
           "Stores one vector per id: a 2-D numpy array or a list of lists. All or nothing.")
      .def("get_vector", &PyDB::GetVector, "space"_a, "id"_a, py::kw_only(), "kind"_a = "item")
      .def("delete_vectors", &PyDB::DeleteVectors, "space"_a, "ids"_a, py::kw_only(),
           "kind"_a = "item", "sync"_a = false)
      .def("search", &PyDB::Search, "space"_a, "query"_a, "k"_a = 10, py::kw_only(),
           "categories"_a = none, "attributes"_a = none, "exclude"_a = none,
           "available_only"_a = true)
      .def("search_similar_to_item", &PyDB::SearchSimilarToItem, "space"_a, "item"_a, "k"_a = 10,
           py::kw_only(), "categories"_a = none, "attributes"_a = none, "exclude"_a = none,
           "available_only"_a = true)
      .def("forget", &PyDB::Forget, "user"_a, py::kw_only(), "wait_for_physical_erasure"_a = false,
           "retrain"_a = false, "Forgets the user; returns the erasure receipt.")
      .def("unforget", &PyDB::Unforget, "user"_a)
      .def("export_user", &PyDB::ExportUser, "user"_a,
           "Everything held about the user, as a dict.")
      .def("sweep_retention", &PyDB::SweepRetention)
      .def("snapshot", &PyDB::Snapshot, "backup_dir"_a, py::kw_only(), "link_files"_a = true,
           "Takes a consistent snapshot into backup_dir; returns its info.");
}
