#pragma once
// The long-format table every evaluation writes and the report reads: one row
// per (subject, direction, method, reference, metric, class) value.
#include <string>
#include <vector>

namespace harmonize {

// metric names (see docs/METRICS.md for the exact definitions):
//   mse_sum, mse_mean, ahd                 inside the brain mask (cls "")
//   mse_sum_volume, mse_mean_volume, ahd_volume   over the whole volume (cls "")
//   volume_mm3                             the method's own segmentation (cls CSF|GM|WM), reference ""
//   volume_abs_diff_mm3, dice, hd, hd95    per class against `reference`
// reference: "target" (the target scan's segmentation) or "truth" (simulated ground truth) or "".
// method: "Original", "Histogram matching", or a model name.
struct MetricRow {
  std::string subject, direction, method, reference, metric, cls;
  double value = 0;
  bool operator==(const MetricRow&) const = default;
};

// CSV with header subject,direction,method,reference,metric,class,value
// (values printed with 9 significant digits); written atomically.
void write_metrics_csv(const std::string& path, const std::vector<MetricRow>& rows);
// Throws InputError naming the file on a missing file, a wrong header or a bad row.
std::vector<MetricRow> read_metrics_csv(const std::string& path);

}  // namespace harmonize
