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

// Errors: NotFound ("no recdb database in DIR; create one with: recdb init
// DIR"), AlreadyExists (kCreate), and whatever DB::Open returns.
[[nodiscard]] StatusOr<std::unique_ptr<DB>> OpenDatabase(const std::string& dir, OpenMode mode);

// Closes the DB and returns the close Status (errors while flushing matter
// to a CLI user: the data may not be durable).
[[nodiscard]] Status CloseDatabase(std::unique_ptr<DB> db);

}  // namespace recdb::cli
