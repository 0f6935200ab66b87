#pragma once

// ZIP archives: every member is handed to the engine's callback (the same sanitizer, one level
// deeper) and a new archive is written from the rebuilt members under their new names. Members
// the engine blocks for their type are left out and named in the result; a member that hits a
// limit (depth, count, ratio, size, time) or is encrypted blocks the whole archive, since the
// user would otherwise receive a silently partial copy of something hostile. This module never
// includes the engine.

#include <string>
#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::archive {

FormatResult sanitizeZip(std::string_view bytes, const FormatLimits& limits, const MemberSanitizer& member);

// Second check: the archive re-opens, no member is encrypted, names are safe and unique.
std::string verifyZip(std::string_view bytes, const FormatLimits& limits);

}  // namespace lbg::sanitizer::archive
