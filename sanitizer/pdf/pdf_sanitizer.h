#pragma once

// PDF rebuild with qpdf: the document is parsed strictly (no xref recovery), every object is
// walked and active constructs are removed (JavaScript, automatic and launch-type actions, forms
// submission, multimedia, 3D, attachments, XFA), and a fresh file is written from the objects
// still reachable from the catalog, which also drops earlier revisions and trailing bytes.

#include <string>
#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::pdf {

FormatResult sanitize(std::string_view bytes, const FormatLimits& limits);

// Second check: re-open the rebuilt file with qpdf and scan every object for the removed
// constructs. "" when clean, else "verify:<kind>".
std::string verify(std::string_view bytes, const FormatLimits& limits);

// UTF-8 text of every page (poppler), pages separated by form feeds.
bool extractText(std::string_view bytes, std::string* text, std::string* reason);

}  // namespace lbg::sanitizer::pdf
