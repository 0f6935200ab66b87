#pragma once

// Raster images are decoded to pixels and encoded again: no chunk, marker, profile, comment or
// trailing byte of the input survives, only pixels. libpng (simplified API) and libjpeg-turbo,
// both small, well-fuzzed decoders already on every Debian system; GraphicsMagick/ImageMagick
// were rejected for their attack surface (hundreds of coders, delegates, a history of CVEs).
// The pixel count is checked from the header before any pixel buffer is allocated.

#include <string>
#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::image {

// PNG -> PNG (RGBA 8-bit), JPEG -> JPEG (quality 90, baseline), GIF (first frame), BMP and TIFF
// (single page) -> PNG (RGBA 8-bit). Other types fail.
FormatResult sanitize(std::string_view bytes, const FormatLimits& limits);

// Encodes packed RGB pixels (3 bytes each, no row padding) as a baseline JPEG. Used by image-PDF.
bool encodeJpeg(const unsigned char* rgb, unsigned width, unsigned height, int quality, std::string* out);

// Second check: the output decodes cleanly within the pixel limit. "" when fine.
std::string verify(std::string_view bytes, const FormatLimits& limits);

}  // namespace lbg::sanitizer::image
