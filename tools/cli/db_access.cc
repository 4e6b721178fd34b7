#include "tools/cli/db_access.h"

#include <sys/stat.h>

#include <cstdlib>

namespace recdb::cli {

StatusOr<std::unique_ptr<DB>> OpenDatabase(const std::string& dir, OpenMode mode) {
  struct stat st;
  const bool exists = ::stat(dir.c_str(), &st) == 0;
  if (exists && !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(dir + ": not a directory");
  }
  if (!exists && mode != OpenMode::kCreate) {
    return Status::NotFound("no recdb database in " + dir +
                            " (the directory does not exist); create one with: recdb init " + dir);
  }
  Options options;
  options.create_if_missing = mode == OpenMode::kCreate;
  options.error_if_exists = mode == OpenMode::kCreate;
  options.read_only = mode == OpenMode::kReadOnly;
  // A CLI command is short-lived: background work (retraining, sweeps) is the
  // embedding application's business, not the admin tool's.
  options.background_threads = 0;
  // Pseudonymous user ids (recdb/privacy.h): the key chain from the environment.
  if (const char* key_file = std::getenv("RECDB_PSEUDONYM_KEY_FILE")) {
    options.pseudonyms.key_file = key_file;
  }
  StatusOr<std::unique_ptr<DB>> db = DB::Open(options, dir);
  if (!db.ok() && db.status().IsNotFound()) {
    return Status::NotFound("no recdb database in " + dir + "; create one with: recdb init " +
                            dir);
  }
  return db;
}

Status CloseDatabase(std::unique_ptr<DB> db) {
  if (!db) return Status::OK();
  return db->Close();
}

}  // namespace recdb::cli
