// Speed of the learning core on this machine (Google Benchmark): UNet forward
// passes of 224x224 slices per preset and batch size; training steps (batch 4,
// hybrid loss, Adam) at 224x224 (1 mm slices) and 96x96 (2 mm slices); and
// whole sampler runs (DDPM / DDIM, respaced step counts) over a batch of 16
// slices, reported as seconds per slice and per volume. Threads:
// HARMONIZE_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "model/conditional.hpp"
#include "model/samplers.hpp"

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

// One training step of a preset at the paper's setting: batch 4 of size x size
// slices (range 0), hybrid loss, Adam.
void BM_TrainStep(benchmark::State& state, const std::string& preset) {
  set_threads();
  torch::manual_seed(0);
  const GaussianDiffusion d{DiffusionConfig{}};
  UNet model(unet_preset(preset));
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-4));
  const int64_t size = state.range(0);
  auto source = torch::rand({4, 1, size, size});
  for (auto _ : state) {
    auto loss =
        training_loss(model, d, source, 1 - source, torch::randint(0, 1000, {4}), torch::randn({4, 1, size, size}))
            .loss.mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  state.counters["steps/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}

// A whole sampler run over 16 slices of size x size (range 0) with a preset's
// (untrained: the cost does not depend on the weights) network, `steps`
// respaced steps (range 1). Volume: 70 slices with brain at 2 mm (96x96), 140
// at 1 mm (224x224).
void BM_Sample(benchmark::State& state, const std::string& preset, const std::string& sampler) {
  set_threads();
  torch::manual_seed(0);
  UNet model(unet_preset(preset));
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t size = state.range(0), steps = state.range(1), batch = 16;
  const GaussianDiffusion base{DiffusionConfig{}};
  const GaussianDiffusion d = base.respaced((sampler == "ddim" ? "ddim" : "") + std::to_string(steps));
  const auto source = torch::rand({batch, 1, size, size});
  const Denoiser den = conditional_denoiser(model, source);
  SamplerOptions o;
  o.seed = 1;
  for (auto _ : state) {
    if (sampler == "ddim")
      benchmark::DoNotOptimize(sample_ddim(d, den, {batch, 1, size, size}, 0.0, o));
    else
      benchmark::DoNotOptimize(sample_ddpm(d, den, {batch, 1, size, size}, o));
  }
  const auto kSecondsPer = benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert;
  const double slices_per_volume = size <= 128 ? 70.0 : 140.0;
  state.counters["s/slice"] = benchmark::Counter(double(batch), kSecondsPer);
  state.counters["s/volume"] = benchmark::Counter(double(batch) / slices_per_volume, kSecondsPer);
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
BENCHMARK_CAPTURE(BM_TrainStep, cpu, std::string("cpu"))
    ->Arg(224)
    ->Arg(96)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);
BENCHMARK_CAPTURE(BM_TrainStep, small, std::string("small"))->Arg(96)->Unit(benchmark::kMillisecond)->Iterations(10);
BENCHMARK_CAPTURE(BM_Sample, cpu_ddpm, std::string("cpu"), std::string("ddpm"))
    ->Args({96, 20})
    ->Args({224, 10})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Sample, cpu_ddim, std::string("cpu"), std::string("ddim"))
    ->Args({96, 20})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Sample, small_ddpm, std::string("small"), std::string("ddpm"))
    ->Args({96, 20})
    ->Args({96, 50})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Sample, small_ddim, std::string("small"), std::string("ddim"))
    ->Args({96, 20})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

BENCHMARK_MAIN();
