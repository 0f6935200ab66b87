#pragma once

// Legacy binary Office (doc, xls, ppt and their templates) and RTF are never patched in place: they
// are converted to OOXML by LibreOffice running headless in the exec sandbox (render/exec_sandbox.h:
// own user+network namespace, seccomp, rlimits, deadline, process group killed at the end), with
// a fresh profile per conversion in which macro execution is disabled and links are never updated.
// The OOXML that comes out is then untrusted input to the ordinary OOXML rebuild, which is the real
// guarantee that no macro, OLE object, DDE field or external link survives.

#include <string>
#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::convert {

// soffice.bin of an installed LibreOffice, or "" when there is none.
std::string findLibreOffice();

// doc/rtf -> docx, xls -> xlsx, ppt -> pptx. Fails with "conversion-failed" (LibreOffice could not
// read it: damaged or password-protected), "limit:timeout", "internal:convert".
FormatResult legacyToOoxml(std::string_view bytes, const std::string& type, const std::string& soffice,
                           const FormatLimits& limits);

// Image-PDF of an Office document: the rebuilt (macro-free) package of `type` (docx, xlsx, pptx and
// their templates/shows) printed to PDF by LibreOffice in the same sandbox. The PDF is untrusted
// input to the PDF rebuild and the renderer like any other. Fails as legacyToOoxml does.
FormatResult officeToPdf(std::string_view bytes, const std::string& type, const std::string& soffice,
                         const FormatLimits& limits);

}  // namespace lbg::sanitizer::convert
