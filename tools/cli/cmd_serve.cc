// recdb serve DIR: the database as a loopback HTTP/JSON service
// (tools/serve/README.md, tools/serve/openapi.yaml).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/serve/http_server.h"

namespace recdb::cli {
namespace {

// The shortest bearer token `recdb serve` accepts, in bytes.
constexpr size_t kMinTokenBytes = 16;

// The token from --token or the first line of --token-file, trimmed; at
// least kMinTokenBytes long.
StatusOr<std::string> ReadToken(const ArgParser& args) {
  if (args.Has("token") && args.Has("token-file")) {
    return Status::InvalidArgument("give --token or --token-file, not both");
  }
  std::string token;
  if (args.Has("token")) {
    token = args.Get("token");
  } else if (args.Has("token-file")) {
    std::ifstream in(args.Get("token-file"));
    if (!in) return Status::IOError("cannot read --token-file " + args.Get("token-file"));
    std::getline(in, token);
  } else {
    return Status::InvalidArgument(
        "a bearer token is required: --token T or --token-file FILE (clients send "
        "\"Authorization: Bearer T\")");
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) {
    token.pop_back();
  }
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.erase(0, 1);
  if (token.empty()) return Status::InvalidArgument("the bearer token is empty");
  // A token anyone can guess in a few tries protects nothing: the server
  // compares in constant time but does not rate-limit wrong tokens.
  if (token.size() < kMinTokenBytes) {
    return Status::InvalidArgument(
        "the bearer token is " + std::to_string(token.size()) +
        (token.size() == 1 ? " byte" : " bytes") + "; at least " +
        std::to_string(kMinTokenBytes) +
        " are required (e.g. `openssl rand -hex 16 > FILE`, then --token-file FILE)");
  }
  return token;
}

int ServeMain(int argc, char** argv) {
  ArgParser args(
      "serve", "Serve DIR over HTTP/JSON on a loopback address (bearer-token auth).",
      "Endpoints under /v1/ (tools/serve/openapi.yaml): recommend, similar, events, impressions,\n"
      "items, items/{id}, items/{id}/interactions, users, users/{id}/history, users/{id}/export,\n"
      "train, forget, snapshots, stats, health; a web console at /console/ (log in with\n"
      "the token). On start the recommenders are trained with the stored fusion weights\n"
      "(as `recdb recommend` does), then one JSON line {\"address\", \"port\", ...} is printed on stdout.\n"
      "SIGINT/SIGTERM: stop accepting, finish the requests in flight, close DIR.");
  args.AddPositional("DIR", "database directory (created with --create)");
  args.AddFlag("address", "IP", "address to listen on", "127.0.0.1");
  args.AddFlag("port", "N", "TCP port; 0 picks a free one", "0");
  args.AddSwitch("allow-remote", "allow a non-loopback --address (plain HTTP: add TLS in front)");
  args.AddFlag("token", "T",
               "bearer token clients must send, >= 16 bytes (visible in ps: prefer --token-file)");
  args.AddFlag("token-file", "FILE", "read the bearer token from the first line of FILE");
  args.AddFlag("threads", "N", "threads serving requests", "2");
  args.AddFlag("max-body-bytes", "N", "largest request body (larger: 413)", "16777216");
  args.AddFlag("request-timeout-ms", "MS", "time to receive a request / send a response", "30000");
  args.AddFlag("backup-dir", "DIR", "enable POST /v1/snapshots, writing snapshots into DIR");
  args.AddFlag("retrain-interval", "S", "retrain in the background every S seconds (0: off; when not given, the options file's)", "0");
  args.AddSwitch("create", "create DIR if it holds no database");
  args.AddSwitch("no-train", "do not train on start (recommend answers 409 until POST /v1/train)");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;

  serve::ServerOptions so;
  so.address = args.Get("address");
  so.allow_remote = args.Has("allow-remote");
  so.backup_dir = args.Get("backup-dir");
  so.handle_signals = true;
  auto token = ReadToken(args);
  if (!token.ok()) {
    std::cerr << "recdb serve: error: " << token.status().message() << "\n";
    return kExitUsage;
  }
  so.token = *token;
  for (const auto& [flag, lo, hi] :
       {std::tuple<const char*, int64_t, int64_t>{"port", 0, 65535}, {"threads", 1, 256},
        {"max-body-bytes", 1, int64_t{1} << 40}, {"request-timeout-ms", 1, int64_t{1} << 40},
        {"retrain-interval", 0, int64_t{1} << 40}}) {
    auto v = args.GetInt(flag);
    if (!v.ok() || *v < lo || *v > hi) {
      std::cerr << "recdb serve: error: --" << flag << " must be an integer in " << lo << ".."
                << hi << "\n";
      return kExitUsage;
    }
  }
  so.port = static_cast<uint16_t>(*args.GetInt("port"));
  so.threads = static_cast<int>(*args.GetInt("threads"));
  so.max_body_bytes = static_cast<size_t>(*args.GetInt("max-body-bytes"));
  so.request_timeout_ms = *args.GetInt("request-timeout-ms");

  // Refuse a bad address before spending seconds on opening and training.
  Status checked = serve::HttpServer::CheckOptions(so);
  if (!checked.ok()) return Fail("serve", checked);

  // A long-running server, unlike the other commands: background work on.
  // The options file's settings (RECDB_OPTIONS_FILE), background threads
  // included; --retrain-interval, when given, replaces the file's.
  auto base = CliOptions();
  if (!base.ok()) return Fail("serve", base.status());
  Options options = std::move(base).value();
  options.create_if_missing = args.Has("create");
  options.error_if_exists = options.read_only = false;
  if (args.Has("retrain-interval")) {
    options.retrain_interval_seconds = *args.GetInt("retrain-interval");
  }
  const std::string dir = args.Positional("DIR");
  auto opened = DB::Open(options, dir);
  if (!opened.ok()) {
    if (opened.status().IsNotFound()) {
      return Fail("serve", "no recdb database in " + dir + "; create one with: recdb init " + dir +
                               " (or pass --create)");
    }
    return Fail("serve", opened.status());
  }
  std::unique_ptr<DB> db = std::move(opened).value();

  uint64_t model_version = 0;
  if (!args.Has("no-train")) {
    auto stats = db->GetStats();
    if (!stats.ok()) return Fail("serve", stats.status());
    if (stats->events > 0) {
      // The stored model serves at once; without one, train on start.
      Status ready = EnsureModel(db.get());
      auto after = db->GetStats();
      if (ready.ok() && after.ok()) {
        model_version = after->model_version;
      } else {
        std::cerr << "recdb serve: warning: training on start failed: "
                  << (ready.ok() ? after.status() : ready).ToString()
                  << " (POST /v1/train to retry)\n";
      }
    }
  }

  // Who interacts with an item (GET /v1/items/{id}/interactions) names
  // users only when the database has neither count noise nor pseudonyms.
  so.popularity_epsilon = options.aggregate_privacy.popularity_epsilon;
  so.aggregate_privacy = so.popularity_epsilon > 0 || options.pseudonyms.enabled();
  auto server = serve::HttpServer::Start(db.get(), so);
  if (!server.ok()) {
    Status closed = db->Close();
    (void)closed;  // the start error is the one to report
    return Fail("serve", server.status());
  }
  nlohmann::ordered_json ready = {{"address", (*server)->address()},
                                  {"port", (*server)->port()},
                                  {"model_version", model_version},
                                  {"pid", static_cast<int64_t>(::getpid())}};
  std::cout << ready.dump() << std::endl;  // flushed: tests and scripts wait for this line
  std::cerr << "recdb serve: listening on http://" << (*server)->address() << ":"
            << (*server)->port() << "/v1/ (SIGINT or SIGTERM to stop)\n";

  (*server)->Wait();
  const int64_t served = (*server)->requests_served();
  server->reset();
  Status closed = db->Close();
  if (!closed.ok()) return Fail("serve", closed);
  std::cerr << "recdb serve: stopped after " << served << " requests; database closed\n";
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("serve", ServeMain, 120, "serve DIR over HTTP/JSON (loopback, bearer token)");
}  // namespace recdb::cli
