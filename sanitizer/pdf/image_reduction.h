#pragma once

// Image-PDF mode only: which photographs of the (already content-filtered) rebuilt PDF are drawn
// so much smaller than their pixel size that the 150 dpi render cannot show the difference, and
// to how many eighths of their size the rebuild may decode them (libjpeg's scaled inverse DCT,
// image_codec.h decodeJpegReduced). The intermediate PDF goes only to the sandboxed renderer,
// which would otherwise decode every photograph whole and have cairo/pixman draw it down: in the
// profile that was the largest single cost of an image-PDF page.
//
// The drawn size comes from the current transformation matrix at each `Do`, followed through
// `q`/`Q`/`cm` of every page's content and into the form XObjects it draws (form /Matrix
// applied). An image keeps its full size unless every use of it is known: one reachable from
// anywhere else (an annotation's appearance, a pattern, a Type 3 glyph, a soft mask group, a form
// that is not drawn from a page), one with or serving as a mask, and every image of a document
// whose walk hits a limit (depth, tokens, deadline) or does not tokenise are left alone. So this
// only ever costs sharpness that the render at `dpi` would not have kept.

#include <cstdint>
#include <map>

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::pdf {

// Eighths (1..8) of a `width` x `height` image that still give at least `dpi` pixels per inch
// where it is drawn `drawnWidthPt` x `drawnHeightPt` points large (the lengths of the image's
// two edges on the page). 8, i.e. no reduction, when it would save less than a quarter of each
// side (kept: the coefficient transcode is cheaper than a pixel round trip for so little), or when
// any input is not a finite positive number.
int reductionEighths(uint32_t width, uint32_t height, double drawnWidthPt, double drawnHeightPt, double dpi);

// Image XObjects (by object) that may be decoded at fewer than 8 eighths, with those eighths.
// Empty when nothing qualifies or the walk gave up.
std::map<QPDFObjGen, int> reducibleImages(QPDF& pdf, double dpi, const FormatLimits& limits);

}  // namespace lbg::sanitizer::pdf
