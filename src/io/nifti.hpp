#pragma once
// NIfTI-1 (.nii, .nii.gz) in and out, through nifticlib (the copy ITK ships
// and its NIfTI reader uses). Everything else works on harmonize::Image with
// its geometry.
//
// Geometry as the standard says and nibabel and FSL read it: the sform when
// sform_code is non-zero, else the qform when qform_code is non-zero, else the
// voxel sizes alone (both codes 0). An image written on the grid it was read
// with carries the file's codes and both matrices back unchanged; an image on
// a new grid gets qform = sform = its grid, code 1.
#include <string>

#include "core/volume.hpp"

namespace harmonize {

enum class DiskType { Float32, UInt8, Int16, UInt16 };

// Reads a 3D scalar NIfTI of any on-disk type as float32 (scl_slope/inter
// applied). Refuses, with an InputError naming the file: a missing file, a
// file that is not NIfTI-1, a truncated or corrupt file, 2D or 4D data (a 4th
// dimension of size 1 is accepted), vector voxels, zero-sized dimensions,
// NaN or Inf voxels, a data offset inside the header (vox_offset < 352), an
// sform that shears without a qform to fall back on.
Volume read_nifti(const std::string& path);
// As read_nifti, for label maps: values rounded to the nearest integer in
// [0, 65535]; refuses non-integer or out-of-range values.
LabelVolume read_nifti_labels(const std::string& path);
// As read_nifti, for binary masks: voxels above 0.5 are 1, the rest 0.
Mask read_nifti_mask(const std::string& path);

// Writes atomically (temporary name, then rename): float32 unless asked
// otherwise; integer types round and clamp to their range. Refuses NaN or Inf
// voxels; reads the file back before it takes its name.
void write_nifti(const std::string& path, const Volume& v, DiskType type = DiskType::Float32);
void write_nifti(const std::string& path, const Mask& m);
void write_nifti(const std::string& path, const LabelVolume& m);

bool is_nifti_path(const std::string& path);
// The file name without its folder and its .nii / .nii.gz extension.
std::string nifti_stem(const std::string& path);

}  // namespace harmonize
