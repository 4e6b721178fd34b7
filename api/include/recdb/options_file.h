// Options as a JSON file, so that an application and the admin CLI open a
// database with the same settings: the same retention policy (the CLI must
// not show events the application's policy has expired), the same
// k-anonymity for co-occurrence, the same care defaults, the same key file.
// In the spirit of RocksDB's OPTIONS file and LoadOptionsFromFile.
//
//   {"block_cache_bytes": 67108864,
//    "care": {"diversity": 0.9, "candidate_factor": 10},
//    "retention": {"ttl_seconds_by_type": {"view": 2592000}},
//    "pseudonyms": {"key_file": "keys/pseudonyms.key"},
//    "aggregate_privacy": {"min_pair_users": 5}}
//
// Field names are the C++ member names (recdb/options.h, care.h,
// privacy.h); every field is optional and a missing one keeps the value of
// `base`. Unknown fields and values of the wrong type are InvalidArgument
// naming the field ("care.diversty"): a typo must not silently keep data
// longer or turn a protection off. Ranges are checked too
// (ValidateOptions, as DB::Open does). Pseudonym keys are secrets and are never part of an
// options file: name the key file (`pseudonyms.key_file`) instead.
//
// The admin CLI reads the file named by RECDB_OPTIONS_FILE (or by
// `recdb --options FILE COMMAND ...`); `recdb options` prints the file that
// reproduces the defaults, or the effective options.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "recdb/export.h"
#include "recdb/options.h"
#include "recdb/status.h"

namespace recdb {

// `json` applied over `base`. Errors: InvalidArgument (malformed JSON, not an
// object, an unknown field, a value of the wrong type or out of its type's
// range, pseudonyms.keys, and ValidateOptions' errors).
[[nodiscard]] RECDB_EXPORT StatusOr<Options> ParseOptionsJson(std::string_view json,
                                                 const Options& base = Options());

// ParseOptionsJson of the file at `path`; a relative pseudonyms.key_file is
// resolved against the directory holding `path`. Errors: NotFound (no such
// file), IOError (unreadable), and ParseOptionsJson's, each naming `path`.
[[nodiscard]] RECDB_EXPORT StatusOr<Options> LoadOptionsFile(const std::string& path,
                                                const Options& base = Options());

// The checks DB::Open makes before touching the disk: every field that can
// be wrong on its own (ranges of the numbers, the care knobs). Retention
// rules name event types, so DB::Open checks them against the database.
// Errors: InvalidArgument naming the field. ParseOptionsJson applies it.
[[nodiscard]] RECDB_EXPORT Status ValidateOptions(const Options& options);

// Every field of `options` (except pseudonyms.keys) as JSON, indent 2, in
// the order of the structs. ParseOptionsJson(OptionsToJson(o)) == o except
// for pseudonyms.keys.
[[nodiscard]] RECDB_EXPORT std::string OptionsToJson(const Options& options);

}  // namespace recdb
