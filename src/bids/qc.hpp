#pragma once
// The group level's rule for scans that stand out in a cohort.
#include <vector>

namespace harmonize::bids {

double median(std::vector<double> v);  // 0 for none
// (x - median) / (1.4826 MAD); 0 everywhere when the MAD is 0.
std::vector<double> robust_z(const std::vector<double>& x);
// Far from the cohort in robust terms (|z| > 3.5) and by a margin that
// matters (more than min_relative of the median): in a homogeneous cohort a
// 2 % difference can be many MADs.
std::vector<bool> outliers(const std::vector<double>& x, double min_relative);

}  // namespace harmonize::bids
