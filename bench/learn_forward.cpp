// Speed of the learning core on this machine (Google Benchmark): UNet forward
// passes of 224x224 slices per preset and batch size, and one hybrid-loss
// training step of the tiny preset. Threads: HARMONIZE_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "learn/conditional.hpp"

using namespace harmonize;

namespace {

void set_threads() {
  const char* env = std::getenv("HARMONIZE_BENCH_THREADS");
  torch::set_num_threads(env ? std::atoi(env) : 2);
}

void BM_UNetForward224(benchmark::State& state, const std::string& preset) {
  set_threads();
  torch::manual_seed(0);
  UNet model(unet_preset(preset));
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t batch = state.range(0);
  auto x = torch::randn({batch, 2, 224, 224});
  auto t = torch::full({batch}, 500, torch::kLong);
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x, t));
  state.counters["params"] = static_cast<double>(parameter_count(*model));
  state.counters["slices/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  // Seconds to sample one 1 mm volume (~140 sagittal slices with brain) with N
  // network calls per slice: (seconds per forward pass) * 140 * N / batch. A
  // rate counter of value v reads v * iterations / time; inverted, time / (v * iterations).
  const auto kSecondsPer = benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert;
  state.counters["s/slice"] = benchmark::Counter(static_cast<double>(batch), kSecondsPer);
  for (int steps : {50, 100, 1000})
    state.counters["s/vol@" + std::to_string(steps)] =
        benchmark::Counter(static_cast<double>(batch) / (140.0 * steps), kSecondsPer);
}

// One training step of a preset at the paper's setting: batch 4 of 224x224
// slices, hybrid loss, Adam.
void BM_TrainStep224(benchmark::State& state, const std::string& preset) {
  set_threads();
  torch::manual_seed(0);
  const GaussianDiffusion d{DiffusionConfig{}};
  UNet model(unet_preset(preset));
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-4));
  auto source = torch::rand({4, 1, 224, 224});
  for (auto _ : state) {
    auto loss =
        training_loss(model, d, source, 1 - source, torch::randint(0, 1000, {4}), torch::randn({4, 1, 224, 224}))
            .loss.mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  state.counters["steps/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_TinyTrainStep16(benchmark::State& state) {
  set_threads();
  torch::manual_seed(0);
  const GaussianDiffusion d{DiffusionConfig{}};
  UNet model(unet_preset("tiny"));
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto source = torch::rand({8, 1, 16, 16});
  for (auto _ : state) {
    auto loss = training_loss(model, d, source, 1 - source, torch::randint(0, 1000, {8}), torch::randn({8, 1, 16, 16}))
                    .loss.mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_UNetForward224, cpu, std::string("cpu"))->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_UNetForward224, paper, std::string("paper"))
    ->Arg(1)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK(BM_TinyTrainStep16)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrainStep224, cpu, std::string("cpu"))->Unit(benchmark::kMillisecond)->Iterations(5);

BENCHMARK_MAIN();
