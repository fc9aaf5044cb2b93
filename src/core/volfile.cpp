#include "core/volfile.hpp"

#include <bit>
#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "core/files.hpp"

namespace harmonize {
namespace {
constexpr char kMagic[8] = {'H', 'V', 'O', 'L', '0', '0', '0', '1'};

template <class T>
const char* dtype_name();
template <>
const char* dtype_name<float>() {
  return "float32";
}
template <>
const char* dtype_name<std::uint8_t>() {
  return "uint8";
}
template <>
const char* dtype_name<std::uint16_t>() {
  return "uint16";
}

static_assert(std::endian::native == std::endian::little, "hvol I/O assumes a little-endian host");
}  // namespace

nlohmann::json geometry_to_json(const Geometry& g) {
  return {{"size", g.size}, {"spacing", g.spacing}, {"origin", g.origin}, {"direction", g.direction}};
}

Geometry geometry_from_json(const nlohmann::json& j) {
  Geometry g;
  g.size = j.at("size").get<std::array<std::size_t, 3>>();
  g.spacing = j.at("spacing").get<Vec3>();
  g.origin = j.at("origin").get<Vec3>();
  g.direction = j.at("direction").get<Mat3>();
  return g;
}

template <class T>
void write_hvol(const std::string& path, const Image<T>& image, const nlohmann::json& meta) {
  if (image.data.size() != image.geom.voxels()) throw Error("write_hvol: data size does not match geometry");
  nlohmann::json header = geometry_to_json(image.geom);
  header["format"] = "harmonize-volume";
  header["version"] = 1;
  header["dtype"] = dtype_name<T>();
  header["meta"] = meta;
  const std::string text = header.dump();
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw OutputError(path, "cannot open for writing");
    const std::uint64_t len = text.size();
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(text.data(), static_cast<std::streamsize>(len));
    out.write(reinterpret_cast<const char*>(image.data.data()),
              static_cast<std::streamsize>(image.data.size() * sizeof(T)));
    out.close();
    if (!out) throw OutputError(path, "write failed" + space_hint(path));
  });
}

template <class T>
Image<T> read_hvol(const std::string& path, nlohmann::json* meta) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open (missing or unreadable)");
  char magic[8];
  std::uint64_t len = 0;
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
    throw InputError(path, "not a harmonize volume (.hvol) file");
  if (!in.read(reinterpret_cast<char*>(&len), 8) || len > (1u << 24))
    throw InputError(path, "corrupt .hvol header length");
  std::string text(len, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(len))) throw InputError(path, "truncated .hvol header");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(path, std::string("corrupt .hvol header: ") + e.what());
  }
  if (header.value("version", 0) != 1) throw InputError(path, "unsupported .hvol version");
  if (header.value("dtype", "") != std::string(dtype_name<T>()))
    throw InputError(path, "holds " + header.value("dtype", std::string("?")) + " data, expected " + dtype_name<T>());
  Image<T> image;
  try {
    image.geom = geometry_from_json(header);
  } catch (const std::exception& e) {
    throw InputError(path, std::string("corrupt .hvol geometry: ") + e.what());
  }
  image.data.resize(image.geom.voxels());
  if (!in.read(reinterpret_cast<char*>(image.data.data()), static_cast<std::streamsize>(image.data.size() * sizeof(T))))
    throw InputError(path, "truncated .hvol data");
  if (meta) *meta = header.value("meta", nlohmann::json::object());
  return image;
}

template void write_hvol(const std::string&, const Image<float>&, const nlohmann::json&);
template void write_hvol(const std::string&, const Image<std::uint8_t>&, const nlohmann::json&);
template void write_hvol(const std::string&, const Image<std::uint16_t>&, const nlohmann::json&);
template Image<float> read_hvol(const std::string&, nlohmann::json*);
template Image<std::uint8_t> read_hvol(const std::string&, nlohmann::json*);
template Image<std::uint16_t> read_hvol(const std::string&, nlohmann::json*);

}  // namespace harmonize
