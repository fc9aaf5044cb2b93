#pragma once
// The one header where harmonize images meet ITK. Include it only from .cpp
// files (io/, preprocess/): every other public header is ITK-free.
// Index order is the same on both sides (i fastest); geometry is copied as is
// (both use LPS world = origin + D * diag(spacing) * index).
#include <itkImage.h>

#include "core/volume.hpp"

namespace harmonize::itkb {

using ItkVolume = itk::Image<float, 3>;
using ItkMask = itk::Image<unsigned char, 3>;

Geometry geometry_of(const itk::ImageBase<3>* image);
// Sets the largest, buffered and requested regions, spacing, origin, direction.
void set_geometry(itk::ImageBase<3>* image, const Geometry& g);

ItkVolume::Pointer to_itk(const Volume& v);
ItkMask::Pointer to_itk(const Mask& m);
Volume from_itk(const ItkVolume* image);
Mask from_itk(const ItkMask* image);

}  // namespace harmonize::itkb
