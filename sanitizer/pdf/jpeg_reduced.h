#pragma once

// A photograph's DCT coefficients (jpeg_progressive.h) turned into pixels at a fraction of their
// size: image-PDF mode decodes a photograph drawn far smaller than its pixel size at that smaller
// size (image_reduction.h), and encodes it again for the sandboxed renderer.
//
// Why our own: libjpeg's scaled decode of a progressive file runs its bit-by-bit progressive
// decoder (a fifth of an image-PDF page in the profile, issue 15). Our decoder gives the
// coefficients in two thirds of that time; from them this inverse DCT of the top-left N x N
// coefficients of each block (N = eighths) gives N x N samples per block, which is what libjpeg's
// scaled IDCTs compute (jidctred.c, jidctint.c), in floating point. The planes stay at their own
// sampling (a 4:2:0 photograph gives half-size chroma planes), so the encoder takes them as they
// are: no chroma upsampling, colour conversion or downsampling in between.

#include <cstdint>

#include "sanitizer/pdf/jpeg_progressive.h"

namespace lbg::sanitizer::pdf {

struct ReducedPlanes {
  uint32_t width = 0, height = 0;  // the image: ceil(side * eighths / 8), as libjpeg's scaled decode
  int components = 0;              // 1 (gray) or 3 (YCbCr)
  uint8_t maxH = 1, maxV = 1;
  struct Plane {
    uint8_t h = 1, v = 1;       // sampling factors, as the coefficients'
    uint32_t stride = 0;        // samples per row: whole MCUs of the reduced image
    uint32_t rows = 0;          // whole MCU rows of the reduced image
    uint8_t* samples = nullptr; // stride * rows; past the component's own width and height the
                                // last column and row are repeated (what an encoder pads with)
  } plane[3];
  // The samples live in this thread's jpegThreadBuffer(JpegBuffer::Planes): valid until the next
  // reduction on the same thread.
};

// `eighths` 1..7. False for anything else (the caller keeps its other path).
bool reduceCoefficients(const JpegCoefficients& image, int eighths, ReducedPlanes* out);

}  // namespace lbg::sanitizer::pdf
