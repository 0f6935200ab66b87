#include "sanitizer/pdf/pdf_sanitizer.h"

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFWriter.hh>

#include <limits>
#include <memory>

#include "sanitizer/pdf/capped_sink.h"
#include "sanitizer/pdf/image_reduction.h"
#include "sanitizer/pdf/pdf_allowlist.h"
#include "sanitizer/pdf/pdf_content.h"
#include "sanitizer/pdf/pdf_resources.h"
#include "sanitizer/pdf/pdf_rules.h"
#include "sanitizer/pdf/pdf_schema.h"

namespace lbg::sanitizer::pdf {
namespace {

// Object counts beyond this are a resource attack, not a document.
constexpr size_t kMaxObjects = 2'000'000;

// Opens strictly: no xref reconstruction. A damaged file is blocked rather than guessed at,
// because recovery is exactly where readers disagree about what a file contains.
bool openStrict(QPDF& pdf, std::string_view bytes, std::string* reason) {
  pdf.setSuppressWarnings(true);
  pdf.setAttemptRecovery(false);
  try {
    pdf.processMemoryFile("input.pdf", bytes.data(), bytes.size());
  } catch (QPDFExc const& e) {
    // A security handler qpdf does not support (certificates, /Adobe.PubSec, unknown /R or /V) is
    // still a password-protected file: reported as such, not as damaged.
    std::string what = e.what();
    bool encrypted = e.getErrorCode() == qpdf_e_password || what.find("encryption") != std::string::npos;
    *reason = encrypted ? "encrypted" : "parse-error";
    return false;
  }
  if (pdf.getObjectCount() > kMaxObjects) {
    *reason = "limit:pdf-objects";
    return false;
  }
  // A file without a page tree has nothing to rebuild; writing it out would produce a "PDF" that
  // the second check (and any reader) rejects, so it is refused here, before any work. So is a
  // root node without /Kids (found by pdf_fuzz: a root whose /Kids was renamed kept its pages
  // reachable for the rebuild's walk but not for a reader's, and the output failed verify:stream).
  QPDFObjectHandle root = pdf.getRoot().getKey("/Pages");
  if (!root.isDictionary() || !root.getKey("/Kids").isArray()) {
    *reason = "no-pages";
    return false;
  }
  return true;
}

}  // namespace

FormatResult sanitize(std::string_view bytes, const FormatLimits& limits, const FontChecker& checkFonts,
                      const RebuildOptions& options) {
  FormatResult result;
  try {
    QPDF pdf;
    std::string reason;
    if (!openStrict(pdf, bytes, &reason)) return FormatResult::fail(reason);
    if (pdf.isEncrypted()) addRemoved(result.removed, "encryption", "trailer");  // owner password only
    if (!disarm(pdf, limits, result.removed)) return FormatResult::fail("limit:timeout");
    // Catalog, page tree and pages: only the entries on the allow-lists stay.
    pruneToAllowList(pdf, result.removed);
    // The dictionaries they lead to (annotations, outlines, fonts, forms, structure, optional
    // content, destinations): rebuilt from per-kind schemas.
    if (!rebuildDictionaries(pdf, limits, result.removed, &reason)) return FormatResult::fail(reason);
    // Page and form content is re-emitted from its tokens with allowed operators only.
    if (!rebuildContentStreams(pdf, limits, result.removed, &reason)) return FormatResult::fail(reason);
    // Font programs checked by FreeType and images decoded and re-encoded, or replaced; in
    // image-PDF mode photographs drawn far smaller than their size are written at that size.
    ImageOptions images;
    images.threads = options.imageThreads;
    if (options.renderDpi > 0) images.reduceToEighths = reducibleImages(pdf, options.renderDpi, limits);
    if (!rebuildFontsAndImages(pdf, limits, checkFonts, images, result.removed, &reason)) return FormatResult::fail(reason);
    QPDFWriter writer(pdf);
    // The output is about the input's size (images are transcoded, fonts and content re-deflated).
    result.output.reserve(bytes.size() + bytes.size() / 2 + 65536);
    CappedSink sink(&result.output, std::numeric_limits<uint64_t>::max());
    writer.setOutputPipeline(&sink);
    writer.setPreserveEncryption(false);
    writer.setLinearization(false);
    // Every stream was rebuilt above (content, glyphs and patterns re-emitted, CMaps, sampled
    // functions and mesh shadings rewritten from their decoded bytes, fonts and images compressed by
    // us): nothing is re-encoded on the way out.
    writer.setCompressStreams(false);
    writer.setDecodeLevel(qpdf_dl_none);
    writer.setDeterministicID(true);
    writer.write();
    // qpdf reads a damaged object as null with a warning instead of failing; the rebuilt file would
    // then differ from what another reader makes of the input. Damage anywhere blocks the file, as
    // the strict open does for a damaged cross-reference table.
    if (pdf.anyWarnings()) return FormatResult::fail("parse-error");
  } catch (std::exception const&) {
    return FormatResult::fail("parse-error");
  }
  result.ok = true;
  result.outputType = "pdf";
  return result;
}

}  // namespace lbg::sanitizer::pdf
