#pragma once

// Decoded pixels handed from a format decoder (GIF, BMP, TIFF) to the PNG encoder. Decoders check
// width x height against the pixel cap from the header, before they allocate this buffer.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lbg::sanitizer::image {

struct Raster {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4, rows top to bottom, no padding
};

// "" on success, else a machine word: "parse-error", "limit:image-pixels", "unsupported:<what>".
using DecodeError = std::string;

// True when a width x height image is non-empty and within the cap (no overflow).
inline bool pixelsWithin(uint64_t width, uint64_t height, uint32_t maxPixels) {
  return width > 0 && height > 0 && width <= 0xFFFFFFu && height <= 0xFFFFFFu && width * height <= maxPixels;
}

DecodeError decodeGif(std::string_view bytes, uint32_t maxPixels, Raster* out, bool* droppedFrames);
DecodeError decodeBmp(std::string_view bytes, uint32_t maxPixels, Raster* out);
DecodeError decodeTiff(std::string_view bytes, uint32_t maxPixels, Raster* out);

}  // namespace lbg::sanitizer::image
