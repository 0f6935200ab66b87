// The second check on a rebuilt PDF: qpdf re-reads it strictly, then the same disarm pass and the
// dictionary schemas (pdf_schema.h) and the content-stream filter run on it and must find nothing
// to remove.

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>

#include "sanitizer/pdf/pdf_content.h"
#include "sanitizer/pdf/pdf_rules.h"
#include "sanitizer/pdf/pdf_sanitizer.h"
#include "sanitizer/pdf/pdf_schema.h"

namespace lbg::sanitizer::pdf {

std::string verify(std::string_view bytes, const FormatLimits& limits, uint32_t* pages) {
  try {
    QPDF pdf;
    pdf.setSuppressWarnings(true);
    pdf.setAttemptRecovery(false);
    pdf.processMemoryFile("output.pdf", bytes.data(), bytes.size());
    if (pdf.isEncrypted()) return "verify:encrypted";
    if (pdf.getRoot().getKey("/Pages").isNull()) return "verify:no-pages";
    std::vector<RemovedItem> findings;
    if (!disarm(pdf, limits, findings)) return "limit:timeout";
    if (!findings.empty()) return "verify:" + findings.front().kind;
    std::string reason;
    if (!rebuildDictionaries(pdf, limits, findings, &reason)) return reason;
    if (!findings.empty()) return "verify:" + findings.front().kind;
    if (!rebuildContentStreams(pdf, limits, findings, &reason)) return "verify:content-" + reason;
    if (!findings.empty()) return "verify:" + findings.front().kind;
    if (pages != nullptr) *pages = static_cast<uint32_t>(pdf.getAllPages().size());
    if (pdf.anyWarnings()) return "verify:qpdf-warnings";
  } catch (std::exception const&) {
    return "verify:parse-error";
  }
  return "";
}

}  // namespace lbg::sanitizer::pdf
