#include "report/base64.hpp"

#include <cstdint>

namespace harmonize {

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t n = 0;
  // Every 3 bytes (24 bits) become 4 characters of 6 bits each.
  for (; n + 3 <= bytes.size(); n += 3) {
    const std::uint32_t w = std::uint32_t(std::uint8_t(bytes[n])) << 16 |
                            std::uint32_t(std::uint8_t(bytes[n + 1])) << 8 | std::uint8_t(bytes[n + 2]);
    out += kAlphabet[(w >> 18) & 63];
    out += kAlphabet[(w >> 12) & 63];
    out += kAlphabet[(w >> 6) & 63];
    out += kAlphabet[w & 63];
  }
  // A final group of 1 or 2 bytes is zero-padded and ends in "==" or "=".
  const std::size_t rest = bytes.size() - n;
  if (rest > 0) {
    std::uint32_t w = std::uint32_t(std::uint8_t(bytes[n])) << 16;
    if (rest == 2) w |= std::uint32_t(std::uint8_t(bytes[n + 1])) << 8;
    out += kAlphabet[(w >> 18) & 63];
    out += kAlphabet[(w >> 12) & 63];
    out += rest == 2 ? kAlphabet[(w >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace harmonize
