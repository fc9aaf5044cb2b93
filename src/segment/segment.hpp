#pragma once
// Three-class tissue segmentation (CSF, GM, WM) of a brain-extracted
// T1-weighted volume, by the method FSL FAST implements (Zhang, Brady, Smith
// 2001, IEEE TMI 20(1)): Gaussian class intensities, a hidden Markov random
// field prior over the labels, expectation-maximisation, a smooth bias field
// estimated with the classes, and partial-volume fractions per voxel.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/volume.hpp"

namespace harmonize {

// Labels of the hard segmentation (BIDS dseg): 0 outside the brain. Scoped:
// simulate/tissue.hpp's unscoped Tissue enum already uses kCSF and kWM.
enum class TissueLabel : std::uint8_t { Background = 0, CSF = 1, GM = 2, WM = 3 };
inline constexpr std::array<const char*, 3> kTissueNames{"CSF", "GM", "WM"};

// The cap of bias updates with converge_bias (SegmentOptions' default), and the
// count without it when none is given (`harmonize segment --fixed-bias`,
// bench/segment_quality).
inline constexpr int kConvergeBiasUpdates = 100;
inline constexpr int kFixedBiasUpdates = 10;

struct SegmentOptions {
  double beta = 2.0;             // MRF strength at 1 mm: pull of a voxel's fractions towards its 6 neighbours'
                                 // (mixel.hpp); for voxels coarser than 1 mm, beta x 1 mm / smallest spacing
  int iterations = 1000;         // MRF sweeps at most; reached only when they do not settle (reported)
  double tolerance = 1e-5;       // the MRF phase stops when less than this share of the brain changes class in a sweep
  int parameter_sweeps = 20000;  // EM sweeps on the histogram at most (about 1 ms each)
  double parameter_tolerance = 1e-7;  // ... until no weight or mean (share of the CSF-WM range) moves this much
  double refine_separation = 5.0;     // means refined on the histogram only when the cores' GM and WM means
                                      // are less than this many noise sds apart (docs/SEGMENT.md, "Model")
  std::vector<double> class_means;    // CSF, GM, WM means of the bias-corrected image, given: used as they are
                                      // (not estimated, not refined); empty: estimated
  double bias_fwhm_mm = 60.0;         // smoothness of the bias field estimate; <= 0: no bias estimation
  int bias_iterations = kConvergeBiasUpdates;  // bias updates (one per EM sweep): with converge_bias the most,
                                               // otherwise the count
  bool converge_bias = true;     // true: the field fitted afresh each update (locally linear, confident WM voxels,
                                 // no MRF in that phase) until it and the three classes settle (docs/SEGMENT.md).
                                 // false: bias_iterations residual gains multiplied into the field, a fixed count
                                 // (kFixedBiasUpdates; the reports' segmentation until 2026-12-05; at 2 mm, 1.5 T
                                 // its volumes depend on the count by up to 5 %)
  double bias_tolerance = 1e-4;  // with converge_bias: stop once the field's log (its mean removed), the means
                                 // (share of the CSF-WM range) and the weights move less than this in an update
  bool partial_volume = true;    // CSF/GM and GM/WM mixtures in the model (mixel EM); otherwise three pure classes
};

struct SegmentResult {
  Mask labels;                         // 0 background, 1 CSF, 2 GM, 3 WM (TissueLabel): the largest fraction
  std::array<Volume, 3> fractions;     // CSF, GM, WM fractions in [0,1], sum 1 in the brain (posterior means)
  Volume bias;                         // multiplicative bias field estimate (1 outside the brain)
  std::array<double, 3> mean{}, sd{};  // class intensity means and sds after bias correction
  int iterations = 0;                  // sweeps over the voxels: bias phase and MRF phase
  int bias_updates = 0;                // updates of the bias field made
  double bias_change = 0;              // the largest move of the last of them (converge_bias's measure)
  std::array<double, 3> core_mean{};   // class means on the cores (no partial volume), before any refinement
  double core_sd = 0;                  // the noise sd measured on the cores (kept by the model)
  bool means_refined = false;          // the means were refined on the histogram (GM-WM closer than refine_separation)
  int parameter_sweeps = 0;            // EM sweeps on the histogram (means and weights)
  double parameter_change = 0;         // largest move in the last of them (a weight, or a mean as a share of WM - CSF)
  bool converged = false;              // the tolerances were met before their caps (with converge_bias,
                                       // the bias phase's too)
  double change = 0;                   // share of the brain whose class changed in the last MRF sweep
  std::array<double, 3> volume_mm3{};  // from the hard labels and the voxel size
  double beta = 0;                     // the MRF strength used (options' beta scaled to the voxel size)
};

// `image` brain-extracted T1w (any positive scale), `brain` the mask (nonzero =
// brain) on the same grid. Throws Error when the grids differ, the mask is
// empty or the image inside it is constant or not finite.
SegmentResult segment_tissues(const Volume& image, const Mask& brain, const SegmentOptions& o = {});

// The MRF strength used on voxels of `spacing`: `beta` at 1 mm and finer, beta
// x 1 mm / smallest spacing for coarser voxels (on the 2 mm cohort beta 1 beat
// 2 on the MS patients' 1.5 T scans; at 1 mm 2 beat 1; docs/SEGMENT.md).
double mrf_beta(double beta, const Vec3& spacing);

// SegmentOptions::class_means as given: empty, or three finite means CSF < GM < WM.
bool valid_class_means(const std::vector<double>& means);

// The stability check of a segmentation `r` made with `o`: the same options
// with twice the sweeps of every phase it ran (bias updates, histogram EM,
// MRF) and no tolerance; where it stopped should be where it stays.
SegmentOptions twice_the_sweeps(const SegmentOptions& o, const SegmentResult& r);

}  // namespace harmonize
