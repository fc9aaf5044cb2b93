#pragma once
// A stable hash of an image's grid (size, spacing) and voxels: seeds and
// caches keyed by content (harmonize/scan.hpp scan_key, evaluate's
// SegmentationCache).
#include <cstdint>

#include "core/rng.hpp"
#include "core/volume.hpp"

namespace harmonize {

template <class T>
std::uint64_t content_hash(const Image<T>& image, std::uint64_t h = kFnvOffset) {
  h = fnv1a(image.geom.size.data(), sizeof(image.geom.size), h);
  h = fnv1a(image.geom.spacing.data(), sizeof(image.geom.spacing), h);
  return fnv1a(image.data.data(), image.data.size() * sizeof(T), h);
}

}  // namespace harmonize
