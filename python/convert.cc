#include "convert.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <map>

#include "recdb/record_fields.h"

namespace recdb::python {
namespace {

// recdb.Error and its subclasses, indexed by StatusCode (set at import;
// module objects live as long as the interpreter).
std::map<int, py::object>& ErrorTypes() {
  static auto* types = new std::map<int, py::object>();
  return *types;
}

struct ErrorName {
  StatusCode code;
  const char* class_name;
};
constexpr ErrorName kErrorNames[] = {
    {StatusCode::kNotFound, "NotFoundError"},
    {StatusCode::kInvalidArgument, "InvalidArgumentError"},
    {StatusCode::kCorruption, "CorruptionError"},
    {StatusCode::kIOError, "IOError"},
    {StatusCode::kAlreadyExists, "AlreadyExistsError"},
    {StatusCode::kFailedPrecondition, "FailedPreconditionError"},
    {StatusCode::kResourceExhausted, "ResourceExhaustedError"},
    {StatusCode::kNotSupported, "NotSupportedError"},
    {StatusCode::kAborted, "AbortedError"},
    {StatusCode::kInternal, "InternalError"},
};

[[noreturn]] void Invalid(const std::string& message) {
  Raise(Status::InvalidArgument(message));
}

std::string Where(const char* batch, size_t i) {
  return std::string(batch) + "[" + std::to_string(i) + "]";
}

std::string TypeNameOf(py::handle v) { return py::str(py::type::handle_of(v).attr("__name__")); }

[[noreturn]] void WrongType(const std::string& field, FieldType want, py::handle got) {
  Raise(WrongTypeError(field, want, TypeNameOf(got)));
}

// A Python str as UTF-8. A str holding lone surrogates has no UTF-8 form:
// InvalidArgument naming the field (the DB's wording), not UnicodeEncodeError.
std::string Utf8(py::handle v, const std::string& field) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(v.ptr(), &size);
  if (data == nullptr) {
    PyErr_Clear();
    Invalid(field + ": not valid UTF-8");
  }
  return std::string(data, static_cast<size_t>(size));
}

// The keys of a record dict against the one field table
// (recdb/record_fields.h): unknown, doubled and missing fields raise
// InvalidArgumentError "events[3]: unknown event field 'tyep' (allowed: ...)".
void CheckKeys(RecordKind kind, const py::dict& d, const std::string& where) {
  std::vector<std::string> keys;
  for (auto item : d) {
    if (!py::isinstance<py::str>(item.first)) {
      Invalid(where + ": field names must be str, got " + TypeNameOf(item.first));
    }
    keys.push_back(Utf8(item.first, where + " field name"));
  }
  Status s = CheckRecordKeys(kind, keys);
  if (!s.ok()) Raise(s.WithContext(where));
}

// A str field; integer ids (MovieLens) are accepted and written in decimal.
std::string StringField(py::handle v, const std::string& field) {
  if (py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v)) return py::str(v);
  if (!py::isinstance<py::str>(v)) WrongType(field, FieldType::kString, v);
  return Utf8(v, field);
}

int64_t IntField(py::handle v, const std::string& field) {
  if (py::isinstance<py::bool_>(v) ||
      (!py::isinstance<py::int_>(v) && !py::hasattr(v, "__index__"))) {
    WrongType(field, FieldType::kInteger, v);
  }
  py::int_ i = py::isinstance<py::int_>(v) ? py::reinterpret_borrow<py::int_>(v)
                                           : py::int_(v.attr("__index__")());
  int overflow = 0;
  long long x = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow != 0) Invalid(field + ": " + std::string(py::str(i)) + " is out of range");
  return static_cast<int64_t>(x);
}

bool BoolField(py::handle v, const std::string& field) {
  if (!py::isinstance<py::bool_>(v)) WrongType(field, FieldType::kBool, v);
  return v.cast<bool>();
}

double ToDouble(py::handle v, const std::string& what) {
  if (py::isinstance<py::bool_>(v) || py::isinstance<py::str>(v) || v.is_none()) {
    Invalid(what + " must be a number");
  }
  try {
    return py::float_(py::reinterpret_borrow<py::object>(v)).cast<double>();
  } catch (const py::error_already_set&) {
    Invalid(what + " must be a number");
  }
}

std::vector<std::string> StringList(py::handle v, const std::string& what) {
  if (py::isinstance<py::str>(v) || !py::isinstance<py::iterable>(v)) {
    Invalid(what + " must be a list of str");
  }
  std::vector<std::string> out;
  for (py::handle e : v) {
    if (!py::isinstance<py::str>(e)) Invalid(what + " must be a list of str");
    out.push_back(Utf8(e, what));
  }
  return out;
}

std::map<std::string, std::string> StringMap(py::handle v, const std::string& what) {
  if (!py::isinstance<py::dict>(v)) Invalid(what + " must be a dict of str to str");
  std::map<std::string, std::string> out;
  for (auto [k, val] : v.cast<py::dict>()) {
    if (!py::isinstance<py::str>(k) || !py::isinstance<py::str>(val)) {
      Invalid(what + " must be a dict of str to str");
    }
    out[Utf8(k, what)] = Utf8(val, what);
  }
  return out;
}

Attributes AttributesFrom(const py::dict& d, const std::string& where) {
  Attributes out;
  if (!d.contains("attributes")) return out;
  py::handle a = d["attributes"];
  if (!py::isinstance<py::dict>(a)) WrongType(where + ".attributes", FieldType::kAttributes, a);
  for (auto [k, v] : a.cast<py::dict>()) {
    if (!py::isinstance<py::str>(k)) Invalid(where + ": attribute names must be str");
    const std::string key = Utf8(k, where + ".attributes key");
    const std::string what = where + ".attributes." + key;
    if (py::isinstance<py::bool_>(v)) {
      out[key] = v.cast<bool>();
    } else if (py::isinstance<py::str>(v)) {
      out[key] = Utf8(v, what);
    } else if (py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v)) {
      out[key] = v.cast<double>();
    } else if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
      out[key] = StringList(v, what);
    } else {
      Invalid(what + " must be a str, number, bool or list of str");
    }
  }
  return out;
}

py::dict AttributesToDict(const Attributes& attributes) {
  py::dict out;
  for (const auto& entry : attributes) {  // no structured binding: clang 14 can't capture one
    const std::string& k = entry.first;
    std::visit([&](const auto& x) { out[py::str(k)] = py::cast(x); }, entry.second);
  }
  return out;
}

py::dict CheckedDict(py::handle v, const std::string& where) {
  if (!py::isinstance<py::dict>(v)) Invalid(where + " must be a dict");
  return v.cast<py::dict>();
}

// The records of a batch argument (events, items, users): each element must
// be a dict, converted by `one(dict, where)`; `where` ("items[3]") prefixes
// every error message about that element.
template <typename Record, typename Fn>
std::vector<Record> RecordsFrom(const py::iterable& records, const char* batch, Fn one) {
  std::vector<Record> out;
  size_t i = 0;
  for (py::handle h : records) {
    const std::string where = Where(batch, i++);
    out.push_back(one(CheckedDict(h, where), where));
  }
  return out;
}

// A 2-D float32 C-contiguous view of a numpy array, or None when `v` is not
// one. numpy is only consulted when the caller already imported it.
py::object AsNumpy(const py::handle& v) {
  py::dict modules = py::module_::import("sys").attr("modules");
  if (!modules.contains("numpy")) return py::none();
  py::object np = modules["numpy"];
  if (!py::isinstance(v, np.attr("ndarray"))) return py::none();
  using namespace py::literals;
  try {
    return np.attr("ascontiguousarray")(v, "dtype"_a = np.attr("float32"));
  } catch (const py::error_already_set& e) {
    // An object-dtype array (or one of strings): numpy's ValueError/TypeError
    // becomes the InvalidArgumentError every other bad vector raises.
    Invalid("vectors must hold real numbers (numpy says: " + std::string(e.what()) + ")");
  }
}

}  // namespace

void RegisterErrors(py::module_& m) {
  py::handle base_type = PyErr_NewExceptionWithDoc(
      "recdb.Error",
      "A recdb call failed. Attributes: code (e.g. 'not_found'), status (int), message.",
      PyExc_Exception, nullptr);
  py::object base = py::reinterpret_steal<py::object>(base_type);
  m.attr("Error") = base;
  ErrorTypes()[0] = base;
  for (const ErrorName& e : kErrorNames) {
    const std::string qualified = std::string("recdb.") + e.class_name;
    py::object sub = py::reinterpret_steal<py::object>(
        PyErr_NewException(qualified.c_str(), base.ptr(), nullptr));
    m.attr(e.class_name) = sub;
    ErrorTypes()[static_cast<int>(e.code)] = sub;
  }
}

void Raise(const Status& s) {
  auto& types = ErrorTypes();
  auto it = types.find(static_cast<int>(s.code()));
  py::object type = it != types.end() ? it->second : types.at(0);
  py::object exc = type(py::str(s.ToString()));
  exc.attr("code") = StatusCodeName(s.code());
  exc.attr("status") = static_cast<int>(s.code());
  exc.attr("message") = s.message();
  PyErr_SetObject(type.ptr(), exc.ptr());
  throw py::error_already_set();
}

std::vector<Event> EventsFrom(const py::iterable& events) {
  return RecordsFrom<Event>(events, "events", [&](const py::dict& d, const std::string& where) {
    CheckKeys(RecordKind::kEvent, d, where);
    Event e;
    e.user = StringField(d["user"], where + ".user");
    e.item = StringField(d["item"], where + ".item");
    if (d.contains("type")) e.type = StringField(d["type"], where + ".type");
    const char* ts_key = d.contains("ts") ? "ts" : "timestamp";  // the spelling given
    e.timestamp = IntField(d[ts_key], where + "." + ts_key);
    if (d.contains("value") && !d["value"].is_none()) {
      py::handle v = d["value"];
      if (py::isinstance<py::bool_>(v) || py::isinstance<py::str>(v)) {
        WrongType(where + ".value", FieldType::kNumber, v);
      }
      e.value = ToDouble(v, where + ".value");
      e.has_value = true;
    }
    if (d.contains("context")) e.context = StringMap(d["context"], where + ".context");
    return e;
  });
}

std::vector<Item> ItemsFrom(const py::iterable& items) {
  return RecordsFrom<Item>(items, "items", [](const py::dict& d, const std::string& where) {
    CheckKeys(RecordKind::kItem, d, where);
    Item item;
    item.id = StringField(d["id"], where + ".id");
    if (d.contains("title")) item.title = StringField(d["title"], where + ".title");
    if (d.contains("description")) {
      item.description = StringField(d["description"], where + ".description");
    }
    if (d.contains("categories")) {
      item.categories = StringList(d["categories"], where + ".categories");
    }
    if (d.contains("creator")) item.creator = StringField(d["creator"], where + ".creator");
    if (d.contains("created_at")) {
      item.created_at = IntField(d["created_at"], where + ".created_at");
    }
    if (d.contains("available")) item.available = BoolField(d["available"], where + ".available");
    item.attributes = AttributesFrom(d, where);
    return item;
  });
}

std::vector<User> UsersFrom(const py::iterable& users) {
  return RecordsFrom<User>(users, "users", [](const py::dict& d, const std::string& where) {
    CheckKeys(RecordKind::kUser, d, where);
    User user;
    user.id = StringField(d["id"], where + ".id");
    user.attributes = AttributesFrom(d, where);
    if (d.contains("consent")) {
      py::handle ch = d["consent"];
      if (!py::isinstance<py::dict>(ch)) WrongType(where + ".consent", FieldType::kConsent, ch);
      py::dict c = ch.cast<py::dict>();
      for (auto [k, v] : c) {
        const std::string key = py::str(k);
        const std::string field = where + ".consent." + key;
        if (key == "personalization") {
          user.consent.personalization = BoolField(v, field);
        } else if (key == "store_events") {
          user.consent.store_events = BoolField(v, field);
        } else if (key == "training") {
          user.consent.training = BoolField(v, field);
        } else {
          Invalid(where + ": unknown consent field '" + key +
                  "' (allowed: personalization, store_events, training)");
        }
      }
    }
    return user;
  });
}

std::vector<float> VectorFrom(const py::handle& vector, const std::string& what) {
  py::object arr = AsNumpy(vector);
  std::vector<float> out;
  if (!arr.is_none()) {
    auto a = arr.cast<py::array_t<float, py::array::c_style>>();
    if (a.ndim() != 1) Invalid(what + " must be 1-dimensional");
    out.assign(a.data(), a.data() + a.size());
    return out;
  }
  if (py::isinstance<py::str>(vector) || !py::isinstance<py::iterable>(vector)) {
    Invalid(what + " must be a sequence of numbers or a numpy array");
  }
  for (py::handle v : vector) out.push_back(static_cast<float>(ToDouble(v, what + " element")));
  return out;
}

std::vector<double> DoublesFrom(const py::handle& values, const std::string& what) {
  if (py::isinstance<py::str>(values) || !py::isinstance<py::iterable>(values)) {
    Invalid(what + " must be a sequence of numbers");
  }
  std::vector<double> out;
  for (py::handle v : values) out.push_back(ToDouble(v, what + " element"));
  return out;
}

std::vector<VectorRecord> VectorRecordsFrom(const std::vector<std::string>& ids,
                                            const py::handle& vectors) {
  std::vector<VectorRecord> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) out[i].id = ids[i];
  py::object arr = AsNumpy(vectors);
  if (!arr.is_none()) {
    auto a = arr.cast<py::array_t<float, py::array::c_style>>();
    if (a.ndim() != 2) Invalid("vectors must be a 2-dimensional array (one row per id)");
    if (static_cast<size_t>(a.shape(0)) != ids.size()) {
      Invalid("vectors has " + std::to_string(a.shape(0)) + " rows for " +
              std::to_string(ids.size()) + " ids");
    }
    const size_t dim = static_cast<size_t>(a.shape(1));
    for (size_t i = 0; i < ids.size(); ++i) {
      out[i].values.assign(a.data() + i * dim, a.data() + (i + 1) * dim);
    }
    return out;
  }
  if (!py::isinstance<py::sequence>(vectors) || py::isinstance<py::str>(vectors)) {
    Invalid("vectors must be a sequence of sequences of numbers or a 2-D numpy array");
  }
  py::sequence rows = vectors.cast<py::sequence>();
  if (rows.size() != ids.size()) {
    Invalid("vectors has " + std::to_string(rows.size()) + " rows for " +
            std::to_string(ids.size()) + " ids");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    out[i].values = VectorFrom(rows[i], "vectors[" + std::to_string(i) + "]");
  }
  return out;
}

size_t SizeArg(const py::handle& v, const char* name) {
  const int64_t x = Int64Arg(v, name);
  if (x < 0) Invalid(std::string(name) + ": must be >= 0, got " + std::to_string(x));
  return static_cast<size_t>(x);
}

int64_t Int64Arg(const py::handle& v, const char* name) { return IntField(v, name); }

std::string StrArg(const py::handle& v, const char* name) { return StringField(v, name); }

EntityKind KindFrom(const std::string& kind) {
  if (kind == "item") return EntityKind::kItem;
  if (kind == "user") return EntityKind::kUser;
  Invalid("kind must be 'item' or 'user', got '" + kind + "'");
}

Metric MetricFrom(const std::string& metric) {
  if (metric == "cosine") return Metric::kCosine;
  if (metric == "ip") return Metric::kInnerProduct;
  if (metric == "l2") return Metric::kL2;
  Invalid("metric must be 'cosine', 'ip' or 'l2', got '" + metric + "'");
}

ItemFilter FilterFrom(const py::object& categories, const py::object& attributes,
                      const py::object& exclude, bool available_only) {
  ItemFilter f;
  if (!categories.is_none()) f.categories_any = StringList(categories, "categories");
  if (!attributes.is_none()) f.attribute_equals = StringMap(attributes, "attributes");
  if (!exclude.is_none()) f.exclude_ids = StringList(exclude, "exclude");
  f.available_only = available_only;
  return f;
}

CareOptions CareFrom(const py::dict& care) {
  CareOptions c;
  for (auto [k, v] : care) {
    const std::string key = py::str(k);
    const std::string what = "care['" + key + "']";
    if (key == "diversity") {
      c.diversity = ToDouble(v, what);
    } else if (key == "diversity_space") {
      c.diversity_space = py::str(v);
    } else if (key == "calibration") {
      c.calibration = ToDouble(v, what);
    } else if (key == "calibration_recent_items") {
      c.calibration_recent_items = v.cast<size_t>();
    } else if (key == "fair_share") {
      c.fair_share = ToDouble(v, what);
    } else if (key == "exploration") {
      c.exploration = ToDouble(v, what);
    } else if (key == "exploration_seed") {
      c.exploration_seed = v.cast<uint64_t>();
    } else if (key == "rotate_after_impressions") {
      c.rotate_after_impressions = v.cast<int>();
    } else if (key == "rotate_period_seconds") {
      c.rotate_period_seconds = v.cast<int64_t>();
    } else if (key == "candidate_factor") {
      c.candidate_factor = v.cast<size_t>();
    } else {
      Invalid("unknown care option '" + key + "'");
    }
  }
  return c;
}

py::dict ItemToDict(const Item& item) {
  py::dict d;
  d["id"] = item.id;
  d["title"] = item.title;
  d["description"] = item.description;
  d["categories"] = item.categories;
  d["creator"] = item.creator;
  d["created_at"] = item.created_at;
  d["available"] = item.available;
  d["attributes"] = AttributesToDict(item.attributes);
  return d;
}

py::dict UserToDict(const User& user) {
  py::dict d;
  d["id"] = user.id;
  d["attributes"] = AttributesToDict(user.attributes);
  py::dict consent;
  consent["personalization"] = user.consent.personalization;
  consent["store_events"] = user.consent.store_events;
  consent["training"] = user.consent.training;
  d["consent"] = consent;
  return d;
}

py::dict EventToDict(const Event& e) {
  py::dict d;
  d["user"] = e.user;
  d["item"] = e.item;
  d["type"] = e.type;
  d["timestamp"] = e.timestamp;
  if (e.has_value) d["value"] = e.value;
  if (!e.context.empty()) d["context"] = e.context;
  return d;
}

py::list RecommendationsToList(const RecommendResponse& r, bool explain, bool with_policy) {
  py::list out;
  for (const Recommendation& rec : r.items) {
    py::dict d;
    d["item"] = rec.id;
    d["score"] = rec.score;
    d["contributions"] = rec.contributions;
    if (with_policy) {
      d["propensity"] = rec.propensity;  // for record_impressions(propensities=...)
      d["policy"] = r.policy;
      if (!r.policy_note.empty()) d["policy_note"] = r.policy_note;
    }
    if (explain) {
      py::list evidence;
      for (const Evidence& e : rec.explanation.evidence) {
        py::dict ed;
        ed["kind"] = e.kind;
        if (!e.recommender.empty()) ed["recommender"] = e.recommender;
        if (e.kind == "recommender") ed["share"] = e.share;
        if (!e.item.empty()) ed["item"] = e.item;
        if (!e.category.empty()) ed["category"] = e.category;
        ed["text"] = e.text;
        evidence.append(ed);
      }
      py::dict explanation;
      explanation["sentence"] = rec.explanation.sentence;
      explanation["evidence"] = evidence;
      d["explanation"] = explanation;
    }
    out.append(d);
  }
  return out;
}

py::list ScoredItemsToList(const std::vector<ScoredItem>& items) {
  py::list out;
  for (const ScoredItem& s : items) {
    py::dict d;
    d["item"] = s.id;
    d["score"] = s.score;
    out.append(d);
  }
  return out;
}

py::dict TrainReportToDict(const TrainReport& r) {
  py::dict d;
  d["model_version"] = r.model_version;
  d["seconds"] = r.seconds;
  d["seconds_by_recommender"] = r.seconds_by_recommender;
  d["weights"] = r.weights;
  d["events"] = r.events;
  return d;
}

py::dict ReceiptToDict(const ErasureReceipt& r) {
  py::dict d;
  d["user"] = r.user;
  d["had_user_record"] = r.had_user_record;
  d["user_auto_created"] = r.user_auto_created;
  d["events_removed"] = r.events_removed;
  d["vectors_removed"] = r.vectors_removed;
  d["impressions_removed"] = r.impressions_removed;
  d["counts_adjusted"] = r.counts_adjusted;
  d["bytes_estimate"] = r.bytes_estimate;
  d["timestamp"] = r.timestamp;
  d["ledger_hash"] = r.ledger_hash;
  d["physically_erased"] = r.physically_erased;
  d["model_retrained"] = r.model_retrained;
  d["retrain_scheduled"] = r.retrain_scheduled;
  return d;
}

py::dict SpaceInfoToDict(const SpaceInfo& s) {
  py::dict d;
  d["name"] = s.options.name;
  d["dimension"] = s.options.dimension;
  d["metric"] = MetricName(s.options.metric);
  d["model_name"] = s.options.model_name;
  d["model_version"] = s.options.model_version;
  d["hnsw_m"] = s.options.hnsw_m;
  d["hnsw_ef_construction"] = s.options.hnsw_ef_construction;
  d["hnsw_ef_search"] = s.options.hnsw_ef_search;
  d["item_vectors"] = s.item_vectors;
  d["user_vectors"] = s.user_vectors;
  return d;
}

py::dict SnapshotInfoToDict(const SnapshotInfo& s) {
  py::dict d;
  d["id"] = s.id;
  d["name"] = s.name;
  d["path"] = s.path;
  d["sequence_number"] = s.sequence_number;
  d["format_version"] = s.format_version;
  d["created_unix_micros"] = s.created_unix_micros;
  d["files"] = s.files;
  d["bytes"] = s.bytes;
  d["unique_bytes"] = s.unique_bytes;
  d["seconds"] = s.seconds;
  return d;
}

py::dict StatsToDict(const DBStats& s) {
  py::dict d;
  d["users"] = s.users;
  d["items"] = s.items;
  d["events"] = s.events;
  d["event_types"] = s.event_types;
  d["sequence_number"] = s.sequence_number;
  d["disk_bytes"] = s.disk_bytes;
  d["model_version"] = s.model_version;
  d["model_sequence"] = s.model_sequence;
  d["model_problem"] = s.model_problem;
  py::list jobs;
  for (const BackgroundJobStats& j : s.background_jobs) {
    py::dict job;
    job["name"] = j.name;
    job["runs"] = j.runs;
    job["failures"] = j.failures;
    job["last_run_failed"] = j.last_run_failed;
    job["last_error"] = j.last_error;
    jobs.append(job);
  }
  d["background_jobs"] = jobs;
  return d;
}

}  // namespace recdb::python
