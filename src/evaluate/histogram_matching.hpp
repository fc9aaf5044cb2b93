#pragma once
// The histogram-matching baseline: a scan's brain intensities mapped onto the
// intensity distribution of a reference scan of the target contrast, with
// ITK's HistogramMatchingImageFilter (Nyul & Udupa 1999 style piecewise-linear
// quantile matching).
//
// Only brain voxels take part: the filter sees the source's brain voxels and
// the reference's brain voxels (each flattened into a 1-D image, so no
// background and no threshold at the mean is involved), builds a histogram of
// each with `levels` bins between its minimum and maximum, takes `match_points`
// quantiles at j / (match_points + 1), j = 1..match_points, plus the minimum
// and maximum, and maps the source through the piecewise-linear function that
// sends the source quantiles onto the reference quantiles (linear
// extrapolation beyond the end points).
//
// The reference must be a scan of the target contrast from OTHER subjects
// (training subjects), never the evaluated subject's own target scan.
#include "core/volume.hpp"

namespace harmonize {

struct HistogramMatchOptions {
  int levels = 1024;      // histogram bins of each image
  int match_points = 64;  // quantiles matched between the minimum and the maximum
};

// Returns `source` mapped onto the reference's intensity distribution inside
// `source_brain` (nonzero voxels), 0 outside it, on the source's grid. The
// reference may lie on any grid (its mask on the same grid as it). Throws
// Error when a mask's size differs from its image, a mask is empty, a brain
// holds NaN/Inf, or the reference brain is constant.
Volume histogram_match(const Volume& source, const Mask& source_brain, const Volume& reference,
                       const Mask& reference_brain, const HistogramMatchOptions& options = {});

}  // namespace harmonize
