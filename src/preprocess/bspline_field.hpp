#pragma once
// The deformable part of a PairTransform (opaque outside src/preprocess/).
#include <itkBSplineTransform.h>

namespace harmonize {
namespace itkb {
using BSplineTransform = itk::BSplineTransform<double, 3, 3>;
}  // namespace itkb

struct BSplineField {
  itkb::BSplineTransform::Pointer transform;
};
}  // namespace harmonize
