#include "io/itk_bridge.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace harmonize::itkb {

Geometry geometry_of(const itk::ImageBase<3>* image) {
  Geometry g;
  const auto region = image->GetLargestPossibleRegion();
  for (int a = 0; a < 3; ++a) {
    g.size[a] = region.GetSize()[a];
    g.spacing[a] = image->GetSpacing()[a];
    g.origin[a] = image->GetOrigin()[a];
    for (int b = 0; b < 3; ++b) g.direction[a * 3 + b] = image->GetDirection()(a, b);
  }
  return g;
}

void set_geometry(itk::ImageBase<3>* image, const Geometry& g) {
  itk::ImageBase<3>::RegionType region;
  itk::ImageBase<3>::SizeType size;
  itk::ImageBase<3>::SpacingType spacing;
  itk::ImageBase<3>::PointType origin;
  itk::ImageBase<3>::DirectionType direction;
  for (int a = 0; a < 3; ++a) {
    size[a] = g.size[a];
    spacing[a] = g.spacing[a];
    origin[a] = g.origin[a];
    for (int b = 0; b < 3; ++b) direction(a, b) = g.direction[a * 3 + b];
  }
  region.SetSize(size);
  image->SetRegions(region);
  image->SetSpacing(spacing);
  image->SetOrigin(origin);
  image->SetDirection(direction);
}

namespace {
template <class TItk, class T>
typename TItk::Pointer copy_in(const Image<T>& v) {
  if (v.data.size() != v.geom.voxels() || v.data.empty())
    throw Error("image with " + std::to_string(v.data.size()) + " voxels for a grid of " + v.geom.describe());
  auto image = TItk::New();
  set_geometry(image, v.geom);
  image->Allocate();
  std::copy(v.data.begin(), v.data.end(), image->GetBufferPointer());
  return image;
}

template <class T, class TItk>
Image<T> copy_out(const TItk* image) {
  Image<T> v(geometry_of(image));
  const auto* p = image->GetBufferPointer();
  if (image->GetBufferedRegion() != image->GetLargestPossibleRegion()) throw Error("ITK image is not fully buffered");
  std::copy(p, p + v.data.size(), v.data.begin());
  return v;
}
}  // namespace

ItkVolume::Pointer to_itk(const Volume& v) { return copy_in<ItkVolume>(v); }
ItkMask::Pointer to_itk(const Mask& m) { return copy_in<ItkMask>(m); }
Volume from_itk(const ItkVolume* image) { return copy_out<float>(image); }
Mask from_itk(const ItkMask* image) { return copy_out<std::uint8_t>(image); }

}  // namespace harmonize::itkb
