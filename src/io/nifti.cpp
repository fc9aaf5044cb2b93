#include "io/nifti.hpp"

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkNiftiImageIO.h>
#include <itkVersion.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.hpp"
#include "core/files.hpp"
#include "io/itk_bridge.hpp"

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

// Validates the header and returns a configured ImageIO.
itk::NiftiImageIO::Pointer open_checked(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, "file does not exist");
  if (!fs::is_regular_file(path, ec)) throw InputError(path, "not a regular file");
  if (!is_nifti_path(path)) throw InputError(path, "not a NIfTI file name (expected .nii or .nii.gz)");
  auto io = itk::NiftiImageIO::New();
  if (!io->CanReadFile(path.c_str())) throw InputError(path, "not a NIfTI-1 file (no valid NIfTI header)");
  try {
    io->SetFileName(path);
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw InputError(path, std::string("cannot read NIfTI header: ") + e.GetDescription());
  }
  const unsigned nd = io->GetNumberOfDimensions();
  if (nd < 3) throw InputError(path, "is " + std::to_string(nd) + "D; a 3D volume is required");
  for (unsigned d = 0; d < nd; ++d)
    if (io->GetDimensions(d) == 0) throw InputError(path, "has a zero-sized dimension");
  for (unsigned d = 3; d < nd; ++d)
    if (io->GetDimensions(d) > 1)
      throw InputError(path, "is " + std::to_string(nd) + "D (" + std::to_string(io->GetDimensions(d)) +
                                 " volumes); a single 3D volume is required");
  for (unsigned d = 0; d < 3; ++d)
    if (io->GetDimensions(d) < 2)
      throw InputError(path, "has only one voxel along axis " + std::to_string(d) + "; a 3D volume is required");
  if (io->GetNumberOfComponents() != 1)
    throw InputError(path, "has " + std::to_string(io->GetNumberOfComponents()) +
                               " components per voxel; a scalar image is required");
  scan_voxel_stream(path);
  return io;
}

}  // namespace

bool is_nifti_path(const std::string& path) { return ends_with(path, ".nii") || ends_with(path, ".nii.gz"); }

std::string nifti_stem(const std::string& path) {
  std::string stem = fs::path(path).filename().string();
  for (const char* ext : {".nii.gz", ".nii"})
    if (stem.size() > std::strlen(ext) && ends_with(stem, ext)) return stem.substr(0, stem.size() - std::strlen(ext));
  return stem;
}

std::string itk_version() { return itk::Version::GetITKVersion(); }

Volume read_nifti(const std::string& path) {
  auto io = open_checked(path);
  using ImageType = itk::Image<float, 3>;
  auto reader = itk::ImageFileReader<ImageType>::New();
  reader->SetImageIO(io);
  reader->SetFileName(path);
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    throw InputError(path, std::string("cannot read voxel data (truncated or corrupt?): ") + e.GetDescription());
  }
  ImageType* image = reader->GetOutput();
  Volume v;
  v.geom = itkb::geometry_of(image);
  const float* p = image->GetBufferPointer();
  v.data.assign(p, p + v.geom.voxels());
  std::size_t bad = 0;
  for (float x : v.data) bad += !std::isfinite(x);
  if (bad) throw InputError(path, "contains " + std::to_string(bad) + " NaN or Inf voxels");
  if (mat_det(v.geom.direction) == 0.0) throw InputError(path, "has a singular orientation matrix");
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
// ": no space left on device" when the output's file system is full (the
// usual cause of a short write), else "".
std::string space_hint(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  const auto info = fs::space(dir, ec);
  return !ec && info.available < (1u << 20) ? ": no space left on device" : "";
}

template <class TPixel, class TSource>
void write_typed(const std::string& path, const Image<TSource>& v) {
  using ImageType = itk::Image<TPixel, 3>;
  if constexpr (std::is_floating_point_v<TSource>) {
    std::size_t bad = 0;
    for (const TSource x : v.data) bad += !std::isfinite(x);
    if (bad)
      throw OutputError(path, "refused to write " + std::to_string(bad) +
                                  " NaN or infinite voxels (the computation that made them failed); nothing written");
  }
  auto image = ImageType::New();
  itkb::set_geometry(image.GetPointer(), v.geom);
  image->Allocate();
  TPixel* out = image->GetBufferPointer();
  constexpr double lo = std::numeric_limits<TPixel>::lowest(), hi = std::numeric_limits<TPixel>::max();
  for (std::size_t n = 0; n < v.data.size(); ++n) {
    if constexpr (std::is_floating_point_v<TPixel>) {
      out[n] = static_cast<TPixel>(v.data[n]);
    } else {
      const double x = std::round(static_cast<double>(v.data[n]));
      out[n] = static_cast<TPixel>(std::min(hi, std::max(lo, x)));
    }
  }
  check_output_path(path, /*overwrite=*/true);
  write_atomically(path, [&](const std::string& tmp) {
    auto io = itk::NiftiImageIO::New();
    auto writer = itk::ImageFileWriter<ImageType>::New();
    writer->SetImageIO(io);
    writer->SetFileName(tmp);
    writer->SetInput(image);
    writer->SetUseCompression(ends_with(path, ".gz"));
    try {
      writer->Update();
    } catch (const itk::ExceptionObject& e) {
      throw OutputError(path, std::string("cannot write NIfTI: ") + e.GetDescription() + space_hint(path));
    }
    // ITK's NIfTI writer reports a short write (a full disk) on stderr and
    // returns: read the file back before it may take its final name.
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
      write_typed<float>(path, v);
      break;
    case DiskType::UInt8:
      write_typed<std::uint8_t>(path, v);
      break;
    case DiskType::Int16:
      write_typed<std::int16_t>(path, v);
      break;
    case DiskType::UInt16:
      write_typed<std::uint16_t>(path, v);
      break;
  }
}

void write_nifti(const std::string& path, const Mask& m) {
  if (!is_nifti_path(path)) throw OutputError(path, "output name must end in .nii or .nii.gz");
  write_typed<std::uint8_t>(path, m);
}

void write_nifti(const std::string& path, const LabelVolume& m) {
  if (!is_nifti_path(path)) throw OutputError(path, "output name must end in .nii or .nii.gz");
  write_typed<std::uint16_t>(path, m);
}

}  // namespace harmonize

#include <itkMultiThreaderBase.h>

namespace harmonize {
void set_itk_threads(int n) { itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(n); }
}  // namespace harmonize
