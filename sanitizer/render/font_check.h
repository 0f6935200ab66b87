#pragma once

// The PDF rebuild's font check (pdf/font_program.h) run where a crafted font can do no harm: in a
// render-pool worker (or a child forked for it), under the render sandbox. One trip per document:
// all its font programs travel as one batch, one verdict byte comes back per program.

#include <string>
#include <vector>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::render {

class RenderPool;

// The pdf::FontChecker contract: one verdict per program in *keep; false + reason when the
// sandbox failed (the document is then blocked, never passed unchecked).
bool checkFontPrograms(const std::vector<std::string>& programs, const FormatLimits& limits, RenderPool* pool,
                       std::vector<bool>* keep, std::string* reason);

}  // namespace lbg::sanitizer::render
