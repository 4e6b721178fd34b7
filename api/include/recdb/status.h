// Status and StatusOr<T>: the result of every recdb call.
//
// A Status is either OK or carries a code and a human-readable message. recdb
// never throws across its public API; every failure is a Status. Both types are
// [[nodiscard]]: a caller that deliberately ignores one writes
// `status.IgnoreError();` so the choice is explicit and searchable.
//
// Thread-safety: a Status is a value; distinct objects may be used from
// different threads, a single object needs external synchronisation for writes.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "recdb/export.h"

namespace recdb {

enum class StatusCode : int {
  kOk = 0,
  kNotFound = 1,            // the named user, item, space, ... does not exist
  kInvalidArgument = 2,     // the caller's input is malformed or out of range
  kCorruption = 3,          // bytes on disk failed verification
  kIOError = 4,             // the file system failed
  kAlreadyExists = 5,       // creating something whose name is taken
  kFailedPrecondition = 6,  // the call is valid but not in this state
  kResourceExhausted = 7,   // a documented limit was reached
  kNotSupported = 8,        // the operation is not available here
  kAborted = 9,             // the operation was cancelled or conflicted
  kInternal = 10,           // a bug in recdb: please report it
};

// Returns a stable lower-case name for `code`, e.g. "invalid_argument".
RECDB_EXPORT const char* StatusCodeName(StatusCode code);

class [[nodiscard]] RECDB_EXPORT Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string_view message);

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return {StatusCode::kNotFound, msg}; }
  static Status InvalidArgument(std::string_view msg) {
    return {StatusCode::kInvalidArgument, msg};
  }
  static Status Corruption(std::string_view msg) { return {StatusCode::kCorruption, msg}; }
  static Status IOError(std::string_view msg) { return {StatusCode::kIOError, msg}; }
  static Status AlreadyExists(std::string_view msg) {
    return {StatusCode::kAlreadyExists, msg};
  }
  static Status FailedPrecondition(std::string_view msg) {
    return {StatusCode::kFailedPrecondition, msg};
  }
  static Status ResourceExhausted(std::string_view msg) {
    return {StatusCode::kResourceExhausted, msg};
  }
  static Status NotSupported(std::string_view msg) {
    return {StatusCode::kNotSupported, msg};
  }
  static Status Aborted(std::string_view msg) { return {StatusCode::kAborted, msg}; }
  static Status Internal(std::string_view msg) { return {StatusCode::kInternal, msg}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }
  bool IsCorruption() const { return code_ == StatusCode::kCorruption; }
  bool IsIOError() const { return code_ == StatusCode::kIOError; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsFailedPrecondition() const { return code_ == StatusCode::kFailedPrecondition; }
  bool IsResourceExhausted() const { return code_ == StatusCode::kResourceExhausted; }
  bool IsNotSupported() const { return code_ == StatusCode::kNotSupported; }
  bool IsAborted() const { return code_ == StatusCode::kAborted; }
  bool IsInternal() const { return code_ == StatusCode::kInternal; }

  // "OK" or "<code name>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` and ": ".
  Status WithContext(std::string_view context) const;

  // Marks a deliberate decision not to act on this status.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value of type T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // REQUIRES: !status.ok().
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
    if (status_.ok()) status_ = Status::Internal("StatusOr constructed from OK status");
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  void IgnoreError() const {}

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace recdb

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RECDB_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::recdb::Status _recdb_status = (expr);      \
    if (!_recdb_status.ok()) return _recdb_status; \
  } while (0)

#define RECDB_CONCAT_INNER_(a, b) a##b
#define RECDB_CONCAT_(a, b) RECDB_CONCAT_INNER_(a, b)

// `RECDB_ASSIGN_OR_RETURN(auto x, F());` assigns F()'s value or returns its status.
#define RECDB_ASSIGN_OR_RETURN(lhs, expr) \
  RECDB_ASSIGN_OR_RETURN_IMPL_(RECDB_CONCAT_(_recdb_statusor_, __LINE__), lhs, expr)
#define RECDB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
