#include "evaluate/lesions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "core/morphology.hpp"
#include "evaluate/metrics.hpp"

namespace harmonize {
namespace {

double median_over(const Volume& v, const Mask& m, const char* what) {
  std::vector<double> x;
  for (std::size_t n = 0; n < m.data.size(); ++n)
    if (m.data[n]) x.push_back(v.data[n]);
  if (x.empty()) throw Error(std::string("lesions: the ") + what + " is empty");
  return nearest_rank_percentile(x, 50.0);
}

Mask where(const Mask& m, std::uint8_t label) {
  Mask out(m.geom, 0);
  for (std::size_t n = 0; n < m.data.size(); ++n) out.data[n] = m.data[n] == label;
  return out;
}

}  // namespace

LesionRegions lesion_regions(const Mask& truth_dseg, const Mask& lesions) {
  require_same_grid(lesions.geom, truth_dseg.geom, "lesions: the lesion mask is not on the truth's grid");
  LesionRegions r;
  r.lesions = Mask(lesions.geom, 0);
  for (std::size_t n = 0; n < lesions.data.size(); ++n) r.lesions.data[n] = lesions.data[n] != 0;
  r.near_lesions = dilate(r.lesions, 1);
  Mask wm = where(truth_dseg, 3);
  for (std::size_t n = 0; n < wm.data.size(); ++n) wm.data[n] |= r.lesions.data[n];
  r.region = erode(wm, 1);
  for (std::size_t n = 0; n < wm.data.size(); ++n) r.region.data[n] |= r.lesions.data[n];
  r.wm_core = erode(where(truth_dseg, 3), 1);
  for (std::size_t n = 0; n < wm.data.size(); ++n) r.wm_core.data[n] &= !r.near_lesions.data[n];
  r.gm_core = erode(where(truth_dseg, 2), 1);
  return r;
}

LesionFinding find_lesions(const Volume& v, const LesionRegions& r) {
  require_same_grid(v.geom, r.region.geom, "lesions: the volume is not on the truth's grid");
  LesionFinding f;
  f.wm_level = median_over(v, r.wm_core, "white-matter core");
  f.gm_level = median_over(v, r.gm_core, "grey-matter core");
  f.threshold = 0.5 * (f.wm_level + f.gm_level);
  const auto& s = v.geom.size;
  // The local WM level: the median of the WM core over the block of
  // kLesionBlock^3 voxels and its 26 neighbour blocks (the global level where
  // fewer than kLesionBlockMin core voxels lie there); the threshold keeps
  // its global ratio to the WM level, so a residual smooth bias moves both.
  const std::size_t B = kLesionBlock;
  const std::size_t nb[3] = {(s[0] + B - 1) / B, (s[1] + B - 1) / B, (s[2] + B - 1) / B};
  std::vector<std::vector<float>> per_block(nb[0] * nb[1] * nb[2]);
  for (std::size_t k = 0; k < s[2]; ++k)
    for (std::size_t j = 0; j < s[1]; ++j)
      for (std::size_t i = 0; i < s[0]; ++i)
        if (r.wm_core.at(i, j, k)) per_block[i / B + nb[0] * (j / B + nb[1] * (k / B))].push_back(v.at(i, j, k));
  std::vector<double> local(per_block.size(), f.wm_level);
  for (std::size_t c = 0; c < nb[2]; ++c)
    for (std::size_t b = 0; b < nb[1]; ++b)
      for (std::size_t a = 0; a < nb[0]; ++a) {
        std::vector<double> x;
        for (std::size_t cc = c ? c - 1 : 0; cc <= std::min(c + 1, nb[2] - 1); ++cc)
          for (std::size_t bb = b ? b - 1 : 0; bb <= std::min(b + 1, nb[1] - 1); ++bb)
            for (std::size_t aa = a ? a - 1 : 0; aa <= std::min(a + 1, nb[0] - 1); ++aa)
              for (float y : per_block[aa + nb[0] * (bb + nb[1] * cc)]) x.push_back(y);
        if (x.size() >= kLesionBlockMin) local[a + nb[0] * (b + nb[1] * c)] = nearest_rank_percentile(x, 50.0);
      }
  const double ratio = f.wm_level != 0 ? f.threshold / f.wm_level : 1.0;
  Mask dark(v.geom, 0);
  for (std::size_t k = 0; k < s[2]; ++k)
    for (std::size_t j = 0; j < s[1]; ++j)
      for (std::size_t i = 0; i < s[0]; ++i) {
        const std::size_t n = v.index(i, j, k);
        const double t = f.wm_level > 0 ? ratio * local[i / B + nb[0] * (j / B + nb[1] * (k / B))] : f.threshold;
        dark.data[n] = r.region.data[n] && v.data[n] < t;
      }
  f.lesion_like = Mask(v.geom, 0);
  const std::size_t stride[3] = {1, s[0], s[0] * s[1]};
  for (std::size_t k = 0; k < s[2]; ++k)
    for (std::size_t j = 0; j < s[1]; ++j)
      for (std::size_t i = 0; i < s[0]; ++i) {
        const std::size_t n = v.index(i, j, k);
        if (!dark.data[n]) continue;
        const std::size_t at[3] = {i, j, k};
        bool pair = false;
        for (int a = 0; a < 3 && !pair; ++a)
          pair = (at[a] > 0 && dark.data[n - stride[a]]) || (at[a] + 1 < s[a] && dark.data[n + stride[a]]);
        f.lesion_like.data[n] = pair;
      }
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t n = 0; n < v.data.size(); ++n)
    if (r.lesions.data[n]) sum += v.data[n], ++count;
  f.lesion_contrast =
      count && f.wm_level != 0 ? sum / double(count) / f.wm_level : std::numeric_limits<double>::quiet_NaN();
  return f;
}

}  // namespace harmonize
