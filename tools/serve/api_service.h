// ApiService: answers one recdb HTTP/JSON request (already authenticated and
// read whole) against a DB, through the public C++ API only. It holds no
// socket: tools/serve/http_server.h does the HTTP, this does the meaning.
//
// Responses are JSON. Success bodies match the CLI's `--json` output for the
// same operation (recommend and similar are tools/cli/recommend_json.h, stats
// as `recdb stats --json`, train as `recdb train --json`, forget as `recdb
// forget --json` plus two fields). Errors are
//   {"error": {"code": "invalid_argument", "message": "..."}}
// with the HTTP status from the DB's Status: invalid_argument 400,
// not_found 404, already_exists / failed_precondition 409,
// resource_exhausted 429... see HttpStatusOf.
//
// A request that fails to parse never reaches the DB, so no error path of
// the parser changes stored data; a DB write that fails stores nothing of its
// batch (recdb/db.h).
//
// GET /v1/items/{id}/interactions says who interacts with an item: its
// (possibly noised) counts by type and day from DB::GetItemCounts and, only
// when Config::aggregate_privacy is off, its distinct users and the latest
// of them (one scan of the event log: DB::ForEachEvent).
//
// POST /v1/eval starts DB::Evaluate on a thread of its own (EvalJob, one at
// a time; GET /v1/eval polls it), so a long evaluation holds no request
// thread.
//
// Thread-safety: Handle may be called from many threads at once (the DB is
// thread-safe; the only mutable state is the EvalJob, which locks). The
// destructor waits for a running evaluation.
#pragma once

#include <memory>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recdb/db.h"
#include "tools/serve/eval_job.h"
#include "tools/serve/request.h"

namespace recdb::serve {

struct ApiResponse {
  int status = 200;
  std::string body;   // JSON text (or, for the console's assets, the file)
  std::string allow;  // with 405: the Allow header
  std::string content_type = "application/json";
  // Further response headers (the console's Content-Security-Policy, ...).
  std::vector<std::pair<std::string, std::string>> headers;
};

class ApiService {
 public:
  struct Config {
    // Directory POST /v1/snapshots writes snapshots into; empty: the route
    // answers 409 (the server was started without --backup-dir).
    std::string backup_dir;
    // Runs POST /v1/eval's evaluation; empty: DB::Evaluate. Tests put a
    // stand-in here (one that waits, to see the 409 and the progress).
    EvalJob::Runner evaluate;
    // Whether the database was opened with aggregate privacy (Laplace noise
    // on counts, Options::aggregate_privacy.popularity_epsilon > 0) or with
    // pseudonyms: then GET /v1/items/{id}/interactions answers counts only,
    // never a user id. Default true, so a caller that does not say gets
    // counts only; `recdb serve` sets it from the options it opened with.
    bool aggregate_privacy = true;
    // The epsilon of that noise (0: none), reported by the same route.
    double popularity_epsilon = 0.0;
  };

  // `db` must outlive the service.
  ApiService(DB* db, Config config);
  ~ApiService();
  ApiService(const ApiService&) = delete;
  ApiService& operator=(const ApiService&) = delete;

  // Parses and executes one request. Never throws: an unexpected exception
  // becomes a 500.
  ApiResponse Handle(std::string_view method, std::string_view target, std::string_view body);

  // Executes a parsed call.
  ApiResponse Execute(const ApiCall& call);

  // The error body for `status` / the HTTP status a DB Status maps to.
  static ApiResponse Error(int http_status, std::string_view code, std::string_view message);
  static ApiResponse FromStatus(const Status& s);
  static int HttpStatusOf(StatusCode code);

 private:
  ApiResponse History(const HistoryCall& c);                 // paged history
  ApiResponse Interactions(const ItemInteractionsCall& c);  // who interacts

  DB* db_;
  Config config_;
  std::unique_ptr<EvalJob> eval_;  // POST/GET /v1/eval
};

}  // namespace recdb::serve
