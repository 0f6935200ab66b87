#pragma once

// Codecs for images inside a PDF: a DCT (JPEG) stream is either transcoded (its DCT coefficients
// entropy-decoded and written into a new baseline file) or decoded to its own components and
// written again by libjpeg-turbo; decoded pixels are deflated by libdeflate. Nothing of the input
// stream (markers, comments, profiles, Huffman tables, scan layout, trailing bytes) survives, only
// the image: its coefficients with their quantisation tables, or its pixels.

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

// Decoded at `eighths`/8 (1..8) of its size by libjpeg's scaled inverse DCT, for a photograph that
// is only ever drawn that small (image-PDF mode, image_reduction.h): each side becomes
// ceil(side * eighths / 8). Only a gray or colour (1 or 3 component) JPEG of exactly `width` x
// `height`; false otherwise or when the data does not decode. The caller has checked the size
// against the pixel limit.
bool decodeJpegReduced(std::string_view bytes, uint32_t width, uint32_t height, int eighths, JpegPixels* out);

// A photograph drawn far smaller than its size (image-PDF mode), as a baseline JPEG (quality 90)
// of `eighths`/8 (1..7) of its size, each side ceil(side * eighths / 8): what decodeJpegReduced
// followed by encodeJpeg gives, but a progressive gray or YCbCr file (what LibreOffice writes) is
// decoded by jpeg_progressive.h, reduced by jpeg_reduced.h and encoded from its planes at their
// own sampling; anything else takes decodeJpegReduced and encodeJpeg. Only a 1 or 3 component
// JPEG of exactly `width` x `height`; false otherwise or when the data does not decode.
struct ReducedJpeg {
  uint32_t width = 0, height = 0;
  int components = 0;
  std::string jpeg;
};
bool reduceJpeg(std::string_view bytes, uint32_t width, uint32_t height, int eighths, ReducedJpeg* out);

// A new baseline JPEG (standard Huffman tables, JFIF for colour) holding the same DCT coefficients
// and quantisation tables as `bytes`: lossless, and several times cheaper than decoding to pixels
// and compressing again (no inverse/forward DCT, upsampling or colour conversion). Only for 8-bit
// gray or YCbCr with ordinary sampling (luma 1x1/2x1/1x2/2x2, chroma 1x1) and 8-bit quantisation
// tables, of exactly `width` x `height` and `components` (1 or 3); false otherwise or when the
// data does not decode, and the caller takes the pixel path (decodeJpeg + encodeJpeg).
bool transcodeJpeg(std::string_view bytes, uint32_t width, uint32_t height, int components, std::string* out);

// Baseline JPEG of 1 or 3 components (quality 90). False on an encoder error.
bool encodeJpeg(const JpegPixels& image, std::string* out);

// Baseline JPEG straight from rows `stride` bytes apart (a renderer's bitmap, no repacking), one
// pass with standard Huffman tables. `components`: 1 gray, 3 RGB, or 4 for native-endian 32-bit
// xRGB words (cairo's CAIRO_FORMAT_RGB24), written as a colour JPEG. `fastDct` takes libjpeg-turbo's fast integer DCT: its error
// stays far below the quantisation step at quality 85 and under, so it only costs accuracy where
// the quantiser already discards more (not for quality 90 and up).
bool encodeJpegRows(const unsigned char* pixels, uint32_t width, uint32_t height, int components, size_t stride,
                    int quality, std::string* out, bool fastDct = false);

// zlib-wrapped deflate (what /FlateDecode reads), level 1: speed over size, as the ZIP writer.
bool deflateZlib(std::string_view data, std::string* out);

// Inflates a zlib stream (/FlateDecode without parameters) that must hold exactly `size` bytes,
// checksum included, with libdeflate (about twice zlib's speed, and no growing output). False
// when it holds more or fewer bytes or does not decode; the caller then takes qpdf's general
// decoder, which also reads damaged or over-long streams the way it always did.
bool inflateZlibExact(std::string_view data, size_t size, std::string* out);

}  // namespace lbg::sanitizer::pdf
