#pragma once
// The three slice orientations a 2D model can be trained on and applied to
// (sagittal, coronal, axial) and their names, as options and files spell them.
// The slicing itself is model/view_slices.hpp's.
#include <string>
#include <vector>

namespace harmonize {

enum class View { Sagittal, Coronal, Axial };

// "sagittal", "coronal", "axial"; UsageError otherwise.
View parse_view(const std::string& name);
std::string view_name(View v);
// A nonempty list without repeats, in the given order; UsageError otherwise.
std::vector<View> parse_views(const std::vector<std::string>& names);

// How the volumes of several orientations become one: the voxel-wise median
// (a slice that went wrong in one orientation is outvoted by the two others;
// with two orientations, their mean) or the mean (lowest variance for
// independent errors).
enum class Fusion { Median, Mean };
Fusion parse_fusion(const std::string& name);  // "median", "mean"; UsageError otherwise
std::string fusion_name(Fusion f);

}  // namespace harmonize
