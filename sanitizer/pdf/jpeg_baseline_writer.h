#pragma once

// Writes DCT coefficients (jpeg_progressive.h) as a baseline JPEG: standard Huffman tables, one
// interleaved scan, no restart markers, the JFIF APP0 for colour images and no other marker. The
// bytes are the ones libjpeg's jpeg_write_coefficients writes after jpeg_copy_critical_parameters
// for the same coefficients (unit test), so a photograph leaves the same whichever decoder read
// it; written here because the coefficients are not in libjpeg's virtual arrays, and copying
// them there would fault in another fresh buffer per photograph.

#include <string>

#include "sanitizer/pdf/jpeg_progressive.h"

namespace lbg::sanitizer::pdf {

// False when a coefficient is outside what baseline Huffman tables code the same way in every
// reader (DC [-1024, 1023], AC [-1023, 1023]); the caller then takes the pixel path.
bool writeBaselineJpeg(const JpegCoefficients& image, std::string* out);

}  // namespace lbg::sanitizer::pdf
