#pragma once
// The options of the stages, declared once: each function maps flags onto the
// fields of a stage's option struct (library terms), and every command that
// runs that stage declares them with the same function.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "harmonize/options.hpp"
#if HARMONIZE_WITH_ITK
#include "preprocess/pipeline.hpp"
#endif
#if HARMONIZE_WITH_TORCH
#include "train/trainer.hpp"
#endif

namespace harmonize::cli {

// --sampler, --steps, --eta, --step-spacing and the sampling batch (named
// `batch_flag`: --batch for apply, --sample-batch where --batch trains).
void add_sampling_options(CLI::App* cmd, SamplingOptions& s, const std::string& batch_flag);
// --end-noise none|auto|SD.
CLI::Option* add_end_noise_option(CLI::App* cmd, EndNoise& e);
#if HARMONIZE_WITH_TORCH
// --preset, --batch, --lr, --lr-schedule, --warmup-steps, --grad-clip, --ema,
// --prediction (the training recipe; a resumed run keeps them).
std::vector<CLI::Option*> add_train_options(CLI::App* cmd, TrainOptions& t);
#endif
#if HARMONIZE_WITH_ITK
// --spacing, --slice-size (square slices: slice_width follows slice_height
// once parsed) and --no-deformable: the preprocessing a pair needs.
void add_preprocess_options(CLI::App* cmd, PreprocessOptions& p);
#endif
// A validator whose message says "must be a number >= 0".
CLI::Validator non_negative();
// --templates: the folder with the Colin27 head and brain (brain masks by registration).
void add_templates_option(CLI::App* cmd, std::string& dir);

}  // namespace harmonize::cli
