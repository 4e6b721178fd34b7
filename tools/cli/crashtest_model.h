// The crash test's shared vocabulary (`recdb crashtest`, cmd_crashtest.cc):
// the records its workload writes, and the expected-state log.
//
// Records are pure functions of (id, version), so the log stores only ids and
// versions and the verifier rebuilds the exact value the workload wrote.
//
// Expected-state log (DIR/expected.log), one line per record, appended by the
// child with O_APPEND (+ fdatasync unless ChildConfig::sync_log is off):
//   I <op> <kind> <fields...>   intent: written BEFORE the DB call
//   A <op>                      acknowledged: the call returned OK
//   F <op> <message>            the call returned an error (not acknowledged)
// <op> is "c<cycle>.<n>". An op with an intent and no "A" line was in flight
// (or failed) when the child died: it may or may not be in the database. An op
// with an "A" line must be. Kinds and fields:
//   E <n> (<user> <item> <type> <ts>){n}  RecordEvents; event j carries the
//                                          context {"op": "<op>/<j>"}
//   ITEM <id> <version>                    UpsertItems({MakeItem(id, version)})
//   USER <id> <version>                    UpsertUsers({MakeUser(id, version)})
//   ET <name> <weight>                     RegisterEventType
//   VEC <id> <version>                     PutVectors(item, MakeVector(...))
//   VDEL <id>                              DeleteVectors(item, {id})
//   TRAIN                                  Train()
//   FORGET <user>                          ForgetUser(user)
//   SWEEP                                  SweepRetention() (no retention rule
//                                          is set: it changes no tracked data)
// A last line without its '\n' (the child died inside write(2)) is ignored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recdb/records.h"
#include "recdb/status.h"

namespace recdb::cli::crashtest {

// The workload's universe: small, so that ops collide on the same keys.
inline constexpr int kItems = 64;
inline constexpr int kUsers = 32;
inline constexpr int kVectorDim = 16;
inline constexpr const char* kSpaceName = "crash_space";
// Event types the workload records; "crash_share" is registered by it.
inline constexpr const char* kEventTypes[] = {"view", "click", "like", "purchase", "crash_share"};
inline constexpr int64_t kBaseTimestamp = 1700000000;

std::string ItemId(int i);
std::string UserId(int u);

// The record the workload writes for (id, version); versions are unique per
// op, so two different writes never produce equal records.
Item MakeItem(const std::string& id, int64_t version);
User MakeUser(const std::string& id, int64_t version);
std::vector<float> MakeVector(const std::string& id, int64_t version);

// One parsed operation of the log.
struct LoggedOp {
  std::string op;              // "c<cycle>.<n>"
  std::string kind;            // "E", "ITEM", "USER", "ET", "VEC", "VDEL", "TRAIN", "FORGET", "SWEEP"
  std::vector<std::string> fields;
  bool acknowledged = false;   // an "A" line follows
  bool failed = false;         // an "F" line follows
  std::string failure;         // its message
};

// Appends lines to the expected-state log; each Append is one write(2) of
// whole lines followed by fdatasync, so a line that is in the file is
// complete and durable before the caller goes on.
class ExpectedLog {
 public:
  // `sync`: fdatasync after every append. Errors: IOError.
  static StatusOr<std::unique_ptr<ExpectedLog>> Open(const std::string& path, bool sync = true);
  ~ExpectedLog();
  ExpectedLog(const ExpectedLog&) = delete;
  ExpectedLog& operator=(const ExpectedLog&) = delete;

  Status Intent(const std::string& op, const std::string& kind_and_fields);
  Status Ack(const std::string& op);
  Status Fail(const std::string& op, const std::string& message);

 private:
  ExpectedLog(int fd, bool sync) : fd_(fd), sync_(sync) {}
  Status Append(const std::string& line);
  int fd_;
  bool sync_;
};

// Reads the log in order. Ops appear once each, in intent order.
// Errors: IOError; Corruption for a malformed complete line.
StatusOr<std::vector<LoggedOp>> ReadExpectedLog(const std::string& path);

}  // namespace recdb::cli::crashtest
