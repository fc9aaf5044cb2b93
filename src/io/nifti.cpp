#include "io/nifti.hpp"

#include <nifti1_io.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "harmonize/version.hpp"

namespace fs = std::filesystem;

namespace harmonize {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One pass over the file's bytes (gzip or plain, through zlib) that checks
// what ITK's reader lets through: data shorter than the header promises
// (nifticlib reads a truncated file without complaint) and NaN/Inf voxels
// (nifticlib silently replaces them with 0).
void scan_voxel_stream(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path, "cannot open");
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{f};
  unsigned char hdr[348];
  if (gzread(f, hdr, sizeof hdr) != int(sizeof hdr)) throw InputError(path, "truncated NIfTI header");
  std::int32_t sizeof_hdr;
  std::memcpy(&sizeof_hdr, hdr, 4);
  const bool swap = sizeof_hdr != 348;
  auto i16 = [&](int off) {
    std::uint16_t v;
    std::memcpy(&v, hdr + off, 2);
    return std::int16_t(swap ? std::uint16_t((v >> 8) | (v << 8)) : v);
  };
  auto f32 = [&](int off) {
    std::uint32_t v;
    std::memcpy(&v, hdr + off, 4);
    if (swap) v = __builtin_bswap32(v);
    float x;
    std::memcpy(&x, &v, 4);
    return x;
  };
  const int nd = std::clamp<int>(i16(40), 1, 7);
  std::uint64_t voxels = 1;
  for (int d = 1; d <= nd; ++d) voxels *= std::uint64_t(std::max<std::int16_t>(i16(40 + 2 * d), 0));
  const int datatype = i16(70), bitpix = std::max(0, int(i16(72)));
  const std::uint64_t offset = std::uint64_t(std::max(352.0f, f32(108)));
  const std::uint64_t expected = offset + voxels * std::uint64_t(bitpix) / 8;
  const bool is_f32 = datatype == 16, is_f64 = datatype == 64;
  std::vector<unsigned char> buf(1 << 20);
  std::uint64_t pos = sizeof hdr, nonfinite = 0;
  int n = 0;
  while ((n = gzread(f, buf.data(), unsigned(buf.size()))) > 0) {
    // Whole values inside the data section of this chunk.
    const std::uint64_t chunk_end = pos + std::uint64_t(n);
    const std::size_t width = is_f32 ? 4 : (is_f64 ? 8 : 0);
    if (width && chunk_end > offset) {
      std::uint64_t first = std::max(pos, offset);
      first += (width - (first - offset) % width) % width;  // align to a value
      for (std::uint64_t b = first; b + width <= chunk_end && b + width <= expected; b += width) {
        const unsigned char* q = buf.data() + (b - pos);
        double x;
        if (width == 4) {
          std::uint32_t v;
          std::memcpy(&v, q, 4);
          if (swap) v = __builtin_bswap32(v);
          float fx;
          std::memcpy(&fx, &v, 4);
          x = fx;
        } else {
          std::uint64_t v;
          std::memcpy(&v, q, 8);
          if (swap) v = __builtin_bswap64(v);
          std::memcpy(&x, &v, 8);
        }
        nonfinite += !std::isfinite(x);
      }
    }
    pos = chunk_end;
  }
  int err = 0;
  const char* msg = gzerror(f, &err);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
    throw InputError(path, std::string("truncated or corrupt compressed data (") + (msg ? msg : "") + ")");
  if (pos < expected)
    throw InputError(path,
                     "truncated: " + std::to_string(pos) + " bytes, the header promises " + std::to_string(expected));
  if (nonfinite) throw InputError(path, "contains " + std::to_string(nonfinite) + " NaN or Inf voxels");
}

// nifticlib (ITK's own copy, the library ITK's NIfTI reader is built on)
// reads and writes the header; harmonize decides what it means.
struct NimDeleter {
  void operator()(nifti_image* nim) const {
    if (nim) nifti_image_free(nim);
  }
};
using NimPtr = std::unique_ptr<nifti_image, NimDeleter>;

// The raw header, before nifticlib reads it: a NIfTI-1 header at all, and
// the fields nifticlib normalises away (the data offset and the magic).
void check_raw_header(const std::string& path) {
  unsigned char hdr[348] = {};
  gzFile f = gzopen(path.c_str(), "rb");
  const int n = f ? gzread(f, hdr, sizeof hdr) : -1;
  if (f) gzclose(f);
  std::int32_t sizeof_hdr = 0;
  std::memcpy(&sizeof_hdr, hdr, 4);
  const bool swap = sizeof_hdr != 348;
  if (n != int(sizeof hdr) || (swap && __builtin_bswap32(std::uint32_t(sizeof_hdr)) != 348))
    throw InputError(path, "not a NIfTI-1 file (no valid NIfTI header)");
  std::uint32_t raw;
  std::memcpy(&raw, hdr + 108, 4);
  if (swap) raw = __builtin_bswap32(raw);
  float vox_offset;
  std::memcpy(&vox_offset, &raw, 4);
  if (std::memcmp(hdr + 344, "n+1", 4) == 0 && !(vox_offset >= 352.0f))
    throw InputError(path, "vox_offset " + std::to_string(vox_offset) +
                               " lies inside the header (a single-file NIfTI-1 keeps its data at 352 or later); "
                               "the voxels cannot be located");
  if (std::memcmp(hdr + 344, "ni1", 4) == 0)
    throw InputError(path, "is the header of a two-file NIfTI (.hdr/.img) under a .nii name");
}

constexpr double kOrthoTolerance = 1e-4;

// Voxel-to-world (RAS) 3x4 rows of a nifticlib matrix.
bool orthogonal(const mat44& m) {
  double col[3][3], norm[3];
  for (int c = 0; c < 3; ++c) {
    norm[c] = std::sqrt(double(m.m[0][c]) * m.m[0][c] + double(m.m[1][c]) * m.m[1][c] + double(m.m[2][c]) * m.m[2][c]);
    if (!(norm[c] > 0)) return false;
    for (int r = 0; r < 3; ++r) col[c][r] = m.m[r][c] / norm[c];
  }
  for (int a = 0; a < 3; ++a)
    for (int b = a + 1; b < 3; ++b)
      if (std::abs(col[a][0] * col[b][0] + col[a][1] * col[b][1] + col[a][2] * col[b][2]) > kOrthoTolerance)
        return false;
  return true;
}

// RAS voxel-to-world matrix -> harmonize's LPS grid.
Geometry grid_of(const mat44& m, const std::array<std::size_t, 3>& size) {
  Geometry g;
  g.size = size;
  for (int c = 0; c < 3; ++c) {
    const double s =
        std::sqrt(double(m.m[0][c]) * m.m[0][c] + double(m.m[1][c]) * m.m[1][c] + double(m.m[2][c]) * m.m[2][c]);
    g.spacing[c] = s;
    for (int r = 0; r < 3; ++r) g.direction[r * 3 + c] = (r < 2 ? -1.0 : 1.0) * m.m[r][c] / s;
  }
  for (int r = 0; r < 3; ++r) g.origin[r] = (r < 2 ? -1.0 : 1.0) * m.m[r][3];
  return g;
}

mat44 ras_matrix(const Geometry& g) {
  mat44 m{};
  const auto a = g.affine();  // LPS
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) m.m[r][c] = float((r < 2 ? -1.0 : 1.0) * a[r * 4 + c]);
  m.m[3][3] = 1.0f;
  return m;
}

// The grid of a header, as the standard says and nibabel and FSL read it:
// the sform when its code is non-zero, else the qform when its code is
// non-zero, else (both codes 0, "method 1") the voxel sizes alone.
Geometry geometry_of_header(const nifti_image& nim, const std::string& path) {
  const std::array<std::size_t, 3> size{std::size_t(nim.nx), std::size_t(nim.ny), std::size_t(nim.nz)};
  mat44 m{};
  if (nim.sform_code > 0 && orthogonal(nim.sto_xyz)) {
    m = nim.sto_xyz;
  } else if (nim.sform_code > 0 && nim.qform_code > 0) {
    log::warn(path + ": the sform (code " + std::to_string(nim.sform_code) +
              ") shears or has a zero column; using the qform, and writing both back as given");
    m = nim.qto_xyz;
  } else if (nim.sform_code > 0) {
    throw InputError(path,
                     "the sform shears or has a zero column and there is no qform; a grid of orthogonal "
                     "axes is required");
  } else if (nim.qform_code > 0) {
    m = nim.qto_xyz;
  } else {
    // nifticlib has already read a voxel size of 0 (or not finite) as 1.
    for (int a = 0; a < 3; ++a) m.m[a][a] = std::abs(nim.pixdim[a + 1]);
    m.m[3][3] = 1.0f;
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      if (!std::isfinite(m.m[r][c])) throw InputError(path, "has a non-finite voxel-to-world matrix");
  Geometry g = grid_of(m, size);
  if (!(mat_det(g.direction) != 0.0) || !(g.spacing[0] > 0 && g.spacing[1] > 0 && g.spacing[2] > 0))
    throw InputError(path, "has a singular orientation matrix");

  auto ns = std::make_shared<NiftiSpace>();
  ns->qform_code = nim.qform_code;
  ns->sform_code = nim.sform_code;
  ns->quatern = {nim.quatern_b, nim.quatern_c, nim.quatern_d};
  ns->qoffset = {nim.qoffset_x, nim.qoffset_y, nim.qoffset_z};
  ns->qfac = nim.qfac;
  ns->pixdim = {nim.pixdim[1], nim.pixdim[2], nim.pixdim[3]};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) ns->srow[r * 4 + c] = nim.sto_xyz.m[r][c];
  ns->xyz_units = nim.xyz_units;
  ns->size = g.size;
  ns->spacing = g.spacing;
  ns->origin = g.origin;
  ns->direction = g.direction;
  g.nifti = std::move(ns);
  return g;
}

// harmonize words the errors itself (once: threads read and write files side by side).
void quiet_nifticlib() {
  static const bool quiet = (nifti_set_debug_level(0), true);
  (void)quiet;
}

// Calls f(T{}) with the voxel type of a real scalar NIfTI datatype (the ones
// read_nifti converts); false for any other datatype.
template <class F>
bool with_scalar_type(int datatype, F&& f) {
  switch (datatype) {
    case DT_UINT8:
      return f(std::uint8_t{}), true;
    case DT_INT8:
      return f(std::int8_t{}), true;
    case DT_INT16:
      return f(std::int16_t{}), true;
    case DT_UINT16:
      return f(std::uint16_t{}), true;
    case DT_INT32:
      return f(std::int32_t{}), true;
    case DT_UINT32:
      return f(std::uint32_t{}), true;
    case DT_INT64:
      return f(std::int64_t{}), true;
    case DT_UINT64:
      return f(std::uint64_t{}), true;
    case DT_FLOAT32:
      return f(float{}), true;
    case DT_FLOAT64:
      return f(double{}), true;
    default:
      return false;
  }
}

// Validates the header; returns it (without voxels).
NimPtr open_checked(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, "file does not exist");
  if (!fs::is_regular_file(path, ec)) throw InputError(path, "not a regular file");
  if (!is_nifti_path(path)) throw InputError(path, "not a NIfTI file name (expected .nii or .nii.gz)");
  quiet_nifticlib();
  check_raw_header(path);
  NimPtr nim(nifti_image_read(path.c_str(), 0));
  if (!nim) throw InputError(path, "not a NIfTI-1 file (no valid NIfTI header)");
  if (nim->nifti_type == NIFTI_FTYPE_ANALYZE)
    throw InputError(path, "is an Analyze 7.5 file, not NIfTI-1 (its orientation is undefined)");
  const int nd = nim->ndim;
  if (nd < 3) throw InputError(path, "is " + std::to_string(nd) + "D; a 3D volume is required");
  for (int d = 1; d <= nd; ++d)
    if (nim->dim[d] <= 0) throw InputError(path, "has a zero-sized dimension");
  for (int d = 4; d <= nd; ++d)
    if (nim->dim[d] > 1)
      throw InputError(path, "is " + std::to_string(nd) + "D (" + std::to_string(nim->dim[d]) +
                                 " volumes); a single 3D volume is required");
  for (int d = 1; d <= 3; ++d)
    if (nim->dim[d] < 2)
      throw InputError(path, "has only one voxel along axis " + std::to_string(d - 1) + "; a 3D volume is required");
  if (!with_scalar_type(nim->datatype, [](auto) {})) {
    if (nim->datatype == DT_RGB24 || nim->datatype == DT_RGBA32)
      throw InputError(path, "has colour (RGB) voxels; a scalar image is required");
    throw InputError(path, "has voxels of NIfTI datatype " + std::to_string(nim->datatype) +
                               " (complex or unknown); a real scalar image is required");
  }
  scan_voxel_stream(path);
  return nim;
}

template <class T>
void convert(const void* data, std::vector<float>& out, float slope, float inter) {
  const T* p = static_cast<const T*>(data);
  const bool scale = slope != 0.0f && std::isfinite(slope) && std::isfinite(inter) && !(slope == 1.0f && inter == 0.0f);
  for (std::size_t n = 0; n < out.size(); ++n) out[n] = scale ? float(double(p[n]) * slope + inter) : float(p[n]);
}

}  // namespace

bool is_nifti_path(const std::string& path) { return ends_with(path, ".nii") || ends_with(path, ".nii.gz"); }

std::string nifti_stem(const std::string& path) {
  std::string stem = fs::path(path).filename().string();
  for (const char* ext : {".nii.gz", ".nii"})
    if (stem.size() > std::strlen(ext) && ends_with(stem, ext)) return stem.substr(0, stem.size() - std::strlen(ext));
  return stem;
}

Volume read_nifti(const std::string& path) {
  NimPtr nim = open_checked(path);
  Volume v;
  v.geom = geometry_of_header(*nim, path);
  if (nifti_image_load(nim.get()) != 0 || !nim->data)
    throw InputError(path, "cannot read voxel data (truncated or corrupt?)");
  v.data.resize(v.geom.voxels());
  const float slope = nim->scl_slope, inter = nim->scl_inter;
  if (!with_scalar_type(nim->datatype, [&](auto tag) { convert<decltype(tag)>(nim->data, v.data, slope, inter); }))
    throw InputError(path, "unsupported datatype");
  std::size_t bad = 0;
  for (float x : v.data) bad += !std::isfinite(x);
  if (bad) throw InputError(path, "contains " + std::to_string(bad) + " NaN or Inf voxels");
  return v;
}

Mask read_nifti_mask(const std::string& path) {
  const Volume v = read_nifti(path);
  Mask m(v.geom, 0);
  for (std::size_t n = 0; n < v.data.size(); ++n) m.data[n] = v.data[n] > 0.5f;
  return m;
}

LabelVolume read_nifti_labels(const std::string& path) {
  const Volume v = read_nifti(path);
  LabelVolume l;
  l.geom = v.geom;
  l.data.resize(v.data.size());
  for (std::size_t n = 0; n < v.data.size(); ++n) {
    const float x = v.data[n];
    const float r = std::round(x);
    if (std::abs(x - r) > 1e-3f || r < 0 || r > 65535)
      throw InputError(path, "is not a label map (value " + std::to_string(x) + " is not an integer in 0..65535)");
    l.data[n] = static_cast<std::uint16_t>(r);
  }
  return l;
}

namespace {
// The header's spatial fields for a grid: as given when the grid is the one
// a file was read with (codes and matrices unchanged, so the output overlays
// its input in every tool), else qform = sform = the grid, code 1 (scanner).
void set_space(nifti_image& nim, const Geometry& g) {
  const NiftiSpace* ns = g.nifti.get();
  auto close = [](const auto& a, const auto& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!(std::abs(a[i] - b[i]) <= 1e-6 * std::max(1.0, std::abs(double(a[i]))))) return false;
    return true;
  };
  if (ns && ns->size == g.size && close(ns->spacing, g.spacing) && close(ns->origin, g.origin) &&
      close(ns->direction, g.direction)) {
    nim.qform_code = ns->qform_code;
    nim.sform_code = ns->sform_code;
    nim.quatern_b = ns->quatern[0], nim.quatern_c = ns->quatern[1], nim.quatern_d = ns->quatern[2];
    nim.qoffset_x = ns->qoffset[0], nim.qoffset_y = ns->qoffset[1], nim.qoffset_z = ns->qoffset[2];
    nim.qfac = ns->qfac;
    nim.dx = nim.pixdim[1] = ns->pixdim[0];
    nim.dy = nim.pixdim[2] = ns->pixdim[1];
    nim.dz = nim.pixdim[3] = ns->pixdim[2];
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) nim.sto_xyz.m[r][c] = ns->srow[r * 4 + c];
    nim.sto_xyz.m[3][3] = 1.0f;
    nim.xyz_units = ns->xyz_units;
    return;
  }
  const mat44 m = ras_matrix(g);
  float dx, dy, dz;
  nifti_mat44_to_quatern(m, &nim.quatern_b, &nim.quatern_c, &nim.quatern_d, &nim.qoffset_x, &nim.qoffset_y,
                         &nim.qoffset_z, &dx, &dy, &dz, &nim.qfac);
  nim.qform_code = nim.sform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim.dx = nim.pixdim[1] = float(g.spacing[0]);
  nim.dy = nim.pixdim[2] = float(g.spacing[1]);
  nim.dz = nim.pixdim[3] = float(g.spacing[2]);
  nim.sto_xyz = m;
  nim.xyz_units = NIFTI_UNITS_MM;
}

template <class TPixel, class TSource>
void write_typed(const std::string& path, const Image<TSource>& v, int datatype) {
  if constexpr (std::is_floating_point_v<TSource>) {
    std::size_t bad = 0;
    for (const TSource x : v.data) bad += !std::isfinite(x);
    if (bad)
      throw OutputError(path, "refused to write " + std::to_string(bad) +
                                  " NaN or infinite voxels (the computation that made them failed); nothing written");
  }
  std::vector<TPixel> out(v.data.size());
  constexpr double lo = std::numeric_limits<TPixel>::lowest(), hi = std::numeric_limits<TPixel>::max();
  for (std::size_t n = 0; n < v.data.size(); ++n) {
    if constexpr (std::is_floating_point_v<TPixel>) {
      out[n] = static_cast<TPixel>(v.data[n]);
    } else {
      const double x = std::round(static_cast<double>(v.data[n]));
      out[n] = static_cast<TPixel>(std::min(hi, std::max(lo, x)));
    }
  }
  const int dims[8] = {3, int(v.geom.size[0]), int(v.geom.size[1]), int(v.geom.size[2]), 1, 1, 1, 1};
  quiet_nifticlib();
  NimPtr nim(nifti_make_new_nim(dims, datatype, 0));
  if (!nim) throw OutputError(path, "cannot make a NIfTI header");
  set_space(*nim, v.geom);
  std::snprintf(nim->descrip, sizeof nim->descrip, "harmonize %s", kVersion);
  check_output_path(path, /*overwrite=*/true);
  write_atomically(path, [&](const std::string& tmp) {
    if (nifti_set_filenames(nim.get(), tmp.c_str(), 0, 1) != 0) throw OutputError(path, "cannot name the NIfTI file");
    nim->data = out.data();
    nifti_image_write(nim.get());  // reports failures on stderr only
    nim->data = nullptr;
    // Read the file back before it may take its final name.
    try {
      scan_voxel_stream(tmp);
    } catch (const InputError& e) {
      std::string why = e.what();  // "<tmp>: <problem>" (the problem may repeat the name in parentheses)
      for (std::size_t at; (at = why.find(tmp + ": ")) != std::string::npos;) why.erase(at, tmp.size() + 2);
      throw OutputError(path, "the file came out incomplete (" + why + ")" + space_hint(path));
    }
  });
}
}  // namespace

void write_nifti(const std::string& path, const Volume& v, DiskType type) {
  if (!is_nifti_path(path)) throw OutputError(path, "output name must end in .nii or .nii.gz");
  if (v.data.size() != v.geom.voxels()) throw Error("write_nifti: data size does not match geometry");
  switch (type) {
    case DiskType::Float32:
      write_typed<float>(path, v, DT_FLOAT32);
      break;
    case DiskType::UInt8:
      write_typed<std::uint8_t>(path, v, DT_UINT8);
      break;
    case DiskType::Int16:
      write_typed<std::int16_t>(path, v, DT_INT16);
      break;
    case DiskType::UInt16:
      write_typed<std::uint16_t>(path, v, DT_UINT16);
      break;
  }
}

void write_nifti(const std::string& path, const Mask& m) {
  if (!is_nifti_path(path)) throw OutputError(path, "output name must end in .nii or .nii.gz");
  write_typed<std::uint8_t>(path, m, DT_UINT8);
}

void write_nifti(const std::string& path, const LabelVolume& m) {
  if (!is_nifti_path(path)) throw OutputError(path, "output name must end in .nii or .nii.gz");
  write_typed<std::uint16_t>(path, m, DT_UINT16);
}

}  // namespace harmonize
