#include "simulate/preview.hpp"

#include <algorithm>
#include <cmath>

#include "core/reorient.hpp"

namespace harmonize {
namespace {
float percentile(std::vector<float> v, double q) {
  if (v.empty()) return 1.0f;
  const std::size_t k = std::min(v.size() - 1, std::size_t(q * (v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

std::uint8_t to_byte(float x, float hi) { return std::uint8_t(std::clamp(x / hi * 255.0f, 0.0f, 255.0f)); }
}  // namespace

RgbImage preview_figure(const std::vector<PreviewColumn>& columns, const std::string& title) {
  std::vector<Volume> sag;  // in the sagittal layout: i anterior, j inferior, k left
  std::vector<float> window;
  int cell_w = 0, sag_h = 0, ax_h = 0;
  for (const auto& c : columns) {
    sag.push_back(reorient(*c.volume, sagittal_reorientation(c.volume->geom)));
    const auto& n = sag.back().geom.size;
    std::vector<float> sample;
    for (std::size_t m = 0; m < sag.back().data.size(); m += 13) sample.push_back(sag.back().data[m]);
    window.push_back(std::max(1e-6f, percentile(sample, 0.995)));
    cell_w = std::max({cell_w, int(n[0]), int(n[2])});
    sag_h = std::max(sag_h, int(n[1]));
    ax_h = std::max(ax_h, int(n[0]));
  }
  // Room for the labels (6 pixels a character at scale 2, 18 at scale 3 for
  // the title): small images (a 3 mm scan) would otherwise overlap them.
  for (const auto& c : columns) cell_w = std::max(cell_w, 12 * int(c.title.size() + std::string(" SAGITTAL").size()));
  const int pad = 8, header = 40, label_h = 24;
  const int width = std::max(pad + int(columns.size()) * (cell_w + pad), 2 * pad + 18 * int(title.size()));
  RgbImage fig(width, header + 2 * (label_h + pad) + sag_h + ax_h + pad, 0);
  draw_text(fig, pad, 10, title, 3);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Volume& v = sag[c];
    const auto& n = v.geom.size;
    const int x0 = pad + int(c) * (cell_w + pad);
    int y0 = header;
    draw_text(fig, x0, y0, columns[c].title + " SAGITTAL", 2, 255, 220, 120);
    y0 += label_h;
    const std::size_t kmid = n[2] / 2;
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i)  // anterior on the left
        fig.set_gray(x0 + int(n[0] - 1 - i), y0 + int(j), to_byte(v.at(i, j, kmid), window[c]));
    y0 += sag_h + pad;
    draw_text(fig, x0, y0, columns[c].title + " AXIAL", 2, 255, 220, 120);
    y0 += label_h;
    // Axial 42% down the superior-inferior axis: through the brain when the
    // field of view starts just above the head, as simulate places it.
    const std::size_t jax = std::min(n[1] - 1, std::size_t(double(n[1]) * 0.42));
    for (std::size_t i = 0; i < n[0]; ++i)
      for (std::size_t k = 0; k < n[2]; ++k)  // anterior up, subject's right on the left
        fig.set_gray(x0 + int(k), y0 + int(n[0] - 1 - i), to_byte(v.at(i, jax, k), window[c]));
  }
  return fig;
}

}  // namespace harmonize
