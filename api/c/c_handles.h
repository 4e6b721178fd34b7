// The structs behind the opaque handles of recdb/c.h, and the helpers every
// C entry point uses to turn a Status or a C++ exception into a
// recdb_status_t. Private to the C API library (api/c/).
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "recdb/c.h"
#include "recdb/db.h"

struct recdb_t {
  std::unique_ptr<recdb::DB> db;
};
struct recdb_options_t {
  recdb::Options options;
};
struct recdb_events_t {
  std::vector<recdb::Event> events;
};
struct recdb_items_t {
  std::vector<recdb::Item> items;
};
struct recdb_users_t {
  std::vector<recdb::User> users;
};
struct recdb_train_options_t {
  recdb::TrainOptions options;
};
struct recdb_recommend_options_t {
  recdb::RecommendRequest request;
};
struct recdb_results_t {
  recdb::RecommendResponse response;
  // Flattened contributions (std::map has no index access).
  std::vector<std::vector<std::pair<std::string, double>>> contributions;
};
struct recdb_history_t {
  std::vector<recdb::Event> events;
  // Flattened contexts (std::map has no index access).
  std::vector<std::vector<std::pair<std::string, std::string>>> contexts;
};

namespace recdb::capi {

// A malloc'd copy of `s` (the C side frees it with recdb_free / free).
// Returns NULL when out of memory.
inline char* CopyString(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

// Stores `message` in *errmsg (when errmsg is not NULL) and returns `code`.
inline recdb_status_t Fail(char** errmsg, recdb_status_t code, const std::string& message) {
  if (errmsg != nullptr) *errmsg = CopyString(message);
  return code;
}

inline recdb_status_t FromStatus(const Status& s, char** errmsg) {
  if (s.ok()) {
    if (errmsg != nullptr) *errmsg = nullptr;
    return RECDB_OK;
  }
  return Fail(errmsg, static_cast<recdb_status_t>(s.code()), s.message());
}

inline recdb_status_t Ok(char** errmsg) {
  if (errmsg != nullptr) *errmsg = nullptr;
  return RECDB_OK;
}

inline recdb_status_t NullArgument(char** errmsg, const char* what) {
  return Fail(errmsg, RECDB_INVALID_ARGUMENT, std::string(what) + " must not be NULL");
}

// Runs `body` (returning recdb_status_t) and maps any exception that
// escapes it to a status: no C++ exception crosses the C boundary.
template <typename Body>
recdb_status_t Guard(char** errmsg, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(errmsg, RECDB_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception& e) {
    try {
      return Fail(errmsg, RECDB_INTERNAL, std::string("unexpected exception: ") + e.what());
    } catch (...) {
      return RECDB_INTERNAL;
    }
  } catch (...) {
    return Fail(errmsg, RECDB_INTERNAL, "unexpected exception");
  }
}

// As Guard, for builder setters that report no message.
template <typename Body>
recdb_status_t GuardNoMessage(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return RECDB_RESOURCE_EXHAUSTED;
  } catch (...) {
    return RECDB_INTERNAL;
  }
}

}  // namespace recdb::capi
