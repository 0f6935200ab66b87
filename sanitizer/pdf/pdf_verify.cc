// The second check on a rebuilt PDF: qpdf re-reads it strictly; every stream must be of a kind the
// rebuild writes (checked here on its own terms); then the same disarm pass, the catalog/page
// allow-lists, the dictionary schemas (pdf_schema.h) and the content-stream filter run on it and
// must find nothing to remove.

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>

#include <set>

#include "sanitizer/pdf/pdf_allowlist.h"
#include "sanitizer/pdf/pdf_content.h"
#include "sanitizer/pdf/pdf_rules.h"
#include "sanitizer/pdf/pdf_sanitizer.h"
#include "sanitizer/pdf/pdf_schema.h"

namespace lbg::sanitizer::pdf {
namespace {

bool isName(QPDFObjectHandle h, const char* name) { return h.isName() && h.getName() == name; }

// Independent of the rebuild's schemas: every stream of the output must be one the rebuild writes,
// known either by its own dictionary (form, image, tiling pattern, mesh shading, sampled function)
// or by where it hangs (page content, font program, ToUnicode, CIDToGIDMap, CIDSet, Type 3 glyph).
// Anything else (metadata, ICC profiles, embedded files, PostScript, calculator functions, CMaps
// used as encodings, private data) fails the file. "" or the finding.
std::string unexpectedStream(QPDF& pdf) {
  std::set<QPDFObjGen> placed;
  auto place = [&placed](QPDFObjectHandle h) {
    if (h.isStream()) placed.insert(h.getObjGen());
  };
  for (QPDFObjectHandle page : pdf.getAllPages()) {
    QPDFObjectHandle contents = page.getKey("/Contents");
    place(contents);
    if (contents.isArray()) {
      for (int i = 0; i < contents.getArrayNItems(); ++i) place(contents.getArrayItem(i));
    }
  }
  for (QPDFObjectHandle object : pdf.getAllObjects()) {
    if (!object.isDictionary()) continue;
    if (isName(object.getKey("/Type"), "/FontDescriptor")) {
      for (const char* key : {"/FontFile", "/FontFile2", "/FontFile3", "/CIDSet"}) place(object.getKey(key));
    }
    if (isName(object.getKey("/Type"), "/Font")) {
      place(object.getKey("/ToUnicode"));
      place(object.getKey("/CIDToGIDMap"));
      QPDFObjectHandle procs = object.getKey("/CharProcs");
      if (procs.isDictionary() && isName(object.getKey("/Subtype"), "/Type3")) {
        for (const std::string& key : procs.getKeys()) place(procs.getKey(key));
      }
    }
  }
  for (QPDFObjectHandle object : pdf.getAllObjects()) {
    if (!object.isStream() || placed.count(object.getObjGen())) continue;
    QPDFObjectHandle dict = object.getDict();
    QPDFObjectHandle pattern = dict.getKey("/PatternType"), shading = dict.getKey("/ShadingType");
    QPDFObjectHandle function = dict.getKey("/FunctionType");
    if (isName(dict.getKey("/Subtype"), "/Form") || isName(dict.getKey("/Subtype"), "/Image")) continue;
    // The file's own structure, written by qpdf: object streams and the cross-reference stream.
    if (isName(dict.getKey("/Type"), "/ObjStm") || isName(dict.getKey("/Type"), "/XRef")) continue;
    if (pattern.isInteger() && pattern.getIntValue() == 1) continue;
    if (shading.isInteger() && shading.getIntValue() >= 4 && shading.getIntValue() <= 7) continue;
    if (function.isInteger() && function.getIntValue() == 0) continue;
    return "verify:stream";
  }
  return "";
}

}  // namespace

std::string verify(std::string_view bytes, const FormatLimits& limits, uint32_t* pages) {
  try {
    QPDF pdf;
    pdf.setSuppressWarnings(true);
    pdf.setAttemptRecovery(false);
    pdf.processMemoryFile("output.pdf", bytes.data(), bytes.size());
    if (pdf.isEncrypted()) return "verify:encrypted";
    if (pdf.getRoot().getKey("/Pages").isNull()) return "verify:no-pages";
    std::string stream = unexpectedStream(pdf);
    if (!stream.empty()) return stream;
    std::vector<RemovedItem> findings;
    if (!disarm(pdf, limits, findings)) return "limit:timeout";
    if (!findings.empty()) return "verify:" + findings.front().kind;
    pruneToAllowList(pdf, findings);
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
