#pragma once

// LZH (LHA) archives, still common in Japanese offices: read with lhasa (liblhasa), every member
// through the engine's callback like a ZIP member, and the result written as a new **ZIP** archive.
// We never write LZH: no maintained LZH writer exists in Debian (lha is non-free), every current
// OS opens ZIP without extra software, and one output format means one second check (verifyZip).
// Member names in Shift_JIS (CP932, what Japanese LHA tools write) become UTF-8.
//
// Same budget as ZIP: archive depth (checked by the engine), member count, per-member compression
// ratio, expanded bytes and the deadline. LZH has no standard encryption: any method outside the
// allow-list (-lh0- stored, -lh1-, -lh4- to -lh7-, -lz4-, -lz5-, -lzs-) blocks the archive, as do
// a bad header, a CRC mismatch, a size lie, trailing bytes and an unsafe path.

#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::archive {

FormatResult sanitizeLzh(std::string_view bytes, const FormatLimits& limits, const MemberSanitizer& member);

}  // namespace lbg::sanitizer::archive
