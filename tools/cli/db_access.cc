#include "tools/cli/db_access.h"

#include <sys/stat.h>

#include <cstdlib>
#include <iostream>

#include "recdb/options_file.h"

namespace recdb::cli {

StatusOr<Options> CliOptions() {
  Options options;
  if (const char* file = std::getenv("RECDB_OPTIONS_FILE"); file && *file) {
    auto loaded = LoadOptionsFile(file);
    if (!loaded.ok()) return loaded.status();
    options = std::move(loaded).value();
  }
  // Pseudonymous user ids (recdb/privacy.h): the key chain from the environment.
  if (const char* key_file = std::getenv("RECDB_PSEUDONYM_KEY_FILE"); key_file && *key_file) {
    options.pseudonyms.key_file = key_file;
  }
  return options;
}

StatusOr<std::unique_ptr<DB>> OpenDatabase(const std::string& dir, OpenMode mode) {
  // The options first: a bad options file is the error to report.
  StatusOr<Options> cli_options = CliOptions();
  if (!cli_options.ok()) return cli_options.status();
  Options options = std::move(cli_options).value();
  struct stat st;
  const bool exists = ::stat(dir.c_str(), &st) == 0;
  if (exists && !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(dir + ": not a directory");
  }
  if (!exists && mode != OpenMode::kCreate) {
    return Status::NotFound("no recdb database in " + dir +
                            " (the directory does not exist); create one with: recdb init " + dir);
  }
  options.create_if_missing = mode == OpenMode::kCreate;
  options.error_if_exists = mode == OpenMode::kCreate;
  options.read_only = mode == OpenMode::kReadOnly;
  // A CLI command is short-lived: background work (retraining, sweeps) is the
  // embedding application's business, not the admin tool's.
  options.background_threads = 0;
  StatusOr<std::unique_ptr<DB>> db = DB::Open(options, dir);
  // Only DB::Open's own "no recdb database" is about the directory; any
  // other NotFound (a missing pseudonym key file) is reported as it is.
  if (!db.ok() && IsNoDatabase(db.status())) {
    return Status::NotFound("no recdb database in " + dir + "; create one with: recdb init " +
                            dir);
  }
  return db;
}

bool IsNoDatabase(const Status& s) {
  return s.IsNotFound() && s.message().rfind("no recdb database", 0) == 0;
}

Status CloseDatabase(std::unique_ptr<DB> db) {
  if (!db) return Status::OK();
  return db->Close();
}

Status EnsureModel(DB* db) {
  RECDB_ASSIGN_OR_RETURN(DBStats stats, db->GetStats());
  if (stats.model_version != 0) return Status::OK();
  if (!stats.model_problem.empty()) std::cerr << "recdb: " << stats.model_problem << "; retraining\n";
  TrainOptions reuse;  // the weights the last `recdb train` learned, if any
  reuse.reuse_stored_weights = true;
  return db->Train(reuse).status();
}

}  // namespace recdb::cli
