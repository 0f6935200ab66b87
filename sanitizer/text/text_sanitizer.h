#pragma once

// Plain text and CSV. Text is already known to be valid UTF-8 without control characters (type
// detection refuses anything else). CSV cells that a spreadsheet would evaluate as a formula
// (starting with = + - @, or a tab / CR before one) are neutralised with a leading apostrophe,
// the OWASP recommendation, instead of blocking the file: the data stays usable. Plain numbers
// such as -5 or +81 are left alone.

#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::text {

FormatResult sanitize(std::string_view input, const std::string& type);

}  // namespace lbg::sanitizer::text
