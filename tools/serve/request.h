// Parsing an HTTP request of the recdb service (`recdb serve`) into the DB
// call it asks for: routing (404, 405), query parameters and JSON bodies
// (400 with a message naming the field). A pure function of (method, target,
// body): no socket, no database, no Boost, so it is unit-tested and fuzzed
// (tests/fuzz/fuzz_http_request.cc) on its own.
//
// Routes (tools/serve/openapi.yaml describes each in full):
//   GET  /v1/health                 GET  /v1/stats
//   GET  /v1/model                  (the serving model's training run)
//   GET  /v1/recommend?user=ID&k=N  GET  /v1/similar?item=ID&k=N
//   POST /v1/events  {"events":[...]}   POST /v1/items {"items":[...]}
//   POST /v1/users   {"users":[...]}    POST /v1/train [{options}]
//   POST /v1/forget  {"user":ID,...}    GET  /v1/users/{id}/export
//   POST /v1/snapshots [{"link_files":bool}]
//   GET  /v1/users/{id}/history?limit=N&from=TS&to=TS[&order=newest&offset=M]
//   GET  /v1/items/{id}/interactions?users=N&scan=M  (who interacts: counts,
//                 and user ids, from at most M events, only without aggregate privacy)
//   GET  /v1/users/{id}                 GET  /v1/items/{id}
//   GET  /v1/stats/events_per_day?from=TS&to=TS   GET  /v1/spaces
//   GET  /v1/spaces/{name}/neighbors?item=ID&k=N
//   POST /v1/eval {options}  GET /v1/eval   (a background job: start, poll)
//   POST /v1/eval/cancel [{"job":N}]   (stop it at its next checkpoint)
//   GET  /v1/audit?limit=N              GET  /v1/snapshots
//   POST /v1/snapshots/{name}/verify
//   POST /v1/impressions {"user":ID,"items":[...],"timestamp":TS,
//                         "context":{...},"propensities":[...]}
//
// Query parameters mirror the flags of `recdb recommend` / `recdb similar`
// (snake_case: include_seen, fair_share, ...); unknown parameters and unknown
// JSON fields are errors, so a misspelt one is never silently ignored.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "recdb/options.h"
#include "recdb/privacy.h"
#include "recdb/recommend.h"
#include "recdb/records.h"
#include "recdb/snapshot.h"
#include "recdb/status.h"

namespace recdb::serve {

struct HealthCall {};
struct StatsCall {};
struct ModelCall {};
struct RecommendCall {
  RecommendRequest request;
  bool explain = false;
};
struct SimilarCall {
  std::string item;
  size_t k = 10;
  ItemFilter filter;
  bool explain = false;
};
struct EventsCall {
  std::vector<Event> events;
};
struct ImpressionsCall {  // DB::RecordImpressions
  std::string user;
  std::vector<std::string> items;
  ImpressionContext context;
};
struct ItemsCall {
  std::vector<Item> items;
};
struct UsersCall {
  std::vector<User> users;
};
struct TrainCall {
  TrainOptions options;
};
struct ForgetCall {
  std::string user;
  ForgetOptions options;
};
struct ExportUserCall {
  std::string user;
};
struct SnapshotCall {
  SnapshotOptions options;
};
struct HistoryCall {
  std::string user;
  HistoryRange range;
  // Paging (the console's timeline): with `paged`, the whole range is read,
  // ordered (newest first when `newest_first`), and events [offset, offset +
  // range.limit) of that order returned with the range's total.
  bool paged = false;
  bool newest_first = false;
  size_t offset = 0;
};
struct ItemInteractionsCall {
  std::string item;
  size_t users = 20;  // at most this many users listed (when ids may be shown)
  // Without aggregate privacy, the users come from a scan of the event log
  // (the store has no item -> users index: events are keyed user first,
  // storage/FORMAT.md): at most this many events are read, so one call costs
  // O(scan), not O(log). 0 reads none (counts only).
  size_t scan = kDefaultScan;
  static constexpr size_t kDefaultScan = 100000;
  static constexpr size_t kMaxScan = 10000000;
};
struct GetItemCall {
  std::string item;
};
struct GetUserCall {
  std::string user;
};
// GET /v1/stats/events_per_day?from=TS&to=TS: the UTC days that overlap
// [from, to) (whole days: the counts are per day).
struct EventsPerDayCall {
  std::optional<int64_t> from;
  std::optional<int64_t> to;
};
struct ListSpacesCall {};
struct NeighborsCall {
  std::string space;
  std::string item;
  size_t k = 10;
};
struct StartEvalCall {
  EvaluateOptions options;
};
struct EvalStatusCall {};
// POST /v1/eval/cancel [{"job": N}]: stop the running evaluation at its next
// checkpoint; with `job`, only if that job is the one running.
struct CancelEvalCall {
  std::optional<uint64_t> job;
};
struct AuditCall {
  size_t limit = 0;  // 0: every entry; else the newest `limit`
};
struct ListSnapshotsCall {};
struct VerifySnapshotCall {
  std::string name;  // "snapshot-000001": one snapshot of the backup directory
};

using ApiCall = std::variant<HealthCall, StatsCall, RecommendCall, SimilarCall, EventsCall,
                             ItemsCall, UsersCall, TrainCall, ForgetCall, ExportUserCall,
                             SnapshotCall, HistoryCall, GetItemCall, GetUserCall,
                             EventsPerDayCall, ListSpacesCall, NeighborsCall, StartEvalCall,
                             EvalStatusCall, AuditCall, ListSnapshotsCall, VerifySnapshotCall,
                             ModelCall, ItemInteractionsCall, ImpressionsCall, CancelEvalCall>;

// The outcome of parsing: a call, or the HTTP error to answer with.
struct ParsedRequest {
  ApiCall call;
  int http_status = 0;  // 0: `call` is valid; else 400, 404 or 405
  std::string message;  // why, for the error body
  std::string allow;    // with 405: the route's methods ("GET, HEAD", "POST" or "GET, HEAD, POST")

  bool ok() const { return http_status == 0; }
};

// Largest number of records one POST /v1/events|items|users may carry.
inline constexpr size_t kMaxRecordsPerRequest = kMaxBatchSize;

// Parses one request. `method` is the HTTP method as sent ("GET"), `target`
// the request target ("/v1/recommend?user=1&k=10"), `body` the whole body
// (ignored by GET routes). Never throws.
ParsedRequest ParseRequest(std::string_view method, std::string_view target,
                           std::string_view body);

// Whether a request to `target` must carry the bearer token: every route but
// GET /v1/health (which reveals nothing but that the server is up).
bool RequiresAuth(std::string_view target);

// A request target split into its percent-decoded path and query
// parameters, in order. Errors: InvalidArgument for a target that does not
// start with '/', a bad %-escape, or a decoded NUL byte.
struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
};
[[nodiscard]] StatusOr<Target> ParseTarget(std::string_view target);

}  // namespace recdb::serve
