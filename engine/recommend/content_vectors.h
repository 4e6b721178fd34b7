// The content space the content-profile recommender (models::ContentProfile)
// works in, and the snapshot of its item vectors taken at training time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/models/content_profile.h"
#include "recdb/status.h"

namespace recdb {

class DBImpl;

// `requested` when given (it must exist and use the cosine metric), "" when
// it is "none"; otherwise the cosine space with the most item vectors (ties:
// the first name), or "" when no space holds item vectors.
// Errors: NotFound / InvalidArgument for a bad requested space.
StatusOr<std::string> ChooseContentSpace(DBImpl& db, const std::string& requested);

// Unit vectors of items [0, num_items) in `space`, read from RocksDB (items
// without a vector are absent). Errors: Corruption for a stored vector that
// fails verification; IOError.
StatusOr<std::shared_ptr<const models::ItemVectors>> LoadItemVectors(DBImpl& db,
                                                                     const std::string& space,
                                                                     uint32_t num_items);

}  // namespace recdb
