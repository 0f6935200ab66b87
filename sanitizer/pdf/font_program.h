#pragma once

// Embedded font programs (FontFile, FontFile2, FontFile3) are kept only when FreeType parses them:
// the face loads and every glyph's outline decodes. Font parsers are a classic exploit path in
// readers (CFF and TrueType charstrings, hinting bytecode), so this runs in the render sandbox
// (render/font_check.h); the function itself is plain so the fuzz target and tests can call it.

#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::pdf {

// Caps the glyphs walked per face: a CJK font has ~20 000, and the deadline still applies.
constexpr long kMaxCheckedGlyphs = 65535;

// True when FreeType opens `program` as exactly one face with at least one glyph and loads every
// glyph outline (unscaled, unhinted) without an error.
bool fontProgramLoads(std::string_view program, const FormatLimits& limits);

}  // namespace lbg::sanitizer::pdf

#include <string>
#include <functional>
#include <vector>

namespace lbg::sanitizer::pdf {

// Checks a batch of font programs, one verdict per program (true: keep). False + reason when the
// check itself could not run (sandbox failure, timeout): the file is then blocked. An empty
// checker means fontProgramLoads() in this process (tests, fuzzing).
using FontChecker =
    std::function<bool(const std::vector<std::string>& programs, std::vector<bool>* keep, std::string* reason)>;

}  // namespace lbg::sanitizer::pdf
