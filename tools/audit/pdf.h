#pragma once

#include <string>

#include "policy/base/result.h"

namespace lbg::audit {

// Prints an HTML file to PDF with headless Chromium (Debian's `chromium`), offline: no network,
// no first-run, a throw-away profile. Waits up to timeoutSeconds.
Result<Ok> printPdf(const std::string& htmlPath, const std::string& pdfPath,
                    const std::string& chromium = "chromium", int timeoutSeconds = 120);

}  // namespace lbg::audit
