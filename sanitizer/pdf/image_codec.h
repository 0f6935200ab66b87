#pragma once

// Pixel codecs for images inside a PDF: a DCT (JPEG) stream is decoded to its own components and
// written again by libjpeg-turbo, decoded pixels are deflated by libdeflate. Nothing of the input
// stream (markers, comments, profiles, trailing bytes) survives, only pixels.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lbg::sanitizer::pdf {

struct JpegPixels {
  uint32_t width = 0, height = 0;
  int components = 0;     // 1 (gray), 3 (RGB) or 4 (CMYK)
  bool adobeInverted = false;  // CMYK stored inverted (Adobe APP14), as Photoshop writes it
  std::string pixels;     // width * height * components bytes, rows top to bottom
};

// False when the stream is not a JPEG libjpeg decodes cleanly, has another component count, or
// holds more than maxPixels pixels (checked from the header, before any pixel buffer).
bool decodeJpeg(std::string_view bytes, uint32_t maxPixels, JpegPixels* out);

// Baseline JPEG of 1 or 3 components (quality 90). False on an encoder error.
bool encodeJpeg(const JpegPixels& image, std::string* out);

// Baseline JPEG straight from rows `stride` bytes apart (a renderer's bitmap, no repacking).
bool encodeJpegRows(const unsigned char* pixels, uint32_t width, uint32_t height, int components, size_t stride,
                    int quality, std::string* out);

// zlib-wrapped deflate (what /FlateDecode reads), level 1: speed over size, as the ZIP writer.
bool deflateZlib(std::string_view data, std::string* out);

}  // namespace lbg::sanitizer::pdf
