#pragma once
// Base64 (RFC 4648, section 4: standard alphabet, '=' padding, no line breaks),
// for PNGs embedded in report.html as data: URLs.
#include <string>
#include <string_view>

namespace harmonize {

std::string base64_encode(std::string_view bytes);

}  // namespace harmonize
