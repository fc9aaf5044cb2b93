#pragma once
// The one step after sampling, shared by `apply`, `bids` and crossval: what a
// harmonized volume becomes before it is written. No LibTorch, no ITK.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/volume.hpp"

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
// The same map from JSON already read; InputError names `where`.
QuantileMap quantile_map_from_json(const nlohmann::json& j, const std::string& where);
// The end noise of a harmonized scan made after sampling: adds N(0, sd^2) to
// the voxels of v inside mask, then clamps them to [0, 1]. The same seed and
// mask give the same noise; sd = 0 only clamps. Throws Error when the sizes differ.
void add_end_noise(Volume& v, const Mask& mask, double sd, std::uint64_t seed);
// The "end_noise" a calibration file records (the white-noise sd its map was
// fitted after; crossval writes it), if any. Throws InputError naming the file
// when it cannot be read or the value is not a number in [0, 0.5).
std::optional<double> read_calibration_end_noise(const std::string& path);

struct Correction {
  double end_noise_sd = 0.0;       // white noise added to brain voxels ([0, 1] scale)
  std::optional<QuantileMap> map;  // then this quantile map (a calibration file's)
};

// Voxels outside `brain` become 0; N(0, end_noise_sd^2) noise drawn with
// `noise_seed` is added to the brain voxels, which are clamped to [0, 1]
// (add_end_noise); then the quantile map, if any, maps the brain voxels.
// Throws Error when v and brain are not on one grid.
void finish_output(Volume& v, const Mask& brain, const Correction& c, std::uint64_t noise_seed);

}  // namespace harmonize
