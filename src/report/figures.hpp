#pragma once
// The pieces of the report's figures (report.hpp: comparison_figure,
// histogram_figure): slices resampled to square pixels in an anatomically
// upright display frame, and the figures' fixed layout.
//
// Display frame (world is LPS): superior is up in sagittal and coronal views,
// anterior up in axial views; sagittal views show anterior on the left;
// coronal and axial views show the subject's right on the left (radiological).
// Slices are cut along world axes, whatever the voxel axes are, so oblique or
// flipped volumes display the same way.
#include <array>
#include <cstdint>
#include <vector>

#include "core/png.hpp"
#include "core/volume.hpp"

namespace harmonize {

enum class SliceView { Sagittal, Coronal, Axial };

// Pixel (x, y) has its centre at world corner + x * pixel_mm * right + y * pixel_mm * down.
struct SliceGrid {
  SliceView view = SliceView::Axial;
  Vec3 corner{0, 0, 0}, right{1, 0, 0}, down{0, 1, 0};
  double pixel_mm = 1;
  int width = 0, height = 0;
};

// World position (LPS, mm) of the centre of the brain voxel nearest to the
// brain mask's centroid (the volume's centre when the mask is empty).
Vec3 brain_centre(const Mask& brain);

// The plane of `view` through brain_centre(brain), covering the brain mask's
// extent plus kSliceMarginMm on every side, with square pixels of
// min(smallest voxel spacing, 1 mm), aligned to the centre voxel.
constexpr double kSliceMarginMm = 6;
SliceGrid slice_grid(const Mask& brain, SliceView view);

// Trilinear samples of `v` on the grid, row-major (width * height); 0 outside.
std::vector<float> sample_slice(const Volume& v, const SliceGrid& s);

// A perceptual dark-to-bright colour ramp (after matplotlib's "inferno") at t in [0, 1].
std::array<std::uint8_t, 3> ramp_colour(double t);

// 255 bins on [0, 1] (bin = floor(255 v), v = 1 in the last; values clamped),
// of the voxels where brain != 0.
std::vector<double> brain_histogram(const Volume& v, const Mask& brain);

// comparison_figure layout: panels in columns of width max(widest panel,
// kMinColumn); kFigurePad between and around; kTitleHeight for the title,
// kColumnTitleHeight for the column titles, kRowLabelHeight above each row's
// panels, and a colour bar (kColourBarHeight) for the difference at the bottom.
constexpr int kFigurePad = 10, kTitleHeight = 34, kColumnTitleHeight = 26, kRowLabelHeight = 20, kMinColumn = 200,
              kColourBarHeight = 40;
// histogram_figure size and its plot area (pixels; the legend is above the plot).
constexpr int kHistogramWidth = 760, kHistogramHeight = 460;
constexpr int kHistogramPlotLeft = 100, kHistogramPlotRight = kHistogramWidth - 20, kHistogramPlotTop = 80,
              kHistogramPlotBottom = kHistogramHeight - 56;

}  // namespace harmonize
