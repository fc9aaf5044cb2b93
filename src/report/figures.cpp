#include "report/figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "report/report.hpp"

namespace harmonize {
namespace {
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 add(const Vec3& a, const Vec3& b, double s) { return {a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]}; }

// Screen directions of a view in the LPS world frame.
void view_axes(SliceView view, Vec3& right, Vec3& down) {
  const Vec3 L{1, 0, 0}, P{0, 1, 0}, I{0, 0, -1};
  switch (view) {
    case SliceView::Sagittal:
      right = P, down = I;
      break;  // anterior left, superior up
    case SliceView::Coronal:
      right = L, down = I;
      break;  // subject's right on the left, superior up
    case SliceView::Axial:
      right = L, down = P;
      break;  // subject's right on the left, anterior up
  }
}

const char* view_name(SliceView v) {
  return v == SliceView::Sagittal ? "SAGITTAL" : v == SliceView::Coronal ? "CORONAL" : "AXIAL";
}

std::uint8_t to_byte(double x) { return std::uint8_t(std::lround(std::clamp(x, 0.0, 1.0) * 255.0)); }

void check_same_grid(const Volume& a, const Volume& b, const Mask& m, const char* what) {
  const std::string rule = std::string(what) + ": source, target, harmonized and brain mask must share one grid";
  require_same_grid(a.geom, b.geom, rule);
  require_same_grid(a.geom, m.geom, rule);
}

// draw_text plus '|' (a vertical bar, which the built-in font lacks).
void draw_label(RgbImage& img, int x, int y, const std::string& text, int scale, std::uint8_t r, std::uint8_t g,
                std::uint8_t b) {
  for (char ch : text) {
    if (ch == '|') {
      for (int dy = 0; dy < 7 * scale; ++dy)
        for (int dx = 0; dx < scale; ++dx) img.set(x + 2 * scale + dx, y + dy, r, g, b);
    } else {
      draw_text(img, x, y, std::string(1, ch), scale, r, g, b);
    }
    x += 6 * scale;
  }
}

// Draws text at `scale` 2, or 1 when it would be wider than max_width.
void draw_text_fit(RgbImage& img, int x, int y, const std::string& text, int max_width, std::uint8_t r, std::uint8_t g,
                   std::uint8_t b) {
  const int scale = int(text.size()) * 12 <= max_width ? 2 : 1;
  draw_label(img, x, y, text, scale, r, g, b);
}

void draw_line(RgbImage& img, double x0, double y0, double x1, double y1, const std::array<std::uint8_t, 3>& c,
               int thickness) {
  const int steps = std::max(1, int(std::ceil(std::max(std::fabs(x1 - x0), std::fabs(y1 - y0)))));
  for (int s = 0; s <= steps; ++s) {
    const double t = double(s) / steps;
    const int x = int(std::lround(x0 + t * (x1 - x0))), y = int(std::lround(y0 + t * (y1 - y0)));
    for (int dy = 0; dy < thickness; ++dy)
      for (int dx = 0; dx < thickness; ++dx) img.set(x + dx - thickness / 2, y + dy - thickness / 2, c[0], c[1], c[2]);
  }
}

void fill_rect(RgbImage& img, int x0, int y0, int w, int h, const std::array<std::uint8_t, 3>& c) {
  for (int y = y0; y < y0 + h; ++y)
    for (int x = x0; x < x0 + w; ++x) img.set(x, y, c[0], c[1], c[2]);
}

// 1, 2 or 5 times a power of ten, near range / 5.
double nice_step(double range) {
  if (!(range > 0)) return 1;
  const double raw = range / 5, p = std::pow(10.0, std::floor(std::log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

std::string tick_label(double v) {
  char buf[32];
  if (std::fabs(v - std::round(v)) < 1e-9)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}
}  // namespace

Vec3 brain_centre(const Mask& brain) {
  const auto& n = brain.geom.size;
  double si = 0, sj = 0, sk = 0, count = 0;
  for (std::size_t k = 0; k < n[2]; ++k)
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i)
        if (brain.at(i, j, k)) si += double(i), sj += double(j), sk += double(k), count += 1;
  Vec3 c =
      count > 0 ? Vec3{si / count, sj / count, sk / count} : Vec3{double(n[0]) / 2, double(n[1]) / 2, double(n[2]) / 2};
  // Nearest voxel; a tie (an even-sized brain) goes to the side that is higher
  // in world coordinates, so the slice does not depend on how the axes are stored.
  for (int a = 0; a < 3; ++a) {
    const double lo = std::floor(c[a]), f = c[a] - lo;
    bool up = f > 0.5;
    if (std::fabs(f - 0.5) < 1e-9) {
      Vec3 e{0, 0, 0};
      e[a] = 1;
      const Vec3 w0 = brain.geom.index_to_world({0, 0, 0}), w1 = brain.geom.index_to_world(e);
      int big = 0;
      for (int r = 1; r < 3; ++r)
        if (std::fabs(w1[r] - w0[r]) > std::fabs(w1[big] - w0[big])) big = r;
      up = w1[big] > w0[big];
    }
    c[a] = std::clamp(up ? lo + 1 : lo, 0.0, std::max(0.0, double(n[a]) - 1));
  }
  return brain.geom.index_to_world(c);
}

SliceGrid slice_grid(const Mask& brain, SliceView view) {
  const Geometry& g = brain.geom;
  SliceGrid s;
  s.view = view;
  view_axes(view, s.right, s.down);
  s.pixel_mm = std::min({g.spacing[0], g.spacing[1], g.spacing[2], 1.0});
  const Vec3 c = brain_centre(brain);
  // Extent of the brain (or of the whole grid) along right and down, relative to c.
  double lo[2] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
  double hi[2] = {-lo[0], -lo[1]};
  const Vec3 o = g.index_to_world({0, 0, 0});
  Vec3 step[3];
  for (int a = 0; a < 3; ++a) {
    Vec3 e{0, 0, 0};
    e[a] = 1;
    const Vec3 w = g.index_to_world(e);
    step[a] = {w[0] - o[0], w[1] - o[1], w[2] - o[2]};
  }
  const double r0 = dot(o, s.right) - dot(c, s.right), d0 = dot(o, s.down) - dot(c, s.down);
  const double ri[3] = {dot(step[0], s.right), dot(step[1], s.right), dot(step[2], s.right)};
  const double di[3] = {dot(step[0], s.down), dot(step[1], s.down), dot(step[2], s.down)};
  const auto& n = g.size;
  bool any = false;
  for (std::size_t k = 0; k < n[2]; ++k)
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i) {
        if (!brain.at(i, j, k)) continue;
        any = true;
        const double r = r0 + ri[0] * double(i) + ri[1] * double(j) + ri[2] * double(k);
        const double d = d0 + di[0] * double(i) + di[1] * double(j) + di[2] * double(k);
        lo[0] = std::min(lo[0], r), hi[0] = std::max(hi[0], r), lo[1] = std::min(lo[1], d), hi[1] = std::max(hi[1], d);
      }
  if (!any)  // the 8 corners of the grid
    for (int m = 0; m < 8; ++m) {
      const double i = (m & 1) ? double(n[0]) - 1 : 0, j = (m & 2) ? double(n[1]) - 1 : 0,
                   k = (m & 4) ? double(n[2]) - 1 : 0;
      const double r = r0 + ri[0] * i + ri[1] * j + ri[2] * k, d = d0 + di[0] * i + di[1] * j + di[2] * k;
      lo[0] = std::min(lo[0], r), hi[0] = std::max(hi[0], r), lo[1] = std::min(lo[1], d), hi[1] = std::max(hi[1], d);
    }
  // Whole pixels from the centre voxel outwards, so axis-aligned grids sample voxel centres exactly.
  const double p = s.pixel_mm;
  const long x0 = long(std::floor((lo[0] - kSliceMarginMm) / p + 1e-6)),
             x1 = long(std::ceil((hi[0] + kSliceMarginMm) / p - 1e-6));
  const long y0 = long(std::floor((lo[1] - kSliceMarginMm) / p + 1e-6)),
             y1 = long(std::ceil((hi[1] + kSliceMarginMm) / p - 1e-6));
  s.width = int(x1 - x0 + 1);
  s.height = int(y1 - y0 + 1);
  s.corner = add(add(c, s.right, double(x0) * p), s.down, double(y0) * p);
  return s;
}

std::vector<float> sample_slice(const Volume& v, const SliceGrid& s) {
  std::vector<float> out(std::size_t(s.width) * std::size_t(s.height));
  // Index coordinates are affine in (x, y): corner plus x and y steps.
  const Vec3 i0 = v.geom.world_to_index(s.corner);
  const Vec3 ix = v.geom.world_to_index(add(s.corner, s.right, s.pixel_mm));
  const Vec3 iy = v.geom.world_to_index(add(s.corner, s.down, s.pixel_mm));
  const Vec3 dx{ix[0] - i0[0], ix[1] - i0[1], ix[2] - i0[2]}, dy{iy[0] - i0[0], iy[1] - i0[1], iy[2] - i0[2]};
  for (int y = 0; y < s.height; ++y)
    for (int x = 0; x < s.width; ++x) {
      Vec3 p = add(add(i0, dx, x), dy, y);
      // Snap to voxel centres within rounding, so exact grids are not blurred.
      for (double& a : p)
        if (std::fabs(a - std::round(a)) < 1e-6) a = std::round(a);
      out[std::size_t(y) * s.width + x] = sample_linear(v, p, 0.0f);
    }
  return out;
}

std::array<std::uint8_t, 3> ramp_colour(double t) {
  // Samples of matplotlib's inferno at t = 0, 1/6, ..., 1; linear in between.
  static constexpr std::uint8_t k[7][3] = {{0, 0, 4},     {40, 11, 84},   {101, 21, 110}, {159, 42, 99},
                                           {212, 72, 66}, {245, 125, 21}, {252, 255, 164}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 6;
  const int a = std::min(5, int(t));
  const double f = t - a;
  std::array<std::uint8_t, 3> c{};
  for (int ch = 0; ch < 3; ++ch) c[ch] = std::uint8_t(std::lround(k[a][ch] + f * (k[a + 1][ch] - k[a][ch])));
  return c;
}

std::vector<double> brain_histogram(const Volume& v, const Mask& brain) {
  std::vector<double> h(255, 0.0);
  for (std::size_t n = 0; n < v.data.size() && n < brain.data.size(); ++n)
    if (brain.data[n]) {
      const double x = std::isfinite(v.data[n]) ? std::clamp(double(v.data[n]), 0.0, 1.0) : 0.0;
      h[std::min<std::size_t>(254, std::size_t(x * 255))] += 1;
    }
  return h;
}

RgbImage comparison_figure(const Volume& source, const Volume& target, const Volume& harmonized, const Mask& brain,
                           const std::string& title) {
  check_same_grid(source, target, brain, "comparison_figure");
  check_same_grid(source, harmonized, brain, "comparison_figure");
  const SliceView views[3] = {SliceView::Sagittal, SliceView::Coronal, SliceView::Axial};
  SliceGrid grids[3];
  int col_w = kMinColumn, height = kTitleHeight + kColumnTitleHeight;
  for (int r = 0; r < 3; ++r) {
    grids[r] = slice_grid(brain, views[r]);
    col_w = std::max(col_w, grids[r].width);
    height += kRowLabelHeight + grids[r].height + kFigurePad;
  }
  height += kColourBarHeight + kFigurePad;
  const int width = kFigurePad + 4 * (col_w + kFigurePad);
  RgbImage fig(width, height, 0);
  draw_text_fit(fig, kFigurePad, 10, title, width - 2 * kFigurePad, 255, 255, 160);
  const char* columns[4] = {"SOURCE", "TARGET", "HARMONIZED", "|HARM. - TARGET|"};
  for (int c = 0; c < 4; ++c)
    draw_text_fit(fig, kFigurePad + c * (col_w + kFigurePad), kTitleHeight, columns[c], col_w, 255, 220, 120);

  int y0 = kTitleHeight + kColumnTitleHeight;
  const Volume* vols[3] = {&source, &target, &harmonized};
  for (int r = 0; r < 3; ++r) {
    const SliceGrid& s = grids[r];
    draw_text(fig, kFigurePad, y0 + 2, view_name(views[r]), 2, 150, 200, 255);
    y0 += kRowLabelHeight;
    std::vector<float> slices[3];
    for (int c = 0; c < 3; ++c) slices[c] = sample_slice(*vols[c], s);
    for (int c = 0; c < 4; ++c) {
      const int x0 = kFigurePad + c * (col_w + kFigurePad) + (col_w - s.width) / 2;
      for (int y = 0; y < s.height; ++y)
        for (int x = 0; x < s.width; ++x) {
          const std::size_t p = std::size_t(y) * s.width + x;
          if (c < 3) {
            fig.set_gray(x0 + x, y0 + y, to_byte(slices[c][p]));
          } else {
            const auto col = ramp_colour(std::fabs(double(slices[2][p]) - slices[1][p]) / 0.5);
            fig.set(x0 + x, y0 + y, col[0], col[1], col[2]);
          }
        }
      if (c == 0) {  // orientation letters at the left and right edges of the source panel
        const char* left = views[r] == SliceView::Sagittal ? "A" : "R";
        const char* right = views[r] == SliceView::Sagittal ? "P" : "L";
        draw_text(fig, x0 + 2, y0 + s.height / 2 - 7, left, 2, 255, 220, 120);
        draw_text(fig, x0 + s.width - 12, y0 + s.height / 2 - 7, right, 2, 255, 220, 120);
      }
    }
    y0 += s.height + kFigurePad;
  }
  // Colour bar of the difference column: 0 .. 0.5.
  const int bx = kFigurePad + 3 * (col_w + kFigurePad);
  for (int x = 0; x < col_w; ++x) {
    const auto col = ramp_colour(double(x) / std::max(1, col_w - 1));
    fill_rect(fig, bx + x, y0, 1, 12, col);
  }
  draw_text(fig, bx, y0 + 18, "0", 2, 255, 220, 120);
  draw_text(fig, bx + col_w - 36, y0 + 18, "0.5", 2, 255, 220, 120);
  return fig;
}

RgbImage histogram_figure(const Volume& source, const Volume& target, const Volume& harmonized, const Mask& brain,
                          const std::string& title) {
  check_same_grid(source, target, brain, "histogram_figure");
  check_same_grid(source, harmonized, brain, "histogram_figure");
  const std::array<std::uint8_t, 3> ink{30, 30, 30}, grid{225, 225, 225};
  const std::array<std::uint8_t, 3> colours[3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}};
  const char* names[3] = {"SOURCE", "TARGET", "HARMONIZED"};
  const std::vector<double> h[3] = {brain_histogram(source, brain), brain_histogram(target, brain),
                                    brain_histogram(harmonized, brain)};
  double top = 1;
  for (const auto& x : h) top = std::max(top, *std::max_element(x.begin(), x.end()));
  const double step = nice_step(top * 1.05);
  const double ymax = std::ceil(top * 1.05 / step) * step;

  RgbImage fig(kHistogramWidth, kHistogramHeight, 255);
  const int left = kHistogramPlotLeft, right = kHistogramPlotRight, ptop = kHistogramPlotTop,
            bottom = kHistogramPlotBottom;
  const double pw = right - left, ph = bottom - ptop;
  draw_text_fit(fig, 12, 8, title, kHistogramWidth - 24, ink[0], ink[1], ink[2]);
  // Legend: one row under the title, outside the plot so it never hides a curve.
  for (int c = 0, x = left; c < 3; ++c) {
    fill_rect(fig, x, 38, 30, 4, colours[c]);
    draw_text(fig, x + 38, 33, names[c], 2, ink[0], ink[1], ink[2]);
    x += 38 + 12 * int(std::string(names[c]).size()) + 30;
  }
  draw_text(fig, 12, ptop - 26, "VOXELS", 2, ink[0], ink[1], ink[2]);
  // Grid lines and ticks.
  for (double v = 0; v <= ymax * (1 + 1e-9); v += step) {
    const int y = int(std::lround(bottom - v / ymax * ph));
    draw_line(fig, left, y, right, y, grid, 1);
    draw_line(fig, left - 6, y, left, y, ink, 1);
    const std::string label = tick_label(v);
    draw_text(fig, left - 10 - int(label.size()) * 12, y - 7, label, 2, ink[0], ink[1], ink[2]);
  }
  for (int t = 0; t <= 5; ++t) {
    const int x = int(std::lround(left + t / 5.0 * pw));
    draw_line(fig, x, ptop, x, bottom, grid, 1);
    draw_line(fig, x, bottom, x, bottom + 6, ink, 1);
    const std::string label = t == 0 ? "0" : t == 5 ? "1" : "0." + std::to_string(2 * t);
    draw_text(fig, x - int(label.size()) * 6, bottom + 12, label, 2, ink[0], ink[1], ink[2]);
  }
  draw_text(fig, left + int(pw) / 2 - 54, bottom + 34, "INTENSITY", 2, ink[0], ink[1], ink[2]);
  // The three histograms, bin centres joined by lines.
  for (int c = 0; c < 3; ++c)
    for (int b = 1; b < 255; ++b)
      draw_line(fig, left + (b - 0.5) / 255 * pw, bottom - h[c][b - 1] / ymax * ph, left + (b + 0.5) / 255 * pw,
                bottom - h[c][b] / ymax * ph, colours[c], 2);
  // Axes over the grid and lines.
  draw_line(fig, left, ptop, left, bottom, ink, 1);
  draw_line(fig, left, bottom, right, bottom, ink, 1);
  return fig;
}

}  // namespace harmonize
