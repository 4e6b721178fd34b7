// Loads MovieLens-style rating files into a Dataset for offline evaluation.
// Every rating is one implicit interaction (weight 1), as the protocol says.
// Dense ids follow the protocol order of the external ids (numeric ids
// ascending), so dense item id order equals the tie-break order.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "engine/models/dataset.h"
#include "recdb/status.h"

namespace recdb::eval {

// Reads `ratings_path`: one rating per line, fields user, item, rating,
// timestamp separated by whitespace, "::" or "," (u.data, ratings.dat,
// ratings.csv); lines starting with "userId" are headers. If `items_path` is
// non-empty it is a u.item file (ISO-8859-1, '|'-separated, the last 19 fields
// are genre flags) and items get those genres as categories (19 categories).
// Returns IOError if a file cannot be read, Corruption for a malformed line.
StatusOr<models::Dataset> LoadMovieLens(const std::string& ratings_path,
                                        const std::string& items_path = "");

// LoadMovieLens(dir + "/u.data", dir + "/u.item" if it exists).
StatusOr<models::Dataset> LoadMovieLens100k(const std::string& dir);

}  // namespace recdb::eval
