#pragma once

// What counts as active in a PDF: shared by the rebuild and the second check so that both apply
// the same definition (the second check re-reads the output as untrusted input).

#include <string>
#include <vector>

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::pdf {

// Walks every object of `pdf` (indirect objects and the direct objects inside them) and removes
// active constructs. Returns false when the deadline passes. Each removal is recorded.
bool disarm(QPDF& pdf, const FormatLimits& limits, std::vector<RemovedItem>& removed);

}  // namespace lbg::sanitizer::pdf
