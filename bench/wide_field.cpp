// Puts a scan (and, optionally, its brain mask) in the middle of a larger
// field of view of the same voxels: zeros around it, the same world
// positions for the head. For bench/wide_field.sh.
//   wide_field IN.nii.gz OUT.nii.gz [--size 512] [--mask M.nii.gz OUT_MASK.nii.gz]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/error.hpp"
#include "io/nifti.hpp"
#include "preprocess/crop.hpp"

using namespace harmonize;

namespace {
template <class T>
Image<T> embed(const Image<T>& v, std::size_t size, Box& box) {
  Geometry g = v.geom;
  g.nifti = nullptr;
  std::array<long, 3> lo{};
  for (int a = 0; a < 3; ++a) {
    if (v.geom.size[a] > size) throw Error("the field of view is smaller than the scan");
    lo[a] = long(size - v.geom.size[a]) / 2;
    box.lo[a] = std::size_t(lo[a]);
    box.hi[a] = box.lo[a] + v.geom.size[a];
    g.size[a] = size;
  }
  g.origin = v.geom.index_to_world({-double(lo[0]), -double(lo[1]), -double(lo[2])});
  return paste(v, g, box);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s IN OUT [--size N] [--mask M OUT_MASK]\n", argv[0]);
    return 2;
  }
  try {
    std::size_t size = 512;
    std::string mask, out_mask;
    for (int i = 3; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--size" && i + 1 < argc)
        size = std::size_t(std::atol(argv[++i]));
      else if (a == "--mask" && i + 2 < argc)
        mask = argv[++i], out_mask = argv[++i];
      else
        throw Error("unknown argument " + a);
    }
    Box box;
    write_nifti(argv[2], embed(read_nifti(argv[1]), size, box));
    if (!mask.empty()) write_nifti(out_mask, embed(read_nifti_mask(mask), size, box));
    std::printf("%s: %zu^3 voxels, the scan at %s\n", argv[2], size, box.describe().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
