#pragma once
// The exchange format between the ITK side (preprocessing) and the ITK-free
// learning core: one file, `.hvol`, holding a 3D array with its geometry.
//   bytes 0-7   magic "HVOL0001"
//   bytes 8-15  header length L (uint64, little endian)
//   next L      JSON header: {"format":"harmonize-volume","version":1,
//               "dtype":"float32"|"uint8"|"uint16","size":[ni,nj,nk],
//               "spacing":[..],"origin":[..],"direction":[9 values, row-major],
//               "meta":{...}}
//   rest        ni*nj*nk values, little endian, i fastest (C order [nk][nj][ni])
// See docs/FORMATS.md.
#include <nlohmann/json.hpp>
#include <string>

#include "core/volume.hpp"

namespace harmonize {

nlohmann::json geometry_to_json(const Geometry& g);
Geometry geometry_from_json(const nlohmann::json& j);

template <class T>
void write_hvol(const std::string& path, const Image<T>& image, const nlohmann::json& meta = nlohmann::json::object());
template <class T>
Image<T> read_hvol(const std::string& path, nlohmann::json* meta = nullptr);

}  // namespace harmonize
