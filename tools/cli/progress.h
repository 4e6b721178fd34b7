// A one-line progress bar with throughput, drawn on stderr only when stderr is
// a terminal (so logs and pipes stay clean).
#pragma once

#include <cstdint>
#include <string>

namespace recdb::cli {

class ProgressBar {
 public:
  // Enabled iff stderr is a terminal and `enabled` is true.
  explicit ProgressBar(bool enabled);
  ~ProgressBar();

  // Redraws at most ~10 times a second. `total_bytes` 0 = unknown.
  void Update(const std::string& label, uint64_t done_bytes, uint64_t total_bytes, int64_t rows,
              double seconds);
  // A bar of stages: "label [####....] step/steps  12.3 s".
  void UpdateSteps(const std::string& label, int step, int steps, double seconds);
  // Erases the bar (before printing anything else to stderr).
  void Clear();

 private:
  bool enabled_;
  bool drawn_ = false;
  double last_draw_ = -1;
};

}  // namespace recdb::cli
