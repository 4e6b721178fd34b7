#include "tools/serve/api_service.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "recdb/snapshot.h"
#include "tools/cli/admin_json.h"
#include "tools/cli/recommend_json.h"
#include "tools/import/record_json.h"

namespace recdb::serve {
namespace {

using ojson = nlohmann::ordered_json;

ApiResponse Ok(const ojson& j) {
  ApiResponse r;
  r.body = tools::JsonLine(j);
  return r;
}

// "1997-09-20" for UTC day number `day` (timestamp / 86400).
std::string DayText(int64_t day) {
  const std::time_t t = static_cast<std::time_t>(day * 86400);
  std::tm tm{};
  char buf[16] = "";
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

// POST /v1/eval's request, echoed by GET /v1/eval.
ojson EvalRequestJson(const EvaluateOptions& o) {
  ojson j;
  j["recommenders"] = o.recommenders;
  j["threads"] = o.threads;
  if (!o.content_space.empty()) j["content_space"] = o.content_space;
  if (o.care) {
    j["care"] = {{"diversity", o.care->diversity},
                 {"calibration", o.care->calibration},
                 {"calibration_recent_items", o.care->calibration_recent_items},
                 {"fair_share", o.care->fair_share},
                 {"exploration", o.care->exploration}};
  }
  if (o.sweep) {
    j["sweep"] = {{"knob", o.sweep->knob},
                  {"from", o.sweep->from},
                  {"to", o.sweep->to},
                  {"step", o.sweep->step}};
  }
  return j;
}

}  // namespace

ApiService::ApiService(DB* db, Config config) : db_(db), config_(std::move(config)) {
  EvalJob::Runner run = config_.evaluate;
  if (!run) run = [db](const EvaluateOptions& o) { return db->Evaluate(o); };
  eval_ = std::make_unique<EvalJob>(std::move(run));
}

ApiService::~ApiService() = default;

int ApiService::HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kNotSupported: return 501;
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

ApiResponse ApiService::Error(int http_status, std::string_view code, std::string_view message) {
  ojson j;
  j["error"] = {{"code", std::string(code)}, {"message", std::string(message)}};
  ApiResponse r;
  r.status = http_status;
  r.body = tools::JsonLine(j);
  return r;
}

ApiResponse ApiService::FromStatus(const Status& s) {
  return Error(HttpStatusOf(s.code()), StatusCodeName(s.code()), s.message());
}

ApiResponse ApiService::Handle(std::string_view method, std::string_view target,
                               std::string_view body) {
  try {
    ParsedRequest p = ParseRequest(method, target, body);
    if (!p.ok()) {
      const char* code = p.http_status == 404   ? "not_found"
                         : p.http_status == 405 ? "method_not_allowed"
                                                : "invalid_argument";
      ApiResponse r = Error(p.http_status, code, p.message);
      r.allow = p.allow;
      return r;
    }
    return Execute(p.call);
  } catch (const std::exception& e) {
    return Error(500, "internal", std::string("unexpected error: ") + e.what());
  } catch (...) {
    return Error(500, "internal", "unexpected error");
  }
}

ApiResponse ApiService::Execute(const ApiCall& call) {
  if (std::holds_alternative<HealthCall>(call)) {
    return Ok(ojson{{"status", "ok"}});
  }
  if (std::holds_alternative<StatsCall>(call)) {
    auto stats = db_->GetStats();
    if (!stats.ok()) return FromStatus(stats.status());
    return Ok(cli::StatsToJson(*stats));  // the same document as `recdb stats --json`
  }
  if (std::holds_alternative<ModelCall>(call)) {
    auto report = db_->GetModelReport();
    if (!report.ok()) return FromStatus(report.status());
    return Ok(cli::TrainReportToJson(*report));
  }
  if (const auto* c = std::get_if<RecommendCall>(&call)) {
    auto r = db_->Recommend(c->request);
    if (!r.ok()) return FromStatus(r.status());
    return Ok(cli::RecommendationsToJson(*r, c->explain));
  }
  if (const auto* c = std::get_if<SimilarCall>(&call)) {
    auto r = db_->SimilarItems(c->item, c->k, c->filter);
    if (!r.ok()) return FromStatus(r.status());
    return Ok(cli::RecommendationsToJson(*r, c->explain));
  }
  if (const auto* c = std::get_if<EventsCall>(&call)) {
    RecordEventsResult r;
    Status s = db_->RecordEvents({}, c->events, &r);
    if (!s.ok()) return FromStatus(s);
    // "events" counts the events accepted (stored or, under the user's
    // consent, counted only); events of forgotten users are not among them.
    ojson j{{"events", r.stored + r.counted_only},
            {"stored", r.stored},
            {"counted_only", r.counted_only},
            {"dropped_forgotten", r.dropped_forgotten}};
    if (r.dropped_forgotten > 0) {
      j["warning"] = std::to_string(r.dropped_forgotten) +
                     " events dropped: their user is in the forget ledger (POST /v1/forget); "
                     "they are not stored";
    }
    return Ok(j);
  }
  if (const auto* c = std::get_if<ImpressionsCall>(&call)) {
    Status s = db_->RecordImpressions({}, c->user, c->items, c->context);
    if (!s.ok()) return FromStatus(s);
    return Ok(ojson{{"items", c->items.size()}});
  }
  if (const auto* c = std::get_if<ItemsCall>(&call)) {
    Status s = db_->UpsertItems({}, c->items);
    if (!s.ok()) return FromStatus(s);
    return Ok(ojson{{"items", c->items.size()}});
  }
  if (const auto* c = std::get_if<UsersCall>(&call)) {
    Status s = db_->UpsertUsers({}, c->users);
    if (!s.ok()) return FromStatus(s);
    return Ok(ojson{{"users", c->users.size()}});
  }
  if (const auto* c = std::get_if<TrainCall>(&call)) {
    auto report = db_->Train(c->options);
    if (!report.ok()) return FromStatus(report.status());
    // The same document as `recdb train --json`.
    ojson j;
    j["model_version"] = report->model_version;
    j["events"] = report->events;
    j["seconds"] = report->seconds;
    j["weights"] = report->weights;
    return Ok(j);
  }
  if (const auto* c = std::get_if<ForgetCall>(&call)) {
    auto r = db_->ForgetUser(c->user, c->options);
    if (!r.ok()) return FromStatus(r.status());
    // `recdb forget --json`, plus what happened to the model.
    ojson j = cli::ErasureReceiptToJson(*r);
    j["model_retrained"] = r->model_retrained;
    j["retrain_scheduled"] = r->retrain_scheduled;
    return Ok(j);
  }
  if (const auto* c = std::get_if<ExportUserCall>(&call)) {
    auto r = db_->ExportUser(c->user);
    if (!r.ok()) return FromStatus(r.status());
    ApiResponse out;
    out.body = *r;  // already one JSON object (DB::ExportUser)
    return out;
  }
  if (const auto* c = std::get_if<HistoryCall>(&call)) {
    if (c->paged) return History(*c);
    auto history = db_->GetUserHistory(c->user, c->range);
    if (!history.ok()) return FromStatus(history.status());
    // The same document as `recdb history --json`.
    ojson events = ojson::array();
    for (const auto& e : *history) events.push_back(tools::ToJson(e));
    return Ok(ojson{{"user", c->user}, {"count", history->size()}, {"events", std::move(events)}});
  }
  if (const auto* c = std::get_if<ItemInteractionsCall>(&call)) return Interactions(*c);
  if (const auto* c = std::get_if<GetItemCall>(&call)) {
    auto item = db_->GetItem(c->item);
    if (!item.ok()) return FromStatus(item.status());
    // The same document as `recdb get --item ID --json`.
    ojson j = tools::ToJson(*item);
    auto counts = db_->GetItemCounts(item->id);
    if (counts.ok()) j["counts"] = {{"total", counts->total}, {"by_type", counts->by_type}};
    return Ok(j);
  }
  if (const auto* c = std::get_if<GetUserCall>(&call)) {
    auto user = db_->GetUser(c->user);
    if (!user.ok()) return FromStatus(user.status());
    // The same document as `recdb get --user ID --json` (consent included).
    return Ok(tools::ToJson(*user));
  }
  if (const auto* c = std::get_if<SnapshotCall>(&call)) {
    if (config_.backup_dir.empty()) {
      return FromStatus(Status::FailedPrecondition(
          "snapshots are off: start the server with --backup-dir DIR"));
    }
    auto r = db_->CreateSnapshot(config_.backup_dir, c->options);
    if (!r.ok()) return FromStatus(r.status());
    ojson j = cli::SnapshotToJson(*r);
    j["seconds"] = r->seconds;
    return Ok(j);
  }
  if (const auto* c = std::get_if<EventsPerDayCall>(&call)) {
    // Summed from the per-item daily counts (DB::GetItemCounts): aggregates
    // only, so counted-only events (consent store_events off) are in them
    // and forgotten users' events are not.
    std::vector<std::string> ids;
    Status s = db_->ForEachItem([&](const Item& item) {
      ids.push_back(item.id);
      return Status::OK();
    });
    if (!s.ok()) return FromStatus(s);
    std::map<int64_t, int64_t> per_day;
    for (const auto& id : ids) {
      auto counts = db_->GetItemCounts(id);
      if (!counts.ok()) {
        if (counts.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
        return FromStatus(counts.status());
      }
      for (const auto& [day, by_type] : counts->by_day) {
        for (const auto& [type, n] : by_type) per_day[day] += n;
      }
    }
    ojson days = ojson::array();
    int64_t total = 0;
    // The days that overlap [from, to): floor(from / 86400) to
    // floor((to - 1) / 86400) (timestamps are >= 0, so / is floor).
    const int64_t first_day = c->from ? *c->from / 86400 : std::numeric_limits<int64_t>::min();
    const int64_t last_day = c->to ? (*c->to - 1) / 86400 : std::numeric_limits<int64_t>::max();
    for (const auto& [day, n] : per_day) {
      if (day < first_day || day > last_day) continue;
      days.push_back({{"day", day}, {"date", DayText(day)}, {"events", n}});
      total += n;
    }
    ojson j{{"days", std::move(days)}, {"total", total}};
    if (c->from) j["from"] = *c->from;
    if (c->to) j["to"] = *c->to;
    return Ok(j);
  }
  if (std::holds_alternative<ListSpacesCall>(call)) {
    auto spaces = db_->ListSpaces();
    if (!spaces.ok()) return FromStatus(spaces.status());
    ojson list = ojson::array();
    for (const auto& info : *spaces) list.push_back(cli::SpaceToJson(info));
    return Ok(ojson{{"spaces", std::move(list)}});
  }
  if (const auto* c = std::get_if<NeighborsCall>(&call)) {
    // The item's own vector as the query, as `recdb search DIR --space S --item ID`.
    auto r = db_->SearchSimilarToItem(c->space, c->item, c->k);
    if (!r.ok()) return FromStatus(r.status());
    ojson items = ojson::array();
    for (const auto& s : *r) items.push_back({{"id", s.id}, {"score", s.score}});
    return Ok(ojson{{"space", c->space}, {"item", c->item}, {"items", std::move(items)}});
  }
  if (const auto* c = std::get_if<StartEvalCall>(&call)) {
    auto started = eval_->Start(c->options, EvalRequestJson(c->options));
    if (!started.ok()) return FromStatus(started.status());
    ApiResponse r = Ok(*started);
    r.status = 202;  // accepted: poll GET /v1/eval
    return r;
  }
  if (std::holds_alternative<EvalStatusCall>(call)) return Ok(eval_->Describe());
  if (const auto* c = std::get_if<CancelEvalCall>(&call)) {
    auto cancelling = eval_->Cancel(c->job);
    if (!cancelling.ok()) return FromStatus(cancelling.status());
    return Ok(*cancelling);  // "running" with "cancelling": poll GET /v1/eval for "cancelled"
  }
  if (const auto* c = std::get_if<AuditCall>(&call)) {
    auto log = db_->ReadAuditLog();
    if (!log.ok()) return FromStatus(log.status());
    // The entries of `recdb privacy audit --json`, oldest first.
    const size_t skip = c->limit > 0 && log->size() > c->limit ? log->size() - c->limit : 0;
    ojson entries = ojson::array();
    for (size_t i = skip; i < log->size(); ++i) entries.push_back(cli::AuditEntryToJson((*log)[i]));
    return Ok(ojson{{"total", log->size()}, {"entries", std::move(entries)}});
  }
  if (std::holds_alternative<ListSnapshotsCall>(call)) {
    if (config_.backup_dir.empty()) {
      return FromStatus(Status::FailedPrecondition(
          "backups are off: start the server with --backup-dir DIR"));
    }
    auto list = ListSnapshots(config_.backup_dir);
    ojson snaps = ojson::array();
    if (!list.ok() && list.status().code() != StatusCode::kNotFound) {
      return FromStatus(list.status());
    }
    if (list.ok()) {
      for (const auto& s : *list) snaps.push_back(cli::SnapshotToJson(s));
    }
    // A backup directory not created yet holds no snapshot.
    return Ok(ojson{{"backup_dir", config_.backup_dir}, {"snapshots", std::move(snaps)}});
  }
  if (const auto* c = std::get_if<VerifySnapshotCall>(&call)) {
    if (config_.backup_dir.empty()) {
      return FromStatus(Status::FailedPrecondition(
          "backups are off: start the server with --backup-dir DIR"));
    }
    const std::string path = config_.backup_dir + "/" + c->name;
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
      return FromStatus(Status::NotFound("no snapshot " + c->name + " in " + config_.backup_dir +
                                         " (GET /v1/snapshots lists them)"));
    }
    auto r = VerifySnapshots(path);
    if (!r.ok()) return FromStatus(r.status());
    // The document of `recdb backup verify SNAPSHOT --json`, plus its name.
    ojson j{{"name", c->name}};
    j.update(cli::VerifyReportToJson(*r));
    return Ok(j);
  }
  return Error(500, "internal", "unhandled call");
}

ApiResponse ApiService::History(const HistoryCall& c) {
  HistoryRange all = c.range;
  all.limit = 0;  // the page is cut below, after ordering
  auto history = db_->GetUserHistory(c.user, all);
  if (!history.ok()) return FromStatus(history.status());
  const size_t total = history->size();
  ojson events = ojson::array();
  size_t i = c.offset;
  for (; i < total && (c.range.limit == 0 || events.size() < c.range.limit); ++i) {
    events.push_back(tools::ToJson(c.newest_first ? (*history)[total - 1 - i] : (*history)[i]));
  }
  ojson j{{"user", c.user},
          {"count", events.size()},
          {"events", std::move(events)},
          {"order", c.newest_first ? "newest" : "oldest"},
          {"offset", c.offset},
          {"total", total}};
  if (i < total) j["next_offset"] = i;  // more: ask again with offset=next_offset
  return Ok(j);
}

ApiResponse ApiService::Interactions(const ItemInteractionsCall& c) {
  auto counts = db_->GetItemCounts(c.item);  // noised under aggregate privacy
  if (!counts.ok()) return FromStatus(counts.status());
  ojson days = ojson::array();
  for (const auto& [day, by_type] : counts->by_day) {
    int64_t n = 0;
    for (const auto& [type, k] : by_type) n += k;
    days.push_back({{"day", day}, {"date", DayText(day)}, {"events", n}, {"by_type", by_type}});
  }
  ojson j{{"item", c.item},
          {"aggregate_privacy", config_.aggregate_privacy},
          {"total", counts->total},
          {"by_type", counts->by_type},
          {"by_day", std::move(days)}};
  if (config_.aggregate_privacy) {
    if (config_.popularity_epsilon > 0) j["popularity_epsilon"] = config_.popularity_epsilon;
    j["note"] = "aggregate privacy is on: counts only (with Laplace noise when "
                "popularity_epsilon > 0), no user ids";
    return Ok(j);
  }
  // Who: a bounded scan of the event log. Events are keyed user first
  // (storage/FORMAT.md, for forgetting), so no key range holds one item's
  // events and the store keeps no item -> users index; rather than read the
  // whole log on every call, read at most c.scan events (users in creation
  // order) and say whether that was all of it.
  struct Who {
    int64_t events = 0;
    int64_t last_ts = 0;
    std::string last_type;
  };
  static const Status kBudgetSpent = Status::Aborted("interactions: scan budget spent");
  std::map<std::string, Who> users;
  size_t scanned = 0;
  bool complete = true;
  Status s = db_->ForEachEvent([&](const Event& e) {
    if (scanned == c.scan) {  // one more event exists: the budget did not cover the log
      complete = false;
      return kBudgetSpent;
    }
    ++scanned;
    if (e.item != c.item) return Status::OK();
    Who& w = users[e.user];
    ++w.events;
    if (w.events == 1 || e.timestamp >= w.last_ts) w.last_ts = e.timestamp, w.last_type = e.type;
    return Status::OK();
  });
  if (!s.ok() && complete) return FromStatus(s);
  std::vector<std::pair<std::string, Who>> latest(users.begin(), users.end());
  std::stable_sort(latest.begin(), latest.end(), [](const auto& a, const auto& b) {
    return a.second.last_ts > b.second.last_ts;
  });
  if (latest.size() > c.users) latest.resize(c.users);
  ojson list = ojson::array();
  for (const auto& [user, w] : latest) {
    list.push_back({{"user", user}, {"events", w.events}, {"last_type", w.last_type},
                    {"last_ts", w.last_ts}});
  }
  j["distinct_users"] = users.size();
  j["users"] = std::move(list);
  j["scanned_events"] = scanned;
  j["scan_complete"] = complete;
  if (!complete) {
    j["note"] = "the event log holds more than scan=" + std::to_string(c.scan) +
                " events: distinct_users and users cover the first " + std::to_string(scanned) +
                " (users in creation order); ask with a larger scan for more";
  }
  return Ok(j);
}

}  // namespace recdb::serve
