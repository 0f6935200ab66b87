#pragma once

// Wires the content-stream filter (content_stream.h) into the PDF rebuild: every page's content
// (all of its /Contents streams, decoded with qpdf under the expanded-bytes limit) and every form
// XObject's, tiling pattern's and Type 3 glyph procedure's content is tokenised and replaced by
// the re-emitted stream, unfiltered. What the filter drops is reported per page / object.

#include <string>
#include <vector>

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::pdf {

// False with *reason ("parse-error", "limit:expanded-size", "limit:timeout") when a content stream
// cannot be decoded or tokenised, or a limit is hit: the file is then blocked.
bool rebuildContentStreams(QPDF& pdf, const FormatLimits& limits, std::vector<RemovedItem>& removed,
                           std::string* reason);

}  // namespace lbg::sanitizer::pdf
