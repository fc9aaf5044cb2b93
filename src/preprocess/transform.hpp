#pragma once
// The spatial transform between the two scans of a pair, as registration
// finds it: it maps a point of the fixed image (world, LPS mm) to the point of
// the moving image that belongs there (ITK's convention), so warping the
// moving image onto the fixed grid samples the moving image at map(x).
#include <memory>
#include <string>

#include "core/volume.hpp"
#include "preprocess/resample.hpp"

namespace harmonize {

struct BSplineField;  // ITK B-spline displacement (defined in itk_bridge.hpp)

struct PairTransform {
  // Affine part: moving = matrix * p + translation.
  Mat3 matrix = mat_identity();
  Vec3 translation{0, 0, 0};
  // Optional deformable part, applied first: p = x + displacement(x) with x a
  // fixed-image point; null when the registration was linear only.
  std::shared_ptr<const BSplineField> deformable;

  bool has_deformable() const { return deformable != nullptr; }
  Vec3 map(const Vec3& fixed_point) const;         // thread-safe
  Vec3 map_affine(const Vec3& fixed_point) const;  // the affine part alone
};

// The moving image resampled onto the fixed grid through t.
Volume warp(const Volume& moving, const PairTransform& t, const Geometry& fixed_grid, Interp interp = Interp::Linear);
Mask warp(const Mask& moving, const PairTransform& t, const Geometry& fixed_grid);  // nearest

// ITK transform text files: <prefix>_affine.tfm (AffineTransform_double_3_3)
// and, when there is a deformable part, <prefix>_bspline.tfm
// (BSplineTransform_double_3_3). Written to temporary names, then renamed.
void save_transform(const PairTransform& t, const std::string& prefix);
// Reads what save_transform wrote; throws InputError naming the file.
PairTransform load_transform(const std::string& prefix);

}  // namespace harmonize
