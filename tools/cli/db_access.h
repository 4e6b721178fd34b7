// Opening a database directory for a CLI command, with errors that say what
// to do ("run recdb init DIR").
#pragma once

#include <memory>
#include <string>

#include "recdb/db.h"

namespace recdb::cli {

enum class OpenMode {
  kCreate,     // init: create; the directory must not hold a database yet
  kReadWrite,  // the database must exist
  kReadOnly,   // the database must exist; no writes, no background work
};

// The options every command opens with: those of the JSON file named by
// RECDB_OPTIONS_FILE (recdb/options_file.h; `recdb --options FILE` sets it),
// else the defaults; then RECDB_PSEUDONYM_KEY_FILE, when set, names the key
// file. The caller sets the open mode. Errors: LoadOptionsFile's.
[[nodiscard]] StatusOr<Options> CliOptions();

// CliOptions() with the mode's create/read-only flags and no background
// threads (a CLI command is short-lived).
// Errors: NotFound ("no recdb database in DIR; create one with: recdb init
// DIR"), AlreadyExists (kCreate), and whatever DB::Open returns.
[[nodiscard]] StatusOr<std::unique_ptr<DB>> OpenDatabase(const std::string& dir, OpenMode mode);

// Makes sure `db` has a model to serve: the one stored by the last Train
// (loaded at Open) when there is one; otherwise trains with the stored
// fusion weights, if any (a refit of every component), and says why on
// stderr when a stored model was not used. Errors: Train's.
[[nodiscard]] Status EnsureModel(DB* db);

// True for OpenDatabase's "no recdb database in DIR" (not for another
// NotFound such as a missing pseudonym key file).
bool IsNoDatabase(const Status& s);

// Closes the DB and returns the close Status (errors while flushing matter
// to a CLI user: the data may not be durable).
[[nodiscard]] Status CloseDatabase(std::unique_ptr<DB> db);

}  // namespace recdb::cli
