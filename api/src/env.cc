#include "recdb/env.h"

#include <chrono>
#include <thread>

namespace recdb {

Env::~Env() = default;

Env* Env::Default() {
  static Env* const env = new Env();  // never destroyed: used until exit
  return env;
}

int64_t Env::NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

Status Env::OnFileOperation(const FileOperation& /*op*/) { return Status::OK(); }

void Env::SleepForMicroseconds(int64_t micros) {
  if (micros > 0) std::this_thread::sleep_for(std::chrono::microseconds(micros));
}

const char* FileOperationKindName(FileOperationKind kind) {
  switch (kind) {
    case FileOperationKind::kWrite:
      return "write";
    case FileOperationKind::kSync:
      return "sync";
    case FileOperationKind::kRename:
      return "rename";
    case FileOperationKind::kRead:
      return "read";
    case FileOperationKind::kOpen:
      return "open";
  }
  return "?";
}

}  // namespace recdb
