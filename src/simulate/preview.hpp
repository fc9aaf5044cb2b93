#pragma once
// Preview figures: mid-sagittal and mid-axial slices of volumes side by side.
#include <string>
#include <vector>

#include "core/png.hpp"
#include "core/volume.hpp"

namespace harmonize {

struct PreviewColumn {
  const Volume* volume;
  std::string title;
};

// One column per volume: top row its mid-sagittal slice (anterior left,
// superior up), bottom row its mid-axial slice (anterior up, subject's right
// on the left), whatever the file's orientation. Each volume is windowed from
// 0 to its 99.5th percentile.
RgbImage preview_figure(const std::vector<PreviewColumn>& columns, const std::string& title);

}  // namespace harmonize
