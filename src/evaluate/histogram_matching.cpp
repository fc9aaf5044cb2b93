#include "evaluate/histogram_matching.hpp"

#include <itkHistogramMatchingImageFilter.h>
#include <itkImage.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace harmonize {
namespace {

using Line = itk::Image<float, 1>;

// The brain voxels of `v` as a 1-D ITK image.
Line::Pointer brain_line(const Volume& v, const Mask& brain, const char* what) {
  require_same_grid(brain.geom, v.geom,
                    std::string("histogram matching: the ") + what + " mask is not on its image's grid");
  std::vector<float> values;
  for (std::size_t n = 0; n < v.data.size(); ++n)
    if (brain.data[n]) {
      if (!std::isfinite(v.data[n]))
        throw Error(std::string("histogram matching: the ") + what + " brain holds NaN or Inf");
      values.push_back(v.data[n]);
    }
  if (values.empty()) throw Error(std::string("histogram matching: the ") + what + " brain mask is empty");
  auto line = Line::New();
  Line::RegionType region;
  region.SetSize(0, values.size());
  line->SetRegions(region);
  line->Allocate();
  std::copy(values.begin(), values.end(), line->GetBufferPointer());
  return line;
}

}  // namespace

Volume histogram_match(const Volume& source, const Mask& source_brain, const Volume& reference,
                       const Mask& reference_brain, const HistogramMatchOptions& options) {
  if (options.levels < 2 || options.match_points < 1)
    throw UsageError("histogram matching needs at least 2 levels and 1 match point");
  const auto src = brain_line(source, source_brain, "source");
  const auto ref = brain_line(reference, reference_brain, "reference");
  const auto [lo, hi] = std::minmax_element(ref->GetBufferPointer(),
                                            ref->GetBufferPointer() + ref->GetLargestPossibleRegion().GetSize(0));
  if (!(*hi > *lo)) throw Error("histogram matching: the reference brain is constant");

  Volume out(source.geom, 0.0f);
  const auto [slo, shi] = std::minmax_element(src->GetBufferPointer(),
                                              src->GetBufferPointer() + src->GetLargestPossibleRegion().GetSize(0));
  const float* mapped = nullptr;
  using Filter = itk::HistogramMatchingImageFilter<Line, Line>;
  auto filter = Filter::New();
  if (*shi > *slo) {
    filter->SetSourceImage(src);
    filter->SetReferenceImage(ref);
    filter->SetNumberOfHistogramLevels(itk::SizeValueType(options.levels));
    filter->SetNumberOfMatchPoints(itk::SizeValueType(options.match_points));
    filter->ThresholdAtMeanIntensityOff();
    filter->Update();
    mapped = filter->GetOutput()->GetBufferPointer();
  }
  // A constant source brain has no distribution to match: it goes to the reference median.
  float median = 0;
  if (!mapped) {
    const std::size_t m = ref->GetLargestPossibleRegion().GetSize(0);
    std::vector<float> r(ref->GetBufferPointer(), ref->GetBufferPointer() + m);
    std::nth_element(r.begin(), r.begin() + std::ptrdiff_t(m / 2), r.end());
    median = r[m / 2];
  }
  std::size_t i = 0;
  for (std::size_t n = 0; n < source.data.size(); ++n)
    if (source_brain.data[n]) out.data[n] = mapped ? mapped[i++] : median;
  return out;
}

}  // namespace harmonize
