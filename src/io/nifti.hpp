#pragma once
// NIfTI-1 (.nii, .nii.gz) in and out, through ITK. The only file that includes
// ITK's image I/O; everything else works on harmonize::Image with its geometry.
#include <string>

#include "core/volume.hpp"

namespace harmonize {

enum class DiskType { Float32, UInt8, Int16, UInt16 };

// Reads a 3D scalar NIfTI of any on-disk type as float32 (scl_slope/inter
// applied). Refuses, with an InputError naming the file: a missing file, a
// file that is not NIfTI-1, a truncated or corrupt file, 2D or 4D data (a 4th
// dimension of size 1 is accepted), vector voxels, zero-sized dimensions,
// NaN or Inf voxels.
Volume read_nifti(const std::string& path);
// As read_nifti, for label maps: values rounded to the nearest integer in
// [0, 65535]; refuses non-integer or out-of-range values.
LabelVolume read_nifti_labels(const std::string& path);
// As read_nifti, for binary masks: voxels above 0.5 are 1, the rest 0.
Mask read_nifti_mask(const std::string& path);

// Writes atomically (temporary name, then rename): float32 unless asked
// otherwise; integer types round and clamp to their range. Both the qform and
// the sform of the file encode the image's voxel-to-world mapping.
void write_nifti(const std::string& path, const Volume& v, DiskType type = DiskType::Float32);
void write_nifti(const std::string& path, const Mask& m);
void write_nifti(const std::string& path, const LabelVolume& m);

bool is_nifti_path(const std::string& path);
// The file name without its folder and its .nii / .nii.gz extension.
std::string nifti_stem(const std::string& path);
std::string itk_version();

}  // namespace harmonize

namespace harmonize {
// Thread count of ITK's filters (the CLI sets it from --threads).
void set_itk_threads(int n);
}  // namespace harmonize
