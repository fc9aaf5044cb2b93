#pragma once
// Deterministic random numbers, identical on every platform: mt19937_64 (fully
// specified by the standard) with our own uniform/normal transforms (the
// standard library's distributions differ between implementations).
#include <cstddef>
#include <cstdint>
#include <random>

namespace harmonize {

// Seed of an independent stream `stream` derived from `seed` (SplitMix64).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

// A stable 64-bit hash of bytes (FNV-1a), continued from `h`: seeds keyed by a
// name or by content.
inline constexpr std::uint64_t kFnvOffset = 1469598103934665603ull;
std::uint64_t fnv1a(const void* data, std::size_t bytes, std::uint64_t h = kFnvOffset);

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller, both values used).
  double normal();
  double normal(double mean, double sd) { return mean + sd * normal(); }
  // Integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * n); }
  // Poisson(mean) by inversion (small means).
  int poisson(double mean);

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace harmonize
