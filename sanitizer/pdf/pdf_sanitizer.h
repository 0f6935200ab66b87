#pragma once

// PDF rebuild with qpdf: the document is parsed strictly (no xref recovery), every object is
// walked and active constructs are removed (JavaScript, automatic and launch-type actions, forms
// submission, multimedia, 3D, attachments, XFA), and a fresh file is written from the objects
// still reachable from the catalog, which also drops earlier revisions and trailing bytes.

#include <cstdint>
#include <string>
#include <string_view>

#include "sanitizer/common/format_result.h"
#include "sanitizer/pdf/font_program.h"

namespace lbg::sanitizer::pdf {

struct RebuildOptions {
  // Image-PDF mode: the resolution the rebuilt PDF will be rendered at. Photographs drawn so small
  // that this resolution needs at most three quarters of each side are written at that size
  // (image_reduction.h); 0 (rebuild mode) keeps every image at its full size.
  double renderDpi = 0;
  // Threads (the caller's included) that decode and re-encode the images of this one file.
  unsigned imageThreads = 1;
};

// Embedded font programs go to `checkFonts` (the engine passes the sandboxed FreeType check;
// empty: FreeType in this process).
FormatResult sanitize(std::string_view bytes, const FormatLimits& limits, const FontChecker& checkFonts = {},
                      const RebuildOptions& options = {});

// Second check: re-open the rebuilt file with qpdf and scan every object for the removed
// constructs. "" when clean, else "verify:<kind>". `pages`, when given, receives the page count of
// the page tree (for the independent check, render/poppler_check.h, to compare with).
std::string verify(std::string_view bytes, const FormatLimits& limits, uint32_t* pages = nullptr);

// UTF-8 text of every page (poppler), pages separated by form feeds.
bool extractText(std::string_view bytes, std::string* text, std::string* reason);

}  // namespace lbg::sanitizer::pdf
