// Writes a simulated scan as a scanner's DICOM converter would
// (simulate/scanner_form.hpp): axes permuted and reversed, the grid tilted
// 15 and 7 degrees, N slices of neck, uint16 scanner units 0..4095. For
// bench/wide_field.sh.
//   scanner_form IN.nii.gz BRAIN_MASK.nii.gz OUT.nii.gz [--neck N]
#include "simulate/scanner_form.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "io/nifti.hpp"

using namespace harmonize;

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) {
    std::fprintf(stderr, "usage: %s IN BRAIN_MASK OUT [--neck N]\n", argv[0]);
    return 2;
  }
  try {
    ScannerForm f;
    if (argc == 6) f.neck_slices = std::size_t(std::stoul(argv[5]));
    const ScannerFormScan s = scanner_form(read_nifti(argv[1]), read_nifti_mask(argv[2]), f);
    write_nifti(argv[3], s.image, DiskType::UInt16);
    std::printf("%s: %zu x %zu x %zu\n", argv[3], s.image.geom.size[0], s.image.geom.size[1], s.image.geom.size[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
