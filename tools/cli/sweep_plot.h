// A hand-written SVG line plot of a care sweep: accuracy (NDCG@10, y)
// against a beyond-accuracy metric (x), one labelled point per knob value.
// No dependency: the SVG is a string.
#pragma once

#include <string>
#include <vector>

namespace recdb::cli {

struct SweepPlotPoint {
  double knob = 0;  // the swept value (label)
  double x = 0;     // beyond-accuracy metric
  double y = 0;     // NDCG@10
};

// A complete SVG document (640x420) titled `title`.
std::string SweepPlotSvg(const std::string& title, const std::string& knob,
                         const std::string& x_label, const std::vector<SweepPlotPoint>& points);

}  // namespace recdb::cli
