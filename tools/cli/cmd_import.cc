// recdb import DIR ...: loads MovieLens, JSONL/CSV files or a dump.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"
#include "tools/cli/progress.h"
#include "tools/import/importer.h"

namespace recdb::cli {
namespace {

constexpr int64_t kMaxErrorsShown = 50;

int ImportMain(int argc, char** argv) {
  ArgParser args(
      "import", "Import records into DIR.",
      "Sources (several may be given; items, then users, then events are read):\n"
      "  --movielens PATH   a MovieLens directory: ml-100k (u.item, u.genre, u.user,\n"
      "                     u.data; u.item is Latin-1) or ml-latest (movies.csv,\n"
      "                     ratings.csv). Ratings become events of type \"rating\".\n"
      "  --items/--users/--events FILE   JSONL (.jsonl/.json) or CSV (.csv, header row)\n"
      "                     with the fields of the documented format (tools/README.md).\n"
      "  --dump FILE        a `recdb dump` file (JSONL, \"kind\" on every line).\n\n"
      "Files are streamed in batches of --batch-size records, each stored atomically.\n"
      "A bad line is reported as FILE:LINE: message. With --on-error=skip it is dropped\n"
      "and the import goes on; with --on-error=stop the import stops, nothing from the\n"
      "batch holding the bad line is stored (batches before it stay stored) and the\n"
      "exit status is 1.");
  args.AddPositional("DIR", "database directory (see --create)");
  args.AddFlag("movielens", "PATH", "MovieLens directory");
  args.AddFlag("items", "FILE", "items file (.jsonl or .csv)");
  args.AddFlag("users", "FILE", "users file (.jsonl or .csv)");
  args.AddFlag("events", "FILE", "events file (.jsonl or .csv)");
  args.AddFlag("dump", "FILE", "a recdb dump (mixed JSONL)");
  args.AddFlag("on-error", "skip|stop", "what to do with a bad line", "skip");
  args.AddFlag("batch-size", "N", "records per atomic write", "5000");
  args.AddSwitch("create", "create DIR's database if it does not exist");
  args.AddSwitch("quiet", "no progress bar and no per-line errors");
  args.AddSwitch("json", "print the summary as JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (!args.Has("movielens") && !args.Has("items") && !args.Has("users") &&
      !args.Has("events") && !args.Has("dump")) {
    std::cerr << "recdb import: nothing to import: give --movielens, --items, --users, "
                 "--events or --dump\nRun 'recdb import --help' for usage.\n";
    return kExitUsage;
  }
  tools::ImportOptions options;
  const std::string on_error = args.Get("on-error");
  if (on_error == "skip") {
    options.on_error = tools::OnError::kSkip;
  } else if (on_error == "stop") {
    options.on_error = tools::OnError::kStop;
  } else {
    std::cerr << "recdb import: --on-error must be skip or stop, not '" << on_error << "'\n";
    return kExitUsage;
  }
  auto batch = args.GetInt("batch-size");
  if (!batch.ok()) return UsageError("import", batch.status());
  if (*batch < 1 || *batch > static_cast<int64_t>(kMaxBatchSize)) {
    return UsageError("import", "--batch-size: must be in [1, " + std::to_string(kMaxBatchSize) + "]");
  }
  options.batch_size = static_cast<size_t>(*batch);

  const std::string dir = args.Positional("DIR");
  auto db = OpenDatabase(dir, OpenMode::kReadWrite);
  if (!db.ok() && IsNoDatabase(db.status()) && args.Has("create")) {
    db = OpenDatabase(dir, OpenMode::kCreate);
  }
  if (!db.ok()) return Fail("import", db.status());

  const bool quiet = args.Has("quiet");
  ProgressBar bar(!quiet);
  int64_t bad_lines = 0;
  options.on_bad_record = [&](const std::string& message) {
    if (quiet) return;
    if (++bad_lines <= kMaxErrorsShown) {
      bar.Clear();
      std::fprintf(stderr, "%s\n", message.c_str());
    } else if (bad_lines == kMaxErrorsShown + 1) {
      bar.Clear();
      std::fprintf(stderr, "(further bad lines are counted but not shown)\n");
    }
  };
  options.on_progress = [&](const tools::ImportProgress& p) {
    bar.Update(p.file, p.bytes_done, p.bytes_total, p.rows, p.seconds);
  };

  tools::Importer importer(db->get(), options);
  Status s;
  if (args.Has("movielens")) s = importer.ImportMovieLens(args.Get("movielens"));
  if (s.ok() && args.Has("items")) s = importer.ImportFile(args.Get("items"), tools::RecordKind::kItem);
  if (s.ok() && args.Has("users")) s = importer.ImportFile(args.Get("users"), tools::RecordKind::kUser);
  if (s.ok() && args.Has("events")) {
    s = importer.ImportFile(args.Get("events"), tools::RecordKind::kEvent);
  }
  if (s.ok() && args.Has("dump")) s = importer.ImportFile(args.Get("dump"), std::nullopt);
  bar.Clear();
  Status closed = CloseDatabase(std::move(db).value());
  if (s.ok()) s = closed;

  const tools::ImportSummary& sum = importer.summary();
  const double rate = sum.seconds > 0 ? static_cast<double>(sum.rows()) / sum.seconds : 0.0;
  if (args.Has("json")) {
    nlohmann::ordered_json j = {{"status", s.ok() ? "ok" : "failed"},
                                {"items", sum.items},
                                {"users", sum.users},
                                {"events", sum.events},
                                {"event_types", sum.event_types},
                                {"rows", sum.rows()},
                                {"skipped", sum.skipped},
                                {"dropped_forgotten", sum.dropped_forgotten},
                                {"tags", sum.tags},
                                {"seconds", sum.seconds},
                                {"rows_per_second", rate}};
    nlohmann::ordered_json bad = nlohmann::ordered_json::array();
    for (const tools::BadLine& b : sum.bad_lines) {
      bad.push_back({{"file", b.file},
                     {"line", b.line},
                     {"lines", b.line_count},
                     {"code", StatusCodeName(b.code)},
                     {"message", b.message}});
    }
    j["bad_lines"] = std::move(bad);
    if (!s.ok()) {
      j["error"] = {{"code", StatusCodeName(s.code())}, {"message", s.message()}};
    }
    std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    // One JSON document: the summary carries the error; the text goes to stderr.
    if (!s.ok()) {
      std::fprintf(stderr, "recdb import: error: %s\n", s.ToString().c_str());
      return kExitFailure;
    }
  } else if (s.ok() || sum.rows() > 0 || sum.skipped > 0) {
    char line[256];
    std::snprintf(line, sizeof(line), "%s %s rows (%s items, %s users, %s events",
                  s.ok() ? "Imported" : "Stored", FormatCount(sum.rows()).c_str(),
                  FormatCount(sum.items).c_str(), FormatCount(sum.users).c_str(),
                  FormatCount(sum.events).c_str());
    std::cout << line;
    if (sum.event_types > 0) std::cout << ", " << sum.event_types << " event types";
    std::snprintf(line, sizeof(line), ") in %.2f s (%s rows/s); %s bad lines %s\n", sum.seconds,
                  FormatCount(static_cast<int64_t>(rate)).c_str(),
                  FormatCount(sum.skipped).c_str(), s.ok() ? "skipped" : "met");
    std::cout << line;
  }
  if (sum.tags > 0 && !args.Has("json")) {
    std::cout << FormatCount(sum.tags) << " tags from tags.csv stored as the item attribute "
                 "\"tags\"\n";
  }
  if (sum.dropped_forgotten > 0 && !args.Has("json")) {
    std::cout << FormatCount(sum.dropped_forgotten)
              << " events dropped, not stored: their users are in the forget ledger "
                 "(recdb forget)\n";
  }
  if (!s.ok()) return Fail("import", s);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("import", ImportMain, 20, "import MovieLens, JSONL/CSV files or a dump");
}  // namespace recdb::cli
