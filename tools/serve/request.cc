#include "tools/serve/request.h"

#include <charconv>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "tools/import/record.h"
#include "tools/import/record_json.h"

namespace recdb::serve {
namespace {

using json = nlohmann::json;

ParsedRequest Error(int status, std::string message, std::string allow = "") {
  ParsedRequest p;
  p.http_status = status;
  p.message = std::move(message);
  p.allow = std::move(allow);
  return p;
}

ParsedRequest BadRequest(const Status& s) { return Error(400, s.message()); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and, in a query, '+' as a space).
StatusOr<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) {
        return Status::InvalidArgument("truncated %-escape in the request target");
      }
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return Status::InvalidArgument("bad %-escape in the request target");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return Status::InvalidArgument("NUL byte in the request target");
    out.push_back(c);
  }
  return out;
}

// Query parameters of one route: each known name is consumed once (or, for
// repeated ones, many times); whatever is left over is an unknown parameter.
class Query {
 public:
  explicit Query(std::vector<std::pair<std::string, std::string>> params)
      : params_(std::move(params)), used_(params_.size(), false) {}

  // The value of `name`, if given. A single-valued parameter given twice
  // (user=1&user=2) used to take the last silently; CheckAllUsed now
  // reports it.
  std::optional<std::string> Get(const std::string& name) {
    std::optional<std::string> v;
    for (size_t i = 0; i < params_.size(); ++i) {
      if (params_[i].first != name) continue;
      used_[i] = true;
      if (v && duplicate_.empty()) duplicate_ = name;
      v = params_[i].second;
    }
    return v;
  }
  std::vector<std::string> GetAll(const std::string& name) {
    std::vector<std::string> out;
    for (size_t i = 0; i < params_.size(); ++i) {
      if (params_[i].first != name) continue;
      used_[i] = true;
      out.push_back(params_[i].second);
    }
    return out;
  }
  StatusOr<bool> GetBool(const std::string& name, bool absent) {
    auto v = Get(name);
    if (!v) return absent;
    if (v->empty() || *v == "1" || *v == "true") return true;
    if (*v == "0" || *v == "false") return false;
    return Status::InvalidArgument(name + ": expected true or false, got '" + *v + "'");
  }
  StatusOr<std::optional<int64_t>> GetInt(const std::string& name) {
    auto v = Get(name);
    if (!v) return std::optional<int64_t>();
    int64_t x = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
    if (v->empty() || ec != std::errc() || p != v->data() + v->size()) {
      return Status::InvalidArgument(name + ": expected an integer, got '" + *v + "'");
    }
    return std::optional<int64_t>(x);
  }
  StatusOr<std::optional<double>> GetDouble(const std::string& name) {
    auto v = Get(name);
    if (!v) return std::optional<double>();
    RECDB_ASSIGN_OR_RETURN(double x, ParseDouble(name, *v));
    return std::optional<double>(x);
  }
  // Every parameter not consumed. Errors: InvalidArgument naming the first.
  Status CheckAllUsed(const char* known) const {
    if (!duplicate_.empty()) {
      return Status::InvalidArgument(duplicate_ + ": given more than once; give it once");
    }
    for (size_t i = 0; i < params_.size(); ++i) {
      if (!used_[i]) {
        return Status::InvalidArgument("unknown query parameter '" + params_[i].first +
                                       "' (known: " + known + ")");
      }
    }
    return Status::OK();
  }

  static StatusOr<double> ParseDouble(const std::string& name, const std::string& v) {
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(x)) {
      return Status::InvalidArgument(name + ": expected a finite number, got '" + v + "'");
    }
    return x;
  }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
  std::vector<bool> used_;
  std::string duplicate_;  // the first single-valued parameter given twice
};

// "KEY=VALUE" values of a repeated parameter.
StatusOr<std::map<std::string, std::string>> Pairs(const std::vector<std::string>& values,
                                                   const std::string& name) {
  std::map<std::string, std::string> out;
  for (const auto& v : values) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument(name + ": expected KEY=VALUE, got '" + v + "'");
    }
    out[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return out;
}

StatusOr<size_t> GetK(Query& q) {
  RECDB_ASSIGN_OR_RETURN(auto k, q.GetInt("k"));
  if (!k) return size_t{10};
  // The DB rejects k outside 1..1000 with its own message; only keep the
  // value representable here.
  if (*k < 0 || *k > 1000000) return Status::InvalidArgument("k: must be in 1..1000");
  return static_cast<size_t>(*k);
}

// The filter flags shared by recommend and similar.
Status ParseFilter(Query& q, ItemFilter* filter) {
  filter->categories_any = q.GetAll("category");
  RECDB_ASSIGN_OR_RETURN(bool include_unavailable, q.GetBool("include_unavailable", false));
  filter->available_only = !include_unavailable;
  return Status::OK();
}

constexpr const char* kRecommendParams =
    "user, k, session, context, weight, now, include_seen, diversity, calibration, "
    "calibration_recent_items, fair_share, exploration, seed, pin, boost, bury, category, include_unavailable, explain, "
    "require_known_user, policy";

// Mirrors `recdb recommend` (tools/cli/cmd_recommend.cc) flag for flag, so
// the same parameters give the same request and the same JSON.
StatusOr<RecommendCall> ParseRecommend(Query& q) {
  RecommendCall call;
  RecommendRequest& req = call.request;
  req.user = q.Get("user").value_or("");
  req.session_items = q.GetAll("session");
  if (req.user.empty() && req.session_items.empty()) {
    return Status::InvalidArgument("give user=ID or at least one session=ITEM");
  }
  RECDB_ASSIGN_OR_RETURN(req.k, GetK(q));
  RECDB_ASSIGN_OR_RETURN(auto now, q.GetInt("now"));
  if (now) req.now = *now;
  RECDB_ASSIGN_OR_RETURN(req.context, Pairs(q.GetAll("context"), "context"));
  RECDB_ASSIGN_OR_RETURN(auto weights, Pairs(q.GetAll("weight"), "weight"));
  for (const auto& [name, w] : weights) {
    RECDB_ASSIGN_OR_RETURN(req.weights[name], Query::ParseDouble("weight " + name, w));
  }
  RECDB_ASSIGN_OR_RETURN(bool include_seen, q.GetBool("include_seen", false));
  req.exclude_seen = !include_seen;
  RECDB_ASSIGN_OR_RETURN(req.require_known_user, q.GetBool("require_known_user", false));
  req.policy = q.Get("policy").value_or("");  // the DB rejects an unknown name
  CareOptions care;
  bool any_care = false;
  for (const auto& [name, knob] : {std::pair<const char*, double*>{"diversity", &care.diversity},
                                   {"calibration", &care.calibration},
                                   {"fair_share", &care.fair_share},
                                   {"exploration", &care.exploration}}) {
    RECDB_ASSIGN_OR_RETURN(auto v, q.GetDouble(name));
    if (!v) continue;
    *knob = *v;
    any_care = true;
  }
  RECDB_ASSIGN_OR_RETURN(auto recent, q.GetInt("calibration_recent_items"));
  if (recent) {  // the DB checks the range (0..1000), as for the CLI's --calibration-recent
    if (*recent < 0) return Status::InvalidArgument("calibration_recent_items: must be >= 0");
    care.calibration_recent_items = static_cast<size_t>(*recent);
    any_care = true;
  }
  RECDB_ASSIGN_OR_RETURN(auto seed, q.GetInt("seed"));
  care.exploration_seed = static_cast<uint64_t>(seed.value_or(0));
  if (any_care) req.care = care;
  req.rules.pin = q.GetAll("pin");
  req.rules.bury = q.GetAll("bury");
  RECDB_ASSIGN_OR_RETURN(auto boosts, Pairs(q.GetAll("boost"), "boost"));
  for (const auto& [item, b] : boosts) {
    RECDB_ASSIGN_OR_RETURN(req.rules.boost[item], Query::ParseDouble("boost " + item, b));
  }
  RECDB_RETURN_IF_ERROR(ParseFilter(q, &req.filter));
  RECDB_ASSIGN_OR_RETURN(call.explain, q.GetBool("explain", false));
  RECDB_RETURN_IF_ERROR(q.CheckAllUsed(kRecommendParams));
  return call;
}

// from=TS&to=TS (Unix seconds, the range [from, to)) of the history and
// events-per-day routes: each within the timestamps an event may carry, and
// from before to, so a reversed or empty range is an error, not an empty page.
Status ParseTimeRange(Query& q, std::optional<int64_t>* from, std::optional<int64_t>* to) {
  RECDB_ASSIGN_OR_RETURN(*from, q.GetInt("from"));
  RECDB_ASSIGN_OR_RETURN(*to, q.GetInt("to"));
  for (const auto& [name, v] : {std::pair<const char*, const std::optional<int64_t>*>{"from", from},
                                {"to", to}}) {
    if (*v && (**v < kMinTimestamp || **v > kMaxTimestamp + 1)) {
      return Status::InvalidArgument(std::string(name) + ": must be a Unix time in seconds in " +
                                     std::to_string(kMinTimestamp) + ".." +
                                     std::to_string(kMaxTimestamp + 1) + ", got " +
                                     std::to_string(**v));
    }
  }
  if (*from && *to && **from >= **to) {
    return Status::InvalidArgument("from: must be before to (the range is [from, to)), got from=" +
                                   std::to_string(**from) + " to=" + std::to_string(**to));
  }
  return Status::OK();
}

// GET /v1/users/{id}/history: the parameters of `recdb history`, plus
// paging for the console's timeline (order=newest|oldest, offset=M).
StatusOr<HistoryCall> ParseHistory(const std::string& user, Query& q) {
  HistoryCall call;
  call.user = user;
  std::optional<int64_t> from, to;
  RECDB_RETURN_IF_ERROR(ParseTimeRange(q, &from, &to));
  RECDB_ASSIGN_OR_RETURN(auto limit, q.GetInt("limit"));
  RECDB_ASSIGN_OR_RETURN(auto offset, q.GetInt("offset"));
  const auto order = q.Get("order");
  RECDB_RETURN_IF_ERROR(q.CheckAllUsed("from, to, limit, order, offset"));
  if (from) call.range.start = *from;
  if (to) call.range.end = *to;
  if (limit) {
    if (*limit < 0) return Status::InvalidArgument("limit: must be >= 0");
    call.range.limit = static_cast<size_t>(*limit);
  }
  if (order) {
    if (*order != "newest" && *order != "oldest") {
      return Status::InvalidArgument("order: expected newest or oldest, got '" + *order + "'");
    }
    call.newest_first = *order == "newest";
  }
  if (offset) {
    if (*offset < 0) return Status::InvalidArgument("offset: must be >= 0");
    call.offset = static_cast<size_t>(*offset);
  }
  call.paged = order.has_value() || offset.has_value();
  return call;
}

// GET /v1/items/{id}/interactions?users=N&scan=M.
StatusOr<ItemInteractionsCall> ParseItemInteractions(const std::string& item, Query& q) {
  ItemInteractionsCall call;
  call.item = item;
  RECDB_ASSIGN_OR_RETURN(auto users, q.GetInt("users"));
  RECDB_ASSIGN_OR_RETURN(auto scan, q.GetInt("scan"));
  RECDB_RETURN_IF_ERROR(q.CheckAllUsed("users, scan"));
  if (users) {
    if (*users < 0 || *users > 1000) return Status::InvalidArgument("users: must be in 0..1000");
    call.users = static_cast<size_t>(*users);
  }
  if (scan) {
    if (*scan < 0 || *scan > static_cast<int64_t>(ItemInteractionsCall::kMaxScan)) {
      return Status::InvalidArgument("scan: must be in 0.." +
                                     std::to_string(ItemInteractionsCall::kMaxScan));
    }
    call.scan = static_cast<size_t>(*scan);
  }
  return call;
}

StatusOr<SimilarCall> ParseSimilar(Query& q) {
  SimilarCall call;
  call.item = q.Get("item").value_or("");
  if (call.item.empty()) return Status::InvalidArgument("give item=ID");
  RECDB_ASSIGN_OR_RETURN(call.k, GetK(q));
  RECDB_RETURN_IF_ERROR(ParseFilter(q, &call.filter));
  RECDB_ASSIGN_OR_RETURN(call.explain, q.GetBool("explain", false));
  RECDB_RETURN_IF_ERROR(q.CheckAllUsed("item, k, category, include_unavailable, explain"));
  return call;
}

// The body as a JSON object. An empty body is {} when `empty_ok`.
// Errors: InvalidArgument with the parser's own message (position and what
// it expected), so the client can find the mistake.
StatusOr<json> BodyObject(std::string_view body, bool empty_ok) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    if (empty_ok) return json::object();
    return Status::InvalidArgument("the request needs a JSON object body");
  }
  auto parsed = tools::ParseJsonObject(body);
  if (parsed.ok()) return parsed;
  // ParseJsonObject says only "malformed JSON"; ask the parser where.
  std::string detail = parsed.status().message();
  if (detail == "malformed JSON") {
    try {
      json ignored = json::parse(body.begin(), body.end());
      (void)ignored;
    } catch (const json::exception& e) {
      detail = std::string("malformed JSON: ") + e.what();
    }
  }
  return Status::InvalidArgument(detail);
}

// Checks that `j` has no key outside `known`.
Status OnlyFields(const json& j, std::initializer_list<std::string_view> known,
                  const char* known_text) {
  for (const auto& [key, _] : j.items()) {
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) {
      return Status::InvalidArgument("unknown field '" + key + "' (known: " + known_text + ")");
    }
  }
  return Status::OK();
}

Status GetBoolField(const json& j, const char* name, bool* out) {
  auto it = j.find(name);
  if (it == j.end()) return Status::OK();
  if (!it->is_boolean()) return Status::InvalidArgument(std::string(name) + ": expected a boolean");
  *out = it->get<bool>();
  return Status::OK();
}

Status GetIntField(const json& j, const char* name, int64_t lo, int64_t hi, int* out) {
  auto it = j.find(name);
  if (it == j.end()) return Status::OK();
  if (!it->is_number_integer()) {
    return Status::InvalidArgument(std::string(name) + ": expected an integer");
  }
  int64_t v = 0;
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    v = u > static_cast<uint64_t>(hi) ? hi + 1 : static_cast<int64_t>(u);
  } else {
    v = it->get<int64_t>();
  }
  if (v < lo || v > hi) {
    return Status::InvalidArgument(std::string(name) + ": must be in " + std::to_string(lo) +
                                   ".." + std::to_string(hi));
  }
  *out = static_cast<int>(v);
  return Status::OK();
}

// {"<key>": [record, ...]}: each record through `from_json` (the import
// format) and `validate` (the importer's checks), as a `Call` holding them.
template <typename Call, typename T>
StatusOr<Call> ParseRecords(std::string_view body, const char* key,
                            StatusOr<T> (*from_json)(const json&), Status (*validate)(const T&)) {
  RECDB_ASSIGN_OR_RETURN(json j, BodyObject(body, /*empty_ok=*/false));
  RECDB_RETURN_IF_ERROR(OnlyFields(j, {key}, key));
  auto it = j.find(key);
  if (it == j.end()) return Status::InvalidArgument(std::string("missing field '") + key + "'");
  if (!it->is_array()) return Status::InvalidArgument(std::string(key) + ": expected an array");
  if (it->empty()) return Status::InvalidArgument(std::string(key) + ": empty array");
  if (it->size() > kMaxRecordsPerRequest) {
    return Status::InvalidArgument(std::string(key) + ": more than " +
                                   std::to_string(kMaxRecordsPerRequest) + " records");
  }
  std::vector<T> out;
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    auto r = from_json((*it)[i]);
    Status s = r.ok() ? validate(*r) : r.status();
    if (!s.ok()) {
      return Status::InvalidArgument(std::string(key) + "[" + std::to_string(i) + "]: " +
                                     s.message());
    }
    out.push_back(std::move(r).value());
  }
  return Call{std::move(out)};
}

StatusOr<TrainCall> ParseTrain(std::string_view body) {
  RECDB_ASSIGN_OR_RETURN(json j, BodyObject(body, /*empty_ok=*/true));
  constexpr const char* kKnown =
      "learn_weights, reuse_stored_weights, incremental, threads, ials_factors, ials_iterations, "
      "content_space";
  RECDB_RETURN_IF_ERROR(OnlyFields(j,
                                   {"learn_weights", "reuse_stored_weights", "incremental",
                                    "threads", "ials_factors", "ials_iterations", "content_space"},
                                   kKnown));
  TrainCall call;
  TrainOptions& o = call.options;
  RECDB_RETURN_IF_ERROR(GetBoolField(j, "learn_weights", &o.learn_weights));
  RECDB_RETURN_IF_ERROR(GetBoolField(j, "reuse_stored_weights", &o.reuse_stored_weights));
  RECDB_RETURN_IF_ERROR(GetBoolField(j, "incremental", &o.incremental));
  RECDB_RETURN_IF_ERROR(GetIntField(j, "threads", 1, 64, &o.threads));
  RECDB_RETURN_IF_ERROR(GetIntField(j, "ials_factors", 1, 1024, &o.ials_factors));
  RECDB_RETURN_IF_ERROR(GetIntField(j, "ials_iterations", 1, 1000, &o.ials_iterations));
  auto it = j.find("content_space");
  if (it != j.end()) {
    if (!it->is_string()) return Status::InvalidArgument("content_space: expected a string");
    o.content_space = it->get<std::string>();
  }
  return call;
}

StatusOr<ForgetCall> ParseForget(std::string_view body) {
  RECDB_ASSIGN_OR_RETURN(json j, BodyObject(body, /*empty_ok=*/false));
  RECDB_RETURN_IF_ERROR(OnlyFields(j, {"user", "wait_for_physical_erasure", "retrain"},
                                   "user, wait_for_physical_erasure, retrain"));
  ForgetCall call;
  auto it = j.find("user");
  if (it == j.end()) return Status::InvalidArgument("missing field 'user'");
  if (!it->is_string()) return Status::InvalidArgument("user: expected a string");
  call.user = it->get<std::string>();
  if (call.user.empty()) return Status::InvalidArgument("user: empty id");
  RECDB_RETURN_IF_ERROR(
      GetBoolField(j, "wait_for_physical_erasure", &call.options.wait_for_physical_erasure));
  RECDB_RETURN_IF_ERROR(GetBoolField(j, "retrain", &call.options.retrain));
  return call;
}

// POST /v1/impressions: one list shown to a user, slot 0 first. The values
// are checked by DB::RecordImpressions (items known, propensities one per
// slot in (0, 1], ...); here only the JSON shape.
StatusOr<ImpressionsCall> ParseImpressions(std::string_view body) {
  RECDB_ASSIGN_OR_RETURN(json j, BodyObject(body, /*empty_ok=*/false));
  RECDB_RETURN_IF_ERROR(OnlyFields(j, {"user", "items", "timestamp", "context", "propensities"},
                                   "user, items, timestamp, context, propensities"));
  ImpressionsCall call;
  auto user = j.find("user");
  if (user == j.end()) return Status::InvalidArgument("missing field 'user'");
  if (!user->is_string()) return Status::InvalidArgument("user: expected a string");
  call.user = user->get<std::string>();
  auto items = j.find("items");
  if (items == j.end()) return Status::InvalidArgument("missing field 'items'");
  if (!items->is_array()) return Status::InvalidArgument("items: expected an array of ids");
  for (size_t i = 0; i < items->size(); ++i) {
    if (!(*items)[i].is_string()) {
      return Status::InvalidArgument("items[" + std::to_string(i) + "]: expected a string");
    }
    call.items.push_back((*items)[i].get<std::string>());
  }
  if (auto ts = j.find("timestamp"); ts != j.end()) {
    if (!ts->is_number_integer()) return Status::InvalidArgument("timestamp: expected an integer");
    call.context.timestamp = ts->get<int64_t>();
  }
  if (auto ctx = j.find("context"); ctx != j.end()) {
    if (!ctx->is_object()) return Status::InvalidArgument("context: expected an object");
    for (const auto& [k, v] : ctx->items()) {
      if (!v.is_string()) return Status::InvalidArgument("context." + k + ": expected a string");
      call.context.context[k] = v.get<std::string>();
    }
  }
  if (auto p = j.find("propensities"); p != j.end()) {
    if (!p->is_array()) return Status::InvalidArgument("propensities: expected an array of numbers");
    for (size_t i = 0; i < p->size(); ++i) {
      if (!(*p)[i].is_number()) {
        return Status::InvalidArgument("propensities[" + std::to_string(i) +
                                       "]: expected a number");
      }
      call.context.propensities.push_back((*p)[i].get<double>());
    }
  }
  return call;
}

StatusOr<SnapshotCall> ParseSnapshot(std::string_view body) {
  RECDB_ASSIGN_OR_RETURN(json j, BodyObject(body, /*empty_ok=*/true));
  RECDB_RETURN_IF_ERROR(OnlyFields(j, {"link_files"}, "link_files"));
  SnapshotCall call;
  RECDB_RETURN_IF_ERROR(GetBoolField(j, "link_files", &call.options.link_files));
  return call;
}

Status GetNumberField(const json& j, const char* name, double* out) {
  auto it = j.find(name);
  if (it == j.end()) return Status::OK();
  if (!it->is_number()) return Status::InvalidArgument(std::string(name) + ": expected a number");
  *out = it->get<double>();
  return Status::OK();
}

// POST /v1/eval: the flags of `recdb eval` as a JSON object; the sweep as
// {"knob", "from", "to", "step"} (the CLI's --sweep KNOB=FROM:TO:STEP).
StatusOr<StartEvalCall> ParseEval(std::string_view body) {
  RECDB_ASSIGN_OR_RETURN(json j, BodyObject(body, /*empty_ok=*/true));
  constexpr const char* kKnown =
      "recommenders, threads, content_space, diversity, calibration, calibration_recent_items, "
      "fair_share, exploration, seed, sweep";
  RECDB_RETURN_IF_ERROR(OnlyFields(j,
                                   {"recommenders", "threads", "content_space", "diversity",
                                    "calibration", "calibration_recent_items", "fair_share",
                                    "exploration", "seed", "sweep"},
                                   kKnown));
  StartEvalCall call;
  EvaluateOptions& o = call.options;
  RECDB_RETURN_IF_ERROR(GetIntField(j, "threads", 1, 64, &o.threads));
  if (auto it = j.find("recommenders"); it != j.end()) {
    if (!it->is_array()) return Status::InvalidArgument("recommenders: expected an array of names");
    for (const auto& name : *it) {
      if (!name.is_string() || name.get<std::string>().empty()) {
        return Status::InvalidArgument("recommenders: expected an array of names");
      }
      o.recommenders.push_back(name.get<std::string>());
    }
  }
  if (auto it = j.find("content_space"); it != j.end()) {
    if (!it->is_string()) return Status::InvalidArgument("content_space: expected a string");
    o.content_space = it->get<std::string>();
  }
  CareOptions care;
  bool any_care = false;
  for (const auto& [name, knob] : {std::pair<const char*, double*>{"diversity", &care.diversity},
                                   {"calibration", &care.calibration},
                                   {"fair_share", &care.fair_share},
                                   {"exploration", &care.exploration}}) {
    any_care = any_care || j.contains(name);
    RECDB_RETURN_IF_ERROR(GetNumberField(j, name, knob));
  }
  if (j.contains("calibration_recent_items")) {
    int recent = 0;
    RECDB_RETURN_IF_ERROR(GetIntField(j, "calibration_recent_items", 0, 1000, &recent));
    care.calibration_recent_items = static_cast<size_t>(recent);
    any_care = true;
  }
  int seed = 0;
  RECDB_RETURN_IF_ERROR(GetIntField(j, "seed", 0, INT32_MAX, &seed));
  care.exploration_seed = static_cast<uint64_t>(seed);
  if (any_care) o.care = care;
  if (auto it = j.find("sweep"); it != j.end()) {
    if (!it->is_object()) {
      return Status::InvalidArgument("sweep: expected {\"knob\", \"from\", \"to\", \"step\"}");
    }
    RECDB_RETURN_IF_ERROR(OnlyFields(*it, {"knob", "from", "to", "step"}, "knob, from, to, step"));
    EvaluateOptions::Sweep sweep;
    auto knob = it->find("knob");
    if (knob == it->end() || !knob->is_string()) {
      return Status::InvalidArgument("sweep.knob: expected diversity, calibration, fair_share or "
                                     "exploration");
    }
    sweep.knob = knob->get<std::string>();
    RECDB_RETURN_IF_ERROR(GetNumberField(*it, "from", &sweep.from));
    RECDB_RETURN_IF_ERROR(GetNumberField(*it, "to", &sweep.to));
    RECDB_RETURN_IF_ERROR(GetNumberField(*it, "step", &sweep.step));
    o.sweep = sweep;  // the DB checks the knob name and the range
  }
  return call;
}

StatusOr<NeighborsCall> ParseNeighbors(const std::string& space, Query& q) {
  NeighborsCall call;
  call.space = space;
  call.item = q.Get("item").value_or("");
  if (call.item.empty()) return Status::InvalidArgument("give item=ID");
  RECDB_ASSIGN_OR_RETURN(call.k, GetK(q));
  RECDB_RETURN_IF_ERROR(q.CheckAllUsed("item, k"));
  return call;
}

StatusOr<AuditCall> ParseAudit(Query& q) {
  AuditCall call;
  RECDB_ASSIGN_OR_RETURN(auto limit, q.GetInt("limit"));
  RECDB_RETURN_IF_ERROR(q.CheckAllUsed("limit"));
  if (limit) {
    if (*limit < 0) return Status::InvalidArgument("limit: must be >= 0");
    call.limit = static_cast<size_t>(*limit);
  }
  return call;
}

// Wraps a parsed call, or its error as a 400.
template <typename T>
ParsedRequest Wrap(StatusOr<T> r) {
  if (!r.ok()) return BadRequest(r.status());
  ParsedRequest p;
  p.call = std::move(r).value();
  return p;
}

// The raw path of a target (before '?'), not decoded.
std::string_view RawPath(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace

StatusOr<Target> ParseTarget(std::string_view target) {
  if (target.empty() || target[0] != '/') {
    return Status::InvalidArgument("the request target must start with '/'");
  }
  Target t;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  // Decoding the path as a whole would let "%2F" pose as a separator; the
  // router splits the raw path and decodes each segment (see ParseRequest).
  t.path = std::string(raw_path);
  if (q == std::string_view::npos) return t;
  std::string_view query = target.substr(q + 1);
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(pos, amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string_view k = part.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      RECDB_ASSIGN_OR_RETURN(std::string key, PercentDecode(k, true));
      RECDB_ASSIGN_OR_RETURN(std::string value, PercentDecode(v, true));
      t.query.emplace_back(std::move(key), std::move(value));
    }
    pos = amp + 1;
  }
  return t;
}

bool RequiresAuth(std::string_view target) { return RawPath(target) != "/v1/health"; }

ParsedRequest ParseRequest(std::string_view method, std::string_view target,
                           std::string_view body) {
  auto parsed_target = ParseTarget(target);
  if (!parsed_target.ok()) return BadRequest(parsed_target.status());
  const std::string& path = parsed_target->path;
  Query q(parsed_target->query);

  // Split the raw path into segments and decode each one.
  std::vector<std::string> seg;
  {
    size_t pos = 1;
    while (pos <= path.size()) {
      size_t slash = path.find('/', pos);
      if (slash == std::string::npos) slash = path.size();
      auto s = PercentDecode(std::string_view(path).substr(pos, slash - pos), false);
      if (!s.ok()) return BadRequest(s.status());
      seg.push_back(std::move(s).value());
      pos = slash + 1;
    }
  }
  if (seg.size() < 2 || seg[0] != "v1") {
    return Error(404, "no such route: " + path + " (the API lives under /v1/)");
  }

  // Route -> (method, parser). Every route has exactly one method.
  // Routes with two methods (/v1/eval, /v1/snapshots) pick by the method.
  std::string_view want;
  std::string_view allow;  // with 405; = want unless the path has two methods
  enum class R { kHealth, kStats, kRecommend, kSimilar, kEvents, kItems, kUsers, kTrain, kForget,
                 kExport, kSnapshot, kHistory, kGetItem, kGetUser, kEventsPerDay, kSpaces,
                 kNeighbors, kStartEval, kEvalStatus, kAudit, kListSnapshots,
                 kVerifySnapshot, kModel, kItemInteractions, kImpressions, kCancelEval } route;
  const std::string& name = seg[1];
  if (seg.size() == 2 && name == "health") {
    route = R::kHealth, want = "GET";
  } else if (seg.size() == 2 && name == "stats") {
    route = R::kStats, want = "GET";
  } else if (seg.size() == 2 && name == "model") {
    route = R::kModel, want = "GET";
  } else if (seg.size() == 3 && name == "stats" && seg[2] == "events_per_day") {
    route = R::kEventsPerDay, want = "GET";
  } else if (seg.size() == 2 && name == "spaces") {
    route = R::kSpaces, want = "GET";
  } else if (seg.size() == 4 && name == "spaces" && !seg[2].empty() && seg[3] == "neighbors") {
    route = R::kNeighbors, want = "GET";
  } else if (seg.size() == 2 && name == "eval") {
    if (method == "GET" || method == "HEAD") route = R::kEvalStatus, want = "GET";
    else route = R::kStartEval, want = "POST";
    allow = "GET, POST";
  } else if (seg.size() == 3 && name == "eval" && seg[2] == "cancel") {
    route = R::kCancelEval, want = "POST";
  } else if (seg.size() == 2 && name == "audit") {
    route = R::kAudit, want = "GET";
  } else if (seg.size() == 4 && name == "snapshots" && !seg[2].empty() && seg[3] == "verify") {
    route = R::kVerifySnapshot, want = "POST";
  } else if (seg.size() == 2 && name == "recommend") {
    route = R::kRecommend, want = "GET";
  } else if (seg.size() == 2 && name == "similar") {
    route = R::kSimilar, want = "GET";
  } else if (seg.size() == 2 && name == "events") {
    route = R::kEvents, want = "POST";
  } else if (seg.size() == 2 && name == "impressions") {
    route = R::kImpressions, want = "POST";
  } else if (seg.size() == 2 && name == "items") {
    route = R::kItems, want = "POST";
  } else if (seg.size() == 2 && name == "users") {
    route = R::kUsers, want = "POST";
  } else if (seg.size() == 2 && name == "train") {
    route = R::kTrain, want = "POST";
  } else if (seg.size() == 2 && name == "forget") {
    route = R::kForget, want = "POST";
  } else if (seg.size() == 2 && name == "snapshots") {
    if (method == "GET" || method == "HEAD") route = R::kListSnapshots, want = "GET";
    else route = R::kSnapshot, want = "POST";
    allow = "GET, POST";
  } else if (seg.size() == 4 && name == "users" && !seg[2].empty() && seg[3] == "export") {
    route = R::kExport, want = "GET";
  } else if (seg.size() == 4 && name == "users" && !seg[2].empty() && seg[3] == "history") {
    route = R::kHistory, want = "GET";
  } else if (seg.size() == 4 && name == "items" && !seg[2].empty() && seg[3] == "interactions") {
    route = R::kItemInteractions, want = "GET";
  } else if (seg.size() == 3 && name == "items" && !seg[2].empty()) {
    route = R::kGetItem, want = "GET";
  } else if (seg.size() == 3 && name == "users" && !seg[2].empty()) {
    route = R::kGetUser, want = "GET";
  } else {
    return Error(404, "no such route: " + path);
  }
  // HEAD is GET without the body (RFC 9110 9.3.2): parsed and executed as
  // GET; the server leaves the body out (http_server.cc).
  if (allow.empty()) allow = want;
  const bool head_of_get = method == "HEAD" && want == "GET";
  if (method != want && !head_of_get) {
    std::string allowed(allow);  // every GET route also answers HEAD
    if (allowed.compare(0, 3, "GET") == 0) allowed.insert(3, ", HEAD");
    return Error(405, "method " + std::string(method) + " not allowed on " + path + " (use " +
                          allowed + ")",
                 allowed);
  }
  // GET routes take parameters; POST routes take a body and no parameters.
  if (want == "POST") {
    Status s = q.CheckAllUsed("none: send a JSON body");
    if (!s.ok()) return BadRequest(s);
  }
  switch (route) {
    case R::kHealth:
    case R::kStats:
    case R::kModel:
    case R::kSpaces:
    case R::kEvalStatus:
    case R::kListSnapshots: {
      Status s = q.CheckAllUsed("none");
      if (!s.ok()) return BadRequest(s);
      ParsedRequest p;
      if (route == R::kHealth) p.call = HealthCall{};
      else if (route == R::kStats) p.call = StatsCall{};
      else if (route == R::kModel) p.call = ModelCall{};
      else if (route == R::kSpaces) p.call = ListSpacesCall{};
      else if (route == R::kEvalStatus) p.call = EvalStatusCall{};
      else p.call = ListSnapshotsCall{};
      return p;
    }
    case R::kEventsPerDay: {
      EventsPerDayCall call;
      Status s = ParseTimeRange(q, &call.from, &call.to);
      if (s.ok()) s = q.CheckAllUsed("from, to");
      if (!s.ok()) return BadRequest(s);
      ParsedRequest p;
      p.call = call;
      return p;
    }
    case R::kCancelEval: {
      auto b = BodyObject(body, /*empty_ok=*/true);
      if (!b.ok()) return BadRequest(b.status());
      Status s = OnlyFields(*b, {"job"}, "job");
      CancelEvalCall call;
      if (auto it = b->find("job"); s.ok() && it != b->end()) {
        if (!it->is_number_unsigned()) s = Status::InvalidArgument("job: expected a job number >= 0");
        else call.job = it->get<uint64_t>();
      }
      if (!s.ok()) return BadRequest(s);
      ParsedRequest p;
      p.call = call;
      return p;
    }
    case R::kNeighbors: return Wrap(ParseNeighbors(seg[2], q));
    case R::kAudit: return Wrap(ParseAudit(q));
    case R::kStartEval: return Wrap(ParseEval(body));
    case R::kVerifySnapshot: {
      auto b = BodyObject(body, /*empty_ok=*/true);
      if (!b.ok()) return BadRequest(b.status());
      Status s = OnlyFields(*b, {}, "none");
      if (!s.ok()) return BadRequest(s);
      // Only a snapshot's own name, so the path cannot leave the backup directory.
      const std::string& snap = seg[2];
      bool digits = snap.size() > 9 && snap.compare(0, 9, "snapshot-") == 0;
      for (size_t i = 9; digits && i < snap.size(); ++i) digits = snap[i] >= '0' && snap[i] <= '9';
      if (!digits) {
        return Error(400, "snapshot name: expected snapshot-N (as GET /v1/snapshots lists), got '" +
                              snap + "'");
      }
      ParsedRequest p;
      p.call = VerifySnapshotCall{snap};
      return p;
    }
    case R::kRecommend: return Wrap(ParseRecommend(q));
    case R::kSimilar: return Wrap(ParseSimilar(q));
    case R::kEvents:
      return Wrap(ParseRecords<EventsCall>(body, "events", tools::EventFromJson, tools::ValidateEvent));
    case R::kItems:
      return Wrap(ParseRecords<ItemsCall>(body, "items", tools::ItemFromJson, tools::ValidateItem));
    case R::kUsers:
      return Wrap(ParseRecords<UsersCall>(body, "users", tools::UserFromJson, tools::ValidateUser));
    case R::kImpressions: return Wrap(ParseImpressions(body));
    case R::kTrain: return Wrap(ParseTrain(body));
    case R::kForget: return Wrap(ParseForget(body));
    case R::kSnapshot: return Wrap(ParseSnapshot(body));
    case R::kExport: {
      Status s = q.CheckAllUsed("none");
      if (!s.ok()) return BadRequest(s);
      ParsedRequest p;
      p.call = ExportUserCall{seg[2]};
      return p;
    }
    case R::kHistory: return Wrap(ParseHistory(seg[2], q));
    case R::kItemInteractions: return Wrap(ParseItemInteractions(seg[2], q));
    case R::kGetItem:
    case R::kGetUser: {
      Status s = q.CheckAllUsed("none");
      if (!s.ok()) return BadRequest(s);
      ParsedRequest p;
      if (route == R::kGetItem) p.call = GetItemCall{seg[2]};
      else p.call = GetUserCall{seg[2]};
      return p;
    }
  }
  return Error(404, "no such route: " + path);
}

}  // namespace recdb::serve
