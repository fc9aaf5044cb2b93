#pragma once
// Intensity normalisation of the paper's preprocessing: clip at the lower and
// upper percentiles of the brain voxels, scale to [0, 1], background 0.
#include <nlohmann/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/volume.hpp"

namespace harmonize {

struct IntensityWindow {
  double lo = 0, hi = 1;  // intensities mapped to 0 and 1
};

// Percentile q in [0, 100] of the voxels of v inside mask (linear
// interpolation between order statistics, numpy's default definition).
double masked_percentile(const Volume& v, const Mask& mask, double q);

// Window from the q_lo / q_hi percentiles of brain voxels (paper: 0.1 / 99.9).
IntensityWindow brain_window(const Volume& v, const Mask& mask, double q_lo = 0.1, double q_hi = 99.9);

// (clip(x, lo, hi) - lo) / (hi - lo) inside the mask, 0 outside.
Volume normalise(const Volume& v, const Mask& mask, const IntensityWindow& w);

}  // namespace harmonize

namespace harmonize {

// A monotone intensity map by matched quantiles (piecewise linear between the
// points, slope 1 beyond the ends): fitted on paired data whose anatomy is the
// same (a model's outputs and the target scans of its training subjects), it
// corrects the model's systematic intensity bias without borrowing another
// brain's tissue proportions, unlike histogram matching to one reference scan.
struct QuantileMap {
  std::vector<double> from, to;  // strictly increasing `from`; same length
  double operator()(double x) const;
};
// Quantiles 0.5, 1.5, ..., 99.5 % of `produced` matched to the same quantiles
// of `wanted` (equal `from` points merged into their mean). Throws Error for fewer than 100 values.
QuantileMap fit_quantile_map(std::vector<float> produced, std::vector<float> wanted);
// Maps the voxels of v inside mask through m, clamped to [0, 1]; the rest
// untouched. Throws Error when the sizes differ.
void apply_quantile_map(Volume& v, const Mask& mask, const QuantileMap& m);
// A calibration file (crossval --calibrate writes one per model as
// calibration.json; apply --calibration reads it): {"from": [...], "to": [...]}
// plus free-form `extra` keys. Written atomically; reading throws InputError
// naming the file when it is missing or not such a map.
void write_quantile_map(const std::string& path, const QuantileMap& m, const nlohmann::json& extra = {});
QuantileMap read_quantile_map(const std::string& path);
// The end noise of a harmonized scan made after sampling: adds N(0, sd^2) to
// the voxels of v inside mask, then clamps them to [0, 1]. The same seed and
// mask give the same noise; sd = 0 only clamps. Throws Error when the sizes differ.
void add_end_noise(Volume& v, const Mask& mask, double sd, std::uint64_t seed);
// The "end_noise" a calibration file records (the white-noise sd its map was
// fitted after; crossval writes it), if any. Throws InputError naming the file
// when it cannot be read or the value is not a number in [0, 0.5).
std::optional<double> read_calibration_end_noise(const std::string& path);

}  // namespace harmonize
