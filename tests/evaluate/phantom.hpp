#pragma once
// A small three-tissue head for the evaluation tests: concentric WM core, GM
// shell and CSF shell inside a spherical brain, intensities WM > GM > CSF with
// Gaussian noise (deterministic), background 0.
#include <algorithm>
#include <cmath>
#include <random>

#include "core/volume.hpp"

namespace harmonize::test {

struct EvalPhantom {
  Volume image;
  Mask brain, labels;  // labels: 0 bg, 1 CSF, 2 GM, 3 WM
};

inline EvalPhantom eval_phantom(std::size_t n = 32, double spacing = 1.5, unsigned seed = 1, double noise = 0.02,
                                double shift_vox = 0) {
  Geometry g;
  g.size = {n, n, n};
  g.spacing = {spacing, spacing, spacing};
  EvalPhantom p{Volume(g, 0.0f), Mask(g, 0), Mask(g, 0)};
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0.0, noise);
  const double c = 0.5 * double(n - 1), R = 0.42 * double(n);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t i = 0; i < n; ++i) {
        const double x = double(i) - c - shift_vox, y = double(j) - c, z = (double(k) - c) * 1.1;
        const double r = std::sqrt(x * x + y * y + z * z) / R;
        std::uint8_t l = 0;
        if (r < 0.62)
          l = 3;
        else if (r < 0.87)
          l = 2;
        else if (r < 1.0)
          l = 1;
        const double mean[4] = {0.0, 0.2, 0.55, 0.8};
        const std::size_t p_ = p.image.index(i, j, k);
        p.labels.data[p_] = l;
        p.brain.data[p_] = l != 0;
        if (l) p.image.data[p_] = float(std::clamp(mean[l] + gauss(rng), 0.0, 1.0));
      }
  return p;
}

}  // namespace harmonize::test
