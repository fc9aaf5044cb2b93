#include "crossval/noise_fit.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace harmonize {

namespace {

void check(const NoiseFitData& d, const char* what) {
  if (d.produced.empty() || d.target.size() != d.produced.size() || d.region.size() != d.produced.size())
    throw Error(std::string("end-noise fit: the ") + what +
                " data need one target and one region per output (at least one output)");
  for (std::size_t s = 0; s < d.produced.size(); ++s) {
    const std::string which = std::string("end-noise fit: an output of the ") + what + " data and its ";
    require_same_grid(d.target[s].geom, d.produced[s].geom, which + "target are not on one grid");
    require_same_grid(d.region[s].geom, d.produced[s].geom, which + "region are not on one grid");
  }
}

}  // namespace

QuantileMap fit_noisy_map(const NoiseFitData& d, double sd, std::uint64_t seed) {
  check(d, "map");
  std::vector<float> noisy, wanted;
  for (std::size_t s = 0; s < d.produced.size(); ++s) {
    Volume v = d.produced[s];
    add_end_noise(v, d.region[s], sd, derive_seed(seed, s));
    for (std::size_t n = 0; n < v.data.size(); ++n)
      if (d.region[s].data[n]) {
        noisy.push_back(v.data[n]);
        wanted.push_back(d.target[s].data[n]);
      }
  }
  return fit_quantile_map(std::move(noisy), std::move(wanted));
}

EndNoiseFit fit_end_noise_to_volumes(const NoiseFitData& map_data, const NoiseFitData& score_data, std::uint64_t seed,
                                     const std::vector<double>& coarse, const SegmentOptions& seg) {
  check(map_data, "map");
  check(score_data, "score");
  if (coarse.empty()) throw Error("end-noise fit: no candidate noise levels");
  std::vector<std::array<double, 3>> wanted;
  for (std::size_t s = 0; s < score_data.produced.size(); ++s)
    wanted.push_back(segment_tissues(score_data.target[s], score_data.region[s], seg).volume_mm3);

  std::map<double, std::pair<double, QuantileMap>> scores;
  auto score = [&](double sd) {
    if (scores.count(sd)) return;
    const QuantileMap map = fit_noisy_map(map_data, sd, seed);
    double sum = 0;
    for (std::size_t s = 0; s < score_data.produced.size(); ++s) {
      Volume v = score_data.produced[s];
      add_end_noise(v, score_data.region[s], sd, derive_seed(seed, 1000 + s));
      apply_quantile_map(v, score_data.region[s], map);
      const auto got = segment_tissues(v, score_data.region[s], seg).volume_mm3;
      for (int c = 0; c < 3; ++c) sum += std::abs(got[c] - wanted[s][c]);
    }
    scores[sd] = {sum / (3.0 * double(score_data.produced.size())), map};
  };
  auto best = [&] {
    auto b = scores.begin();
    for (auto it = scores.begin(); it != scores.end(); ++it)
      if (it->second.first < b->second.first) b = it;  // ascending sd: the smallest among equals stays
    return b;
  };

  std::vector<double> grid = coarse;
  std::sort(grid.begin(), grid.end());
  for (double sd : grid) {
    if (!(sd >= 0.0 && sd < 0.5)) throw Error("end-noise fit: candidate noise levels must be in [0, 0.5)");
    score(sd);
  }
  // Refine between the best coarse candidate and its neighbours.
  const double b = best()->first;
  const auto at = std::find(grid.begin(), grid.end(), b) - grid.begin();
  if (at > 0) score(0.5 * (grid[at - 1] + b));
  if (at + 1 < long(grid.size())) score(0.5 * (b + grid[at + 1]));

  EndNoiseFit fit;
  const auto w = best();
  fit.sd = w->first;
  fit.map = w->second.second;
  for (const auto& [sd, s] : scores) fit.tried.emplace_back(sd, s.first);
  return fit;
}

}  // namespace harmonize
