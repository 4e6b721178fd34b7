#include "tools/cli/sweep_plot.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace recdb::cli {

namespace {

std::string Num(double v, const char* fmt = "%.1f") {
  char buf[32];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

}  // namespace

std::string SweepPlotSvg(const std::string& title, const std::string& knob,
                         const std::string& x_label, const std::vector<SweepPlotPoint>& points) {
  constexpr double kW = 640, kH = 420, kLeft = 70, kRight = 30, kTop = 40, kBottom = 60;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (!points.empty()) {
    x0 = x1 = points[0].x;
    y0 = y1 = points[0].y;
    for (const auto& p : points) {
      x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
      y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    }
  }
  const double dx = std::max(1e-9, x1 - x0), dy = std::max(1e-9, y1 - y0);
  x0 -= 0.05 * dx, x1 += 0.05 * dx, y0 -= 0.08 * dy, y1 += 0.08 * dy;
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * (kW - kLeft - kRight); };
  auto py = [&](double y) { return kH - kBottom - (y - y0) / (y1 - y0) * (kH - kTop - kBottom); };

  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH
    << "\" viewBox=\"0 0 " << kW << " " << kH << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << kW / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
    << Escape(title) << "</text>\n";
  // Axes with 5 ticks each.
  s << "<line x1=\"" << kLeft << "\" y1=\"" << kH - kBottom << "\" x2=\"" << kW - kRight
    << "\" y2=\"" << kH - kBottom << "\" stroke=\"black\"/>\n";
  s << "<line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\""
    << kH - kBottom << "\" stroke=\"black\"/>\n";
  for (int t = 0; t <= 4; ++t) {
    const double xv = x0 + (x1 - x0) * t / 4, yv = y0 + (y1 - y0) * t / 4;
    s << "<line x1=\"" << Num(px(xv)) << "\" y1=\"" << kH - kBottom << "\" x2=\"" << Num(px(xv))
      << "\" y2=\"" << kH - kBottom + 5 << "\" stroke=\"black\"/>\n";
    s << "<text x=\"" << Num(px(xv)) << "\" y=\"" << kH - kBottom + 18
      << "\" text-anchor=\"middle\">" << Num(xv, "%.3f") << "</text>\n";
    s << "<line x1=\"" << kLeft - 5 << "\" y1=\"" << Num(py(yv)) << "\" x2=\"" << kLeft
      << "\" y2=\"" << Num(py(yv)) << "\" stroke=\"black\"/>\n";
    s << "<text x=\"" << kLeft - 8 << "\" y=\"" << Num(py(yv) + 4)
      << "\" text-anchor=\"end\">" << Num(yv, "%.4f") << "</text>\n";
  }
  s << "<text x=\"" << (kLeft + kW - kRight) / 2 << "\" y=\"" << kH - 18
    << "\" text-anchor=\"middle\">" << Escape(x_label) << "</text>\n";
  s << "<text transform=\"translate(18," << (kTop + kH - kBottom) / 2
    << ") rotate(-90)\" text-anchor=\"middle\">NDCG@10</text>\n";
  if (!points.empty()) {
    s << "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"";
    for (const auto& p : points) s << Num(px(p.x)) << "," << Num(py(p.y)) << " ";
    s << "\"/>\n";
    for (const auto& p : points) {
      s << "<circle cx=\"" << Num(px(p.x)) << "\" cy=\"" << Num(py(p.y))
        << "\" r=\"4\" fill=\"#1f77b4\"><title>" << Escape(knob) << "=" << Num(p.knob, "%.2f")
        << "</title></circle>\n";
      s << "<text x=\"" << Num(px(p.x) + 6) << "\" y=\"" << Num(py(p.y) - 6)
        << "\" font-size=\"10\" fill=\"#555\">" << Num(p.knob, "%.2g") << "</text>\n";
    }
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace recdb::cli
