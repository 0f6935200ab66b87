#pragma once

// Fonts and images of the PDF rebuild. Every embedded font program (FontFile, FontFile2,
// FontFile3) is decoded and handed to the font checker (FreeType in the sandbox): a program it
// accepts is written again as a fresh Flate stream with a dictionary of our own; one it rejects
// (or of an unknown FontFile3 subtype) is removed, its fonts fall back to the standard Helvetica,
// and it is reported as `font-program`. Every image XObject is decoded (Flate, DCT or unfiltered
// only) and re-encoded (JPEG as JPEG, pixels as Flate) under a dictionary rebuilt from an
// allow-list (size, bits, device colour spaces, Indexed, Decode, masks); any other image (JPX,
// JBIG2, CCITT, LZW, exotic colour spaces, sizes that do not match the data) is replaced by a
// blank 1x1 image and reported as `image` with its reason.

#include <map>
#include <string>
#include <vector>

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>

#include "sanitizer/common/format_result.h"
#include "sanitizer/pdf/font_program.h"

namespace lbg::sanitizer::pdf {

struct ImageOptions {
  // Image XObjects decoded at this many eighths of their size and written as a new JPEG of that
  // size (image-PDF mode only, from image_reduction.h); every other JPEG is transcoded whole.
  std::map<QPDFObjGen, int> reduceToEighths;
  // Threads (the caller's included) that decode and re-encode JPEG images at once. The output is
  // the same for any count: each image's result is placed by the calling thread, in order.
  unsigned threads = 1;
};

// False with *reason ("limit:timeout", "limit:expanded-size", or the font checker's reason) when
// the file must be blocked.
bool rebuildFontsAndImages(QPDF& pdf, const FormatLimits& limits, const FontChecker& checkFonts,
                           const ImageOptions& options, std::vector<RemovedItem>& removed, std::string* reason);

}  // namespace lbg::sanitizer::pdf
