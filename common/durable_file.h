// Whole-file writes that survive a crash, and whole-file reads, for recdb's
// own derived files (model files; index checkpoints stream through
// index/index_file.h instead). Every call goes through common/file_io.h, so
// the fault tests can fail any write, sync, rename or read.
#pragma once

#include <string>
#include <string_view>

#include "recdb/status.h"

namespace recdb {

// Writes `head` then `body` to `<path>.tmp`, fsyncs it, renames it over
// `path` and fsyncs the directory: a crash leaves the old file or the new
// one, never a mix. IOError on any failure (the temp file is removed and the
// old file at `path` is untouched).
Status WriteFileDurably(const std::string& path, std::string_view head, std::string_view body);

// The whole file. NotFound when it does not exist; IOError otherwise.
StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace recdb
