#include "tools/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace recdb::cli {

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Update(const std::string& label, uint64_t done_bytes, uint64_t total_bytes,
                         int64_t rows, double seconds) {
  if (!enabled_) return;
  if (last_draw_ >= 0 && seconds - last_draw_ < 0.1 && done_bytes < total_bytes) return;
  last_draw_ = seconds;
  constexpr int kWidth = 30;
  double frac = total_bytes > 0 ? static_cast<double>(done_bytes) / total_bytes : 0.0;
  if (frac > 1) frac = 1;
  int filled = static_cast<int>(frac * kWidth);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  std::string name = label;
  if (size_t slash = name.find_last_of('/'); slash != std::string::npos) {
    name = name.substr(slash + 1);
  }
  if (name.size() > 24) name = name.substr(0, 21) + "...";
  double rate = seconds > 0 ? static_cast<double>(rows) / seconds : 0.0;
  std::fprintf(stderr, "\r\033[K%-24s [%s] %3.0f%%  %lld rows  %.0f rows/s", name.c_str(), bar,
               frac * 100.0, static_cast<long long>(rows), rate);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::UpdateSteps(const std::string& label, int step, int steps, double seconds) {
  if (!enabled_) return;
  constexpr int kWidth = 30;
  const int filled = steps > 0 ? kWidth * std::min(step, steps) / steps : 0;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::string name = label.size() > 28 ? label.substr(0, 25) + "..." : label;
  std::fprintf(stderr, "\r\033[K%-28s [%s] %d/%d  %.1f s", name.c_str(), bar.c_str(), step, steps,
               seconds);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace recdb::cli
