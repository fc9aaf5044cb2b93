// Speed of the simulator's pieces on this machine (Google Benchmark).
#include <benchmark/benchmark.h>

#include <cmath>

#include "core/parallel.hpp"
#include "simulate/cohort.hpp"
#include "simulate/mprage.hpp"

using namespace harmonize;

static void BM_MprageSignal(benchmark::State& state) {
  const auto p = protocol_3T();
  double t1 = 800;
  for (auto _ : state) {
    benchmark::DoNotOptimize(mprage_signal(p, t1, 50, 0.7));
    t1 += 1e-3;
  }
}
BENCHMARK(BM_MprageSignal);

static LabelVolume phantom(double spacing) {
  Geometry g;
  const std::size_t n = std::size_t(220 / spacing);
  g.size = {n, n, n};
  g.spacing = {spacing, spacing, spacing};
  g.origin = {-110, -110, -110};
  LabelVolume l(g, 0);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t i = 0; i < n; ++i) {
        const Vec3 w = g.index_to_world({double(i), double(j), double(k)});
        const double r = std::sqrt(w[0] * w[0] + w[1] * w[1] * 0.7 + w[2] * w[2]);
        l.at(i, j, k) = r < 10 ? 4 : r < 55 ? 2 : r < 65 ? 3 : r < 70 ? 24 : r < 75 ? 515 : r < 80 ? 511 : 0;
      }
  return l;
}

// One subject, both sessions, at the given resolution (mm x 10), one thread.
static void BM_SimulateSubject(benchmark::State& state) {
  static const LabelVolume anatomy = phantom(1.0);
  CohortOptions o;
  o.resolution_mm = state.range(0) / 10.0;
  for (auto _ : state) benchmark::DoNotOptimize(simulate_subject({"001", true, 0, 1}, anatomy, o));
  state.counters["voxels/s"] = benchmark::Counter(
      2.0 * (176 / o.resolution_mm) * (250 / o.resolution_mm) * (234 / o.resolution_mm), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulateSubject)->Arg(10)->Arg(20)->Unit(benchmark::kSecond)->Iterations(1);

BENCHMARK_MAIN();
