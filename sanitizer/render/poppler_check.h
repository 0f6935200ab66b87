#pragma once

// The PDF's independent second check: the rebuilt output is read back by poppler (a different
// parser from qpdf, which wrote it) inside the render sandbox, and must (a) open without a
// password, (b) have the page count qpdf wrote, (c) show poppler no active content (document
// JavaScript, embedded files, link or form actions other than in-document navigation, media,
// sound, 3D or file-attachment annotations) on any page, and (d) render its first two pages (at
// 18 dpi, through cairo on the same parse). A document that qpdf and
// poppler read differently is exactly the parser-differential a CDR must not pass.

#include <cstdint>
#include <string>
#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::render {

class RenderPool;

// "" when poppler agrees, else "verify:poppler-<kind>" (or a sandbox reason such as
// "limit:timeout"). `expectedPages` is the page count of qpdf's page tree. With a pool the check
// runs in a pre-forked worker, else in a child forked for it.
std::string popplerCheck(std::string_view pdf, uint32_t expectedPages, const FormatLimits& limits,
                         RenderPool* pool = nullptr);

}  // namespace lbg::sanitizer::render
