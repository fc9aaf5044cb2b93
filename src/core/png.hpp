#pragma once
// 8-bit PNG images drawn by the project (previews, report figures).
#include <cstdint>
#include <string>
#include <vector>

namespace harmonize {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // row-major, 3 bytes per pixel

  RgbImage() = default;
  RgbImage(int w, int h, std::uint8_t fill = 0) : width(w), height(h), rgb(std::size_t(w) * h * 3, fill) {}
  void set(int x, int y, std::uint8_t r, std::uint8_t g, std::uint8_t b);
  void set_gray(int x, int y, std::uint8_t v) { set(x, y, v, v, v); }
  // Copies `src` with its top-left corner at (x, y), clipped to this image.
  void paste(const RgbImage& src, int x, int y);
};

// Writes atomically; throws OutputError on failure.
void write_png(const std::string& path, const RgbImage& image);

// Draws text in a built-in 5x7 pixel font (digits, letters, a few symbols),
// scaled by `scale`.
void draw_text(RgbImage& image, int x, int y, const std::string& text, int scale = 2, std::uint8_t r = 255,
               std::uint8_t g = 255, std::uint8_t b = 255);

}  // namespace harmonize
