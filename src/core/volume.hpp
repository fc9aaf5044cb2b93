#pragma once
// Volume = voxels + geometry. Geometry travels with the voxels everywhere; the
// world frame is ITK's (LPS, millimetres): world = origin + D * diag(spacing) * index.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace harmonize {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<double, 9>;  // row-major

Mat3 mat_identity();
Mat3 mat_mul(const Mat3& a, const Mat3& b);
Vec3 mat_vec(const Mat3& a, const Vec3& v);
Mat3 mat_transpose(const Mat3& a);
Mat3 mat_inverse(const Mat3& a);
double mat_det(const Mat3& a);
// Rotation by Euler angles (radians) about x, then y, then z.
Mat3 rotation_xyz(double rx, double ry, double rz);

struct NiftiSpace;

struct Geometry {
  std::array<std::size_t, 3> size{0, 0, 0};  // voxels along i (fastest), j, k
  Vec3 spacing{1, 1, 1};                     // mm
  Vec3 origin{0, 0, 0};                      // world position of voxel (0,0,0), mm
  Mat3 direction = mat_identity();           // columns: world direction of i, j, k
  // The spatial header of the NIfTI file this grid was read from (null for a
  // computed grid): an image written on this same grid carries it back as given.
  std::shared_ptr<const NiftiSpace> nifti;

  std::size_t voxels() const { return size[0] * size[1] * size[2]; }
  // Continuous index -> world (mm) and back.
  Vec3 index_to_world(const Vec3& ijk) const;
  Vec3 world_to_index(const Vec3& xyz) const;
  // 3x4 voxel-to-world affine (LPS), row-major.
  std::array<double, 12> affine() const;
  // Largest difference (mm) between the world positions of the 8 corner voxels
  // of two grids with the same size; +inf if the sizes differ.
  double max_corner_distance(const Geometry& other) const;
  std::string describe() const;
};

// A NIfTI-1 header's spatial fields, verbatim (RAS, the file's units), and the
// grid harmonize made of them.
struct NiftiSpace {
  int qform_code = 0, sform_code = 0;
  std::array<float, 3> quatern{0, 0, 0};  // b, c, d
  std::array<float, 3> qoffset{0, 0, 0};
  float qfac = 1;
  std::array<float, 3> pixdim{1, 1, 1};
  std::array<float, 12> srow{};  // srow_x, srow_y, srow_z
  int xyz_units = 0;
  // The grid as read (without this header): an image is written with these
  // fields only while its grid is still this one.
  std::array<std::size_t, 3> size{0, 0, 0};
  Vec3 spacing{1, 1, 1}, origin{0, 0, 0};
  Mat3 direction = mat_identity();
};

// One rule for "the same grid", used wherever two images (or an image and a
// mask) must lie voxel on voxel: the same size and corner voxels within
// kGridToleranceMm of each other (this covers spacing, origin and direction;
// grids read back from NIfTI differ from computed ones by float rounding only,
// far below it).
inline constexpr double kGridToleranceMm = 1e-3;

// "" when a and b are the same grid, else a short description of how they
// differ, e.g. "96x96x80 voxels vs 96x96x81" or "same size, but voxel corners
// up to 2.31 mm apart".
std::string grid_mismatch(const Geometry& a, const Geometry& b);
bool same_grid(const Geometry& a, const Geometry& b);
// Throws Error(what + ": " + grid_mismatch(a, b)) unless a and b are the same grid.
void require_same_grid(const Geometry& a, const Geometry& b, const std::string& what);

template <class T>
struct Image {
  Geometry geom;
  std::vector<T> data;

  Image() = default;
  explicit Image(const Geometry& g, T fill = T{}) : geom(g), data(g.voxels(), fill) {}

  std::size_t index(std::size_t i, std::size_t j, std::size_t k) const {
    return i + geom.size[0] * (j + geom.size[1] * k);
  }
  T& at(std::size_t i, std::size_t j, std::size_t k) { return data[index(i, j, k)]; }
  const T& at(std::size_t i, std::size_t j, std::size_t k) const { return data[index(i, j, k)]; }
  const std::array<std::size_t, 3>& size() const { return geom.size; }
};

using Volume = Image<float>;
using LabelVolume = Image<std::uint16_t>;
using Mask = Image<std::uint8_t>;

// Trilinear interpolation at a continuous index; `outside` beyond the grid.
float sample_linear(const Volume& v, const Vec3& ijk, float outside = 0.0f);

}  // namespace harmonize
