#pragma once
// The evaluation report: report.md and a self-contained report.html (figures
// embedded as base64 PNG), tables in the paper's layout (Tables 1-3 of Durrer
// et al. 2023) with the paper's own numbers beside this run's, and per
// subject the figures below, drawn by the project.
#include <string>
#include <vector>

#include "core/png.hpp"
#include "core/volume.hpp"
#include "evaluate/metrics_table.hpp"

namespace harmonize {

// Mid-brain sagittal, coronal and axial slices (through the brain mask's
// centre) of source / target / harmonized / |harmonized - target|, one row per
// view, grey levels on [0, 1] (difference on [0, 0.5], colour-mapped), labelled.
// All volumes on one grid (Error otherwise); `brain` picks the slice positions.
// Slices are resampled to square pixels (min(spacing, 1 mm)) along world axes:
// superior up, anterior left in sagittal rows, the subject's right on the left
// in coronal and axial rows (anterior up); details in report/figures.hpp.
RgbImage comparison_figure(const Volume& source, const Volume& target, const Volume& harmonized, const Mask& brain,
                           const std::string& title);

// Intensity histograms (255 bins on [0, 1], brain voxels, the AHD's bins) of
// source, target and harmonized drawn as three coloured lines with a legend.
RgbImage histogram_figure(const Volume& source, const Volume& target, const Volume& harmonized, const Mask& brain,
                          const std::string& title);

struct ReportFigure {
  std::string subject, direction, caption;
  std::string png;  // path relative to the report folder
};

struct ReportInput {
  std::string out_dir;  // report.md, report.html and tables/*.csv are written here
  std::string title = "harmonize cross-validation report";
  std::vector<std::string> settings;  // markdown bullet lines: cohort, folds, budget, sampler, wall time...
  std::vector<MetricRow> rows;        // all metrics (metrics_table.hpp)
  std::vector<ReportFigure> figures;  // PNGs already written under out_dir
};

// Writes out_dir/report.md, out_dir/report.html, out_dir/tables/table{1,2,3,4}.csv (4: stripes and lesions)
// (mean and sd over subjects per direction and method) atomically. Throws Error
// when out_dir is not writable or a figure file is missing, not a PNG or not a
// relative path; figures are checked before anything is written. Table layout
// and the paper's reference numbers: report/tables.hpp, report/summary.hpp.
void write_report(const ReportInput& in);

}  // namespace harmonize
