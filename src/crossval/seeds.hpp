#pragma once
// Every seed of a cross-validation, derived from the run's one seed. A test
// subject's sampler and end noise are keyed by its image (harmonize/scan.hpp
// scan_key; since 2026-12-04, before by its place in the fold's call).
#include <cstdint>

#include "core/rng.hpp"

namespace harmonize::crossval_seeds {

// Training the model of fold f (0-based).
inline std::uint64_t training(std::uint64_t seed, int fold) { return seed + 1000 * std::uint64_t(fold); }
// The sampler of fold f's test subjects (one generator per fold and direction).
inline std::uint64_t sampling(std::uint64_t seed, int fold) { return seed + 7919 * std::uint64_t(fold + 1); }
// The end noise of an output of the scan with `key` (harmonize/scan.hpp
// scan_key): output 0 (main, as `apply`'s output_noise_seed) or 1 (volume-fitted).
inline std::uint64_t output_noise(std::uint64_t sampling_seed, std::uint64_t key, int output) {
  return derive_seed(sampling_seed, 2 * key + std::uint64_t(output));
}
// The calibration's sampler and its maps' noise; the volume fit's noise.
inline std::uint64_t calibration(std::uint64_t sampling_seed) { return sampling_seed + 1; }
inline std::uint64_t volume_fit(std::uint64_t calibration_seed) { return derive_seed(calibration_seed, 1u << 20); }

}  // namespace harmonize::crossval_seeds
