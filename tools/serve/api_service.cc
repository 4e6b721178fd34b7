#include "tools/serve/api_service.h"

#include <exception>

#include <nlohmann/json.hpp>

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

}  // namespace

ApiService::ApiService(DB* db, Config config) : db_(db), config_(std::move(config)) {}

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
    return Ok(ojson{{"user", r->user},
                    {"had_user_record", r->had_user_record},
                    {"user_auto_created", r->user_auto_created},
                    {"events_removed", r->events_removed},
                    {"vectors_removed", r->vectors_removed},
                    {"impressions_removed", r->impressions_removed},
                    {"counts_adjusted", r->counts_adjusted},
                    {"bytes_estimate", r->bytes_estimate},
                    {"timestamp", r->timestamp},
                    {"ledger_hash", r->ledger_hash},
                    {"physically_erased", r->physically_erased},
                    {"model_retrained", r->model_retrained},
                    {"retrain_scheduled", r->retrain_scheduled}});
  }
  if (const auto* c = std::get_if<ExportUserCall>(&call)) {
    auto r = db_->ExportUser(c->user);
    if (!r.ok()) return FromStatus(r.status());
    ApiResponse out;
    out.body = *r;  // already one JSON object (DB::ExportUser)
    return out;
  }
  if (const auto* c = std::get_if<HistoryCall>(&call)) {
    auto history = db_->GetUserHistory(c->user, c->range);
    if (!history.ok()) return FromStatus(history.status());
    // The same document as `recdb history --json`.
    ojson events = ojson::array();
    for (const auto& e : *history) events.push_back(tools::ToJson(e));
    return Ok(ojson{{"user", c->user}, {"count", history->size()}, {"events", std::move(events)}});
  }
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
    return Ok(ojson{{"id", r->id},
                    {"name", r->name},
                    {"path", r->path},
                    {"sequence_number", r->sequence_number},
                    {"format_version", r->format_version},
                    {"created_unix_micros", r->created_unix_micros},
                    {"files", r->files},
                    {"bytes", r->bytes},
                    {"unique_bytes", r->unique_bytes},
                    {"seconds", r->seconds}});
  }
  return Error(500, "internal", "unhandled call");
}

}  // namespace recdb::serve
