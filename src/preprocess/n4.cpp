#include "preprocess/n4.hpp"

#include <itkBSplineControlPointImageFilter.h>
#include <itkN4BiasFieldCorrectionImageFilter.h>
#include <itkShrinkImageFilter.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/itk_bridge.hpp"

namespace harmonize {

Volume n4_bias_field(const Volume& v, const Mask& mask, const N4Options& o) {
  using namespace itkb;
  require_same_grid(mask.geom, v.geom, "n4: the mask is not on the image's grid");
  if (o.shrink < 0 || (o.shrink == 0 && !(o.grid_mm > 0)) || o.iterations.empty() || o.control_points < 4)
    throw Error("n4: shrink must be >= 1 (or 0 with a positive grid), at least one level, control points >= 4");
  const double finest = std::min({v.geom.spacing[0], v.geom.spacing[1], v.geom.spacing[2]});
  const int shrink = o.shrink > 0 ? o.shrink : std::max(1, int(std::lround(o.grid_mm / finest)));
  // N4 works on log intensities: only positive voxels may take part.
  Mask m(mask.geom, 0);
  std::size_t count = 0;
  for (std::size_t n = 0; n < m.data.size(); ++n)
    if (mask.data[n] && v.data[n] > 0) m.data[n] = 1, ++count;
  if (count < 1000) throw Error("n4: the mask holds only " + std::to_string(count) + " positive voxels");

  try {
    auto image = to_itk(v);
    auto itk_mask = to_itk(m);
    auto shrink_image = itk::ShrinkImageFilter<ItkVolume, ItkVolume>::New();
    shrink_image->SetInput(image);
    shrink_image->SetShrinkFactors(unsigned(shrink));
    auto shrink_mask = itk::ShrinkImageFilter<ItkMask, ItkMask>::New();
    shrink_mask->SetInput(itk_mask);
    shrink_mask->SetShrinkFactors(unsigned(shrink));
    shrink_image->Update();
    shrink_mask->Update();

    using N4 = itk::N4BiasFieldCorrectionImageFilter<ItkVolume, ItkMask, ItkVolume>;
    auto n4 = N4::New();
    n4->SetInput(shrink_image->GetOutput());
    n4->SetMaskImage(shrink_mask->GetOutput());
    N4::VariableSizeArrayType iterations(unsigned(o.iterations.size()));
    for (std::size_t l = 0; l < o.iterations.size(); ++l) iterations[l] = unsigned(o.iterations[l]);
    n4->SetMaximumNumberOfIterations(iterations);
    n4->SetNumberOfFittingLevels(unsigned(o.iterations.size()));
    n4->SetConvergenceThreshold(o.convergence);
    n4->SetBiasFieldFullWidthAtHalfMaximum(o.fwhm);
    N4::ArrayType control_points;
    control_points.Fill(unsigned(o.control_points));
    n4->SetNumberOfControlPoints(control_points);
    n4->Update();
    log::debug("n4: " + std::to_string(n4->GetElapsedIterations()) + " iterations at the last level, convergence " +
               std::to_string(n4->GetCurrentConvergenceMeasurement()));

    // Evaluate the log-bias lattice on the full-resolution grid (as ITK's and
    // ANTs' N4 programs do), rather than upsampling the shrunk field.
    using Lattice = N4::BiasFieldControlPointLatticeType;
    using Field = N4::ScalarImageType;
    auto bspline = itk::BSplineControlPointImageFilter<Lattice, Field>::New();
    bspline->SetInput(n4->GetLogBiasFieldControlPointLattice());
    bspline->SetSplineOrder(n4->GetSplineOrder());
    bspline->SetSize(image->GetLargestPossibleRegion().GetSize());
    bspline->SetOrigin(image->GetOrigin());
    bspline->SetSpacing(image->GetSpacing());
    bspline->SetDirection(image->GetDirection());
    bspline->Update();
    const Field* log_bias = bspline->GetOutput();
    Volume field(v.geom, 1.0f);
    const auto* p = log_bias->GetBufferPointer();
    for (std::size_t n = 0; n < field.data.size(); ++n) field.data[n] = std::exp(float(p[n][0]));
    return field;
  } catch (const itk::ExceptionObject& e) {
    throw Error(std::string("n4 bias correction failed: ") + e.GetDescription());
  }
}

Volume n4_correct(const Volume& v, const Mask& mask, const N4Options& o) {
  Volume out = n4_bias_field(v, mask, o);
  for (std::size_t n = 0; n < out.data.size(); ++n) out.data[n] = v.data[n] / out.data[n];
  return out;
}

}  // namespace harmonize
