#pragma once
// NIfTI-1 headers written and read byte by byte, independently of nifticlib
// and ITK: the "second writer" against which harmonize's reader and writer are
// checked.
#include <zlib.h>

#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace rawnifti {

struct Header {
  std::vector<short> dims;
  short datatype = 16, bitpix = 32;  // float32
  std::array<float, 8> pixdim{1, 1, 1, 1, 1, 1, 1, 1};
  float vox_offset = 352, scl_slope = 1, scl_inter = 0;
  short qform_code = 0, sform_code = 1;
  std::array<float, 3> quatern{0, 0, 0}, qoffset{0, 0, 0};
  std::array<float, 12> srow{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  char magic[4] = {'n', '+', '1', '\0'};
};

// Writes a header and voxel bytes; a vox_offset beyond 352 is padded with zeros.
inline void write(const std::string& path, const Header& h, const void* data, std::size_t bytes, bool gzip = true) {
  char hdr[352] = {};
  auto put_i32 = [&](int off, int v) { std::memcpy(hdr + off, &v, 4); };
  auto put_i16 = [&](int off, short v) { std::memcpy(hdr + off, &v, 2); };
  auto put_f32 = [&](int off, float v) { std::memcpy(hdr + off, &v, 4); };
  put_i32(0, 348);
  put_i16(40, short(h.dims.size()));
  for (std::size_t d = 0; d < h.dims.size(); ++d) put_i16(42 + 2 * int(d), h.dims[d]);
  for (std::size_t d = h.dims.size(); d < 7; ++d) put_i16(42 + 2 * int(d), 1);
  put_i16(70, h.datatype);
  put_i16(72, h.bitpix);
  for (int d = 0; d < 8; ++d) put_f32(76 + 4 * d, h.pixdim[d]);
  put_f32(108, h.vox_offset);
  put_f32(112, h.scl_slope);
  put_f32(116, h.scl_inter);
  put_i16(252, h.qform_code);
  put_i16(254, h.sform_code);
  for (int i = 0; i < 3; ++i) put_f32(256 + 4 * i, h.quatern[i]);
  for (int i = 0; i < 3; ++i) put_f32(268 + 4 * i, h.qoffset[i]);
  for (int i = 0; i < 12; ++i) put_f32(280 + 4 * i, h.srow[i]);
  std::memcpy(hdr + 344, h.magic, 4);
  std::string out(hdr, 352);
  if (h.vox_offset > 352) out.resize(std::size_t(h.vox_offset), '\0');
  out.append(static_cast<const char*>(data), bytes);
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, out.data(), unsigned(out.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary) << out;
  }
}

inline void write(const std::string& path, std::vector<short> dims, const std::vector<float>& data, bool gzip = true) {
  Header h;
  h.dims = std::move(dims);
  write(path, h, data.data(), data.size() * 4, gzip);
}

inline Header read(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  char hdr[348] = {};
  gzread(f, hdr, 348);
  gzclose(f);
  Header h;
  short nd;
  std::memcpy(&nd, hdr + 40, 2);
  h.dims.resize(std::size_t(std::max<short>(0, std::min<short>(nd, 7))));
  for (std::size_t d = 0; d < h.dims.size(); ++d) std::memcpy(&h.dims[d], hdr + 42 + 2 * d, 2);
  std::memcpy(&h.datatype, hdr + 70, 2);
  std::memcpy(&h.bitpix, hdr + 72, 2);
  std::memcpy(h.pixdim.data(), hdr + 76, 32);
  std::memcpy(&h.vox_offset, hdr + 108, 4);
  std::memcpy(&h.scl_slope, hdr + 112, 4);
  std::memcpy(&h.scl_inter, hdr + 116, 4);
  std::memcpy(&h.qform_code, hdr + 252, 2);
  std::memcpy(&h.sform_code, hdr + 254, 2);
  std::memcpy(h.quatern.data(), hdr + 256, 12);
  std::memcpy(h.qoffset.data(), hdr + 268, 12);
  std::memcpy(h.srow.data(), hdr + 280, 48);
  std::memcpy(h.magic, hdr + 344, 4);
  return h;
}

// The qform's voxel-to-world matrix (RAS, 3x4 row-major), from the standard's
// formula: R from the quaternion, columns scaled by pixdim, k by qfac.
inline std::array<double, 12> qform_matrix(const Header& h) {
  const double b = h.quatern[0], c = h.quatern[1], d = h.quatern[2];
  const double a = std::sqrt(std::max(0.0, 1.0 - (b * b + c * c + d * d)));
  const double R[9] = {a * a + b * b - c * c - d * d, 2 * (b * c - a * d),           2 * (b * d + a * c),
                       2 * (b * c + a * d),           a * a + c * c - b * b - d * d, 2 * (c * d - a * b),
                       2 * (b * d - a * c),           2 * (c * d + a * b),           a * a + d * d - c * c - b * b};
  const double qfac = h.pixdim[0] < 0 ? -1 : 1;
  std::array<double, 12> m{};
  for (int r = 0; r < 3; ++r) {
    for (int col = 0; col < 3; ++col) m[r * 4 + col] = R[r * 3 + col] * h.pixdim[col + 1] * (col == 2 ? qfac : 1.0);
    m[r * 4 + 3] = h.qoffset[r];
  }
  return m;
}

}  // namespace rawnifti
