// A scratch directory for the fault sweeps: on tmpfs (/dev/shm) when there is
// one, since the sweeps never cut power, so a real fsync buys them nothing
// (on a disk RocksDB's ~100 fsyncs per open/close made each injection point
// cost a second); else a test::TempDir. Removed with its contents.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "test_util.h"

namespace recdb::test {

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = "/dev/shm/recdb_fault_XXXXXX";
    if (::access("/dev/shm", W_OK) == 0 && ::mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
    } else {
      fallback_ = std::make_unique<TempDir>();
      path_ = fallback_->path();
    }
  }
  ~ScratchDir() {
    if (fallback_) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  std::unique_ptr<TempDir> fallback_;
};

}  // namespace recdb::test
