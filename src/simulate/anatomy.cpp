#include "simulate/anatomy.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "simulate/tissue.hpp"

namespace harmonize {
namespace {

// 1D k-means with k classes on a sample of values; returns sorted means.
std::vector<double> kmeans_1d(std::vector<float> values, int k) {
  if (values.size() < std::size_t(k)) throw Error("k-means: too few values");
  std::sort(values.begin(), values.end());
  std::vector<double> mean(k);
  for (int c = 0; c < k; ++c) mean[c] = values[values.size() * (2 * c + 1) / (2 * k)];
  for (int it = 0; it < 50; ++it) {
    std::vector<double> sum(k, 0.0), cnt(k, 0.0);
    for (float v : values) {
      int best = 0;
      for (int c = 1; c < k; ++c)
        if (std::abs(v - mean[c]) < std::abs(v - mean[best])) best = c;
      sum[best] += v;
      cnt[best] += 1;
    }
    for (int c = 0; c < k; ++c)
      if (cnt[c] > 0) mean[c] = sum[c] / cnt[c];
  }
  std::sort(mean.begin(), mean.end());
  return mean;
}

int nearest(const std::vector<double>& means, double v) {
  int best = 0;
  for (int c = 1; c < int(means.size()); ++c)
    if (std::abs(v - means[c]) < std::abs(v - means[best])) best = c;
  return best;
}

// Voxels reachable from the border through voxels with value <= 0 (outside).
Mask outside_by_flood(const Volume& v) {
  const auto& n = v.geom.size;
  Mask out(v.geom, 0);
  std::deque<std::size_t> queue;
  auto push = [&](std::size_t i, std::size_t j, std::size_t k) {
    const std::size_t idx = v.index(i, j, k);
    if (!out.data[idx] && v.data[idx] <= 0) {
      out.data[idx] = 1;
      queue.push_back(idx);
    }
  };
  for (std::size_t k = 0; k < n[2]; ++k)
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i)
        if (i == 0 || j == 0 || k == 0 || i == n[0] - 1 || j == n[1] - 1 || k == n[2] - 1) push(i, j, k);
  while (!queue.empty()) {
    const std::size_t idx = queue.front();
    queue.pop_front();
    const std::size_t i = idx % n[0], j = (idx / n[0]) % n[1], k = idx / (n[0] * n[1]);
    if (i > 0) push(i - 1, j, k);
    if (i + 1 < n[0]) push(i + 1, j, k);
    if (j > 0) push(i, j - 1, k);
    if (j + 1 < n[1]) push(i, j + 1, k);
    if (k > 0) push(i, j, k - 1);
    if (k + 1 < n[2]) push(i, j, k + 1);
  }
  return out;
}

template <class F>
void for_each_neighbour(const Geometry& g, std::size_t idx, F&& f) {
  const auto& n = g.size;
  const std::size_t i = idx % n[0], j = (idx / n[0]) % n[1], k = idx / (n[0] * n[1]);
  const std::size_t sj = n[0], sk = n[0] * n[1];
  if (i > 0) f(idx - 1);
  if (i + 1 < n[0]) f(idx + 1);
  if (j > 0) f(idx - sj);
  if (j + 1 < n[1]) f(idx + sj);
  if (k > 0) f(idx - sk);
  if (k + 1 < n[2]) f(idx + sk);
}

bool is_cerebral_wm(std::uint16_t l) { return l == 2 || l == 41; }
bool is_cortex(std::uint16_t l) { return l == 3 || l == 42; }
bool is_csf(std::uint16_t l) { return tissue_of_label(l) == kCSF; }

// City-block distance (in voxels, up to max_steps) from the seed voxels.
std::vector<std::uint8_t> distance_from(const LabelVolume& lab, const std::vector<std::size_t>& seeds, int max_steps) {
  std::vector<std::uint8_t> dist(lab.data.size(), 255);
  std::deque<std::size_t> queue;
  for (std::size_t s : seeds) {
    dist[s] = 0;
    queue.push_back(s);
  }
  while (!queue.empty()) {
    const std::size_t idx = queue.front();
    queue.pop_front();
    if (dist[idx] >= max_steps) continue;
    for_each_neighbour(lab.geom, idx, [&](std::size_t nb) {
      if (dist[nb] == 255) {
        dist[nb] = dist[idx] + 1;
        queue.push_back(nb);
      }
    });
  }
  return dist;
}

// Converts voxels with `from(label)` next to a voxel with `to_label(label)`, each
// with probability p, `passes` times. Returns the number of voxels converted.
template <class From, class Into>
std::size_t grow(LabelVolume& lab, From from, Into into, std::uint16_t new_label, int passes, double p, Rng& rng) {
  std::size_t changed = 0;
  for (int pass = 0; pass < passes; ++pass) {
    std::vector<std::size_t> convert;
    for (std::size_t idx = 0; idx < lab.data.size(); ++idx) {
      if (!from(lab.data[idx])) continue;
      bool touches = false;
      for_each_neighbour(lab.geom, idx, [&](std::size_t nb) { touches = touches || into(lab.data[nb]); });
      if (touches && rng.uniform() < p) convert.push_back(idx);
    }
    for (std::size_t idx : convert) lab.data[idx] = new_label;
    changed += convert.size();
  }
  return changed;
}

}  // namespace

LabelVolume colin_labels(const Volume& brain, const Volume& head) {
  std::vector<float> brain_values, extra_values;
  for (std::size_t n = 0; n < brain.data.size(); n += 7)
    if (brain.data[n] > 0) brain_values.push_back(brain.data[n]);
  if (brain_values.size() < 1000) throw Error("Colin27 brain image has too few brain voxels");
  const auto brain_means = kmeans_1d(brain_values, 3);
  const Mask outside = outside_by_flood(head);

  // Output grid: the head image's extent at the brain image's (finer) spacing.
  Geometry g;
  g.direction = head.geom.direction;
  g.origin = head.geom.origin;
  for (int a = 0; a < 3; ++a) {
    g.spacing[a] = brain.geom.spacing[a];
    g.size[a] = static_cast<std::size_t>(std::floor((head.geom.size[a] - 1) * head.geom.spacing[a] / g.spacing[a])) + 1;
  }
  LabelVolume lab(g, 0);
  std::vector<float> head_value(lab.data.size(), 0.0f);
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const Vec3 w = g.index_to_world({double(i), double(j), double(k)});
        const std::size_t idx = lab.index(i, j, k);
        const float b = sample_linear(brain, brain.geom.world_to_index(w), 0.0f);
        if (b > 0.5f * float(brain_means[0])) {
          const int c = nearest(brain_means, b);
          lab.data[idx] = c == 0 ? kLabelCSF : (c == 1 ? kLabelCortex : kLabelWM);
          continue;
        }
        const Vec3 hi = head.geom.world_to_index(w);
        const long ni = std::lround(hi[0]), nj = std::lround(hi[1]), nk = std::lround(hi[2]);
        if (ni < 0 || nj < 0 || nk < 0 || ni >= long(head.geom.size[0]) || nj >= long(head.geom.size[1]) ||
            nk >= long(head.geom.size[2]))
          continue;
        if (outside.at(ni, nj, nk)) continue;
        head_value[idx] = std::max(1e-3f, sample_linear(head, hi, 0.0f));
        if (idx % 11 == 0) extra_values.push_back(head_value[idx]);
      }
  if (extra_values.size() < 100) throw Error("Colin27 head image has too few extra-cerebral voxels");
  const auto extra_means = kmeans_1d(extra_values, 3);
  for (std::size_t idx = 0; idx < lab.data.size(); ++idx) {
    if (head_value[idx] <= 0) continue;
    const int c = nearest(extra_means, head_value[idx]);
    lab.data[idx] = c == 0 ? kLabelBone : (c == 1 ? kLabelSoftTissue : kLabelFat);
  }
  return lab;
}

SubjectAnatomy make_subject_anatomy(const LabelVolume& base, bool patient, const PatientChanges& ch,
                                    std::uint64_t seed, const AnatomyChange& change) {
  SubjectAnatomy s;
  s.labels = base;
  Rng rng(seed);
  LabelVolume& lab = s.labels;
  const double spacing = (lab.geom.spacing[0] + lab.geom.spacing[1] + lab.geom.spacing[2]) / 3.0;
  const double voxel_mm3 = lab.geom.spacing[0] * lab.geom.spacing[1] * lab.geom.spacing[2];

  // Between-subject differences: each boundary moved by whole voxels, every
  // boundary voxel converted with probability 1/2 per pass (a rough surface).
  const auto move = [&](double mm, auto shrinking, auto growing, std::uint16_t grown_label,
                        std::uint16_t shrunk_label) {
    const int passes = int(std::lround(2.0 * std::abs(mm) / spacing));
    if (mm > 0) grow(lab, shrinking, growing, grown_label, passes, 0.5, rng);
    if (mm < 0) grow(lab, growing, shrinking, shrunk_label, passes, 0.5, rng);
  };
  move(change.ventricles_mm, is_cerebral_wm, is_csf, kLabelCSF, kLabelWM);
  move(change.pial_mm, is_cortex, is_csf, kLabelCSF, kLabelCortex);
  move(change.grey_white_mm, is_cerebral_wm, is_cortex, kLabelCortex, kLabelWM);
  if (!patient) return s;

  // Atrophy: CSF grows into the adjacent cerebral WM (ventricles enlarge) and
  // into the cortex next to it (cortex thins).
  std::size_t gained = 0;
  if (ch.atrophy_mm > 0) {
    const int v_passes = std::max(1, int(std::lround(ch.atrophy_mm / spacing)));
    const int c_passes = std::max(1, int(std::lround(0.5 * ch.atrophy_mm / spacing)));
    gained += grow(lab, is_cerebral_wm, is_csf, kLabelCSF, v_passes, 0.6, rng);
    gained += grow(lab, is_cortex, is_csf, kLabelCSF, c_passes, 0.4, rng);
  }
  s.atrophy_csf_gain_mm3 = gained * voxel_mm3;

  // Lesions.
  std::vector<std::size_t> ventricle_wall, cortex;
  for (std::size_t idx = 0; idx < lab.data.size(); ++idx) {
    const auto l = lab.data[idx];
    if (is_cortex(l)) {
      cortex.push_back(idx);
    } else if (is_csf(l)) {
      bool wm = false;
      for_each_neighbour(lab.geom, idx, [&](std::size_t nb) { wm = wm || is_cerebral_wm(lab.data[nb]); });
      if (wm) ventricle_wall.push_back(idx);
    }
  }
  const int pv_steps = std::max(2, int(std::lround(6.0 / spacing)));
  const int jc_steps = std::max(1, int(std::lround(3.0 / spacing)));
  const auto d_vent = distance_from(lab, ventricle_wall, pv_steps);
  const auto d_cortex = distance_from(lab, cortex, jc_steps);
  std::vector<std::size_t> near_vent, near_cortex;
  for (std::size_t idx = 0; idx < lab.data.size(); ++idx) {
    if (!is_cerebral_wm(lab.data[idx])) continue;
    if (d_vent[idx] <= pv_steps)
      near_vent.push_back(idx);
    else if (d_cortex[idx] <= jc_steps)
      near_cortex.push_back(idx);
  }
  const int count = std::max(1, rng.poisson(ch.lesion_count));
  const auto& n = lab.geom.size;
  for (int l = 0; l < count; ++l) {
    const bool pv = rng.uniform() < ch.periventricular;
    const auto& pool = (pv && !near_vent.empty()) || near_cortex.empty() ? near_vent : near_cortex;
    if (pool.empty()) break;
    const std::size_t c = pool[rng.below(pool.size())];
    const double r = ch.lesion_radius_mm * rng.uniform(0.5, 1.5);
    const Vec3 semi{r, r * rng.uniform(0.6, 1.4), r * rng.uniform(0.6, 1.4)};
    const long ci = long(c % n[0]), cj = long((c / n[0]) % n[1]), ck = long(c / (n[0] * n[1]));
    long ext[3];
    for (int a = 0; a < 3; ++a) ext[a] = long(std::ceil(std::max({semi[0], semi[1], semi[2]}) / lab.geom.spacing[a]));
    for (long k = ck - ext[2]; k <= ck + ext[2]; ++k)
      for (long j = cj - ext[1]; j <= cj + ext[1]; ++j)
        for (long i = ci - ext[0]; i <= ci + ext[0]; ++i) {
          if (i < 0 || j < 0 || k < 0 || i >= long(n[0]) || j >= long(n[1]) || k >= long(n[2])) continue;
          const double dx = (i - ci) * lab.geom.spacing[0] / semi[0], dy = (j - cj) * lab.geom.spacing[1] / semi[1],
                       dz = (k - ck) * lab.geom.spacing[2] / semi[2];
          if (dx * dx + dy * dy + dz * dz > 1.0) continue;
          auto& v = lab.at(i, j, k);
          if (is_cerebral_wm(v)) v = kLesionLabel;
        }
    ++s.lesion_count;
  }
  std::size_t lesion_voxels = 0;
  for (auto v : lab.data) lesion_voxels += v == kLesionLabel;
  s.lesion_volume_mm3 = lesion_voxels * voxel_mm3;
  return s;
}

}  // namespace harmonize
