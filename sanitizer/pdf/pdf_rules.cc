#include "sanitizer/pdf/pdf_rules.h"

#include <set>
#include <string_view>

namespace lbg::sanitizer::pdf {
namespace {

// Actions that reach outside the document, run code or play media. GoTo (within the document),
// Named (next page, print dialog), Hide, SetOCGState, ResetForm and Thread stay.
const std::set<std::string>& dangerousActions() {
  static const std::set<std::string> kActions = {
      "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/GoTo3DView",
      "/Rendition", "/RichMediaExecute", "/Movie", "/Sound", "/URI", "/ECMAScript"};
  return kActions;
}

const std::set<std::string>& dangerousAnnotations() {
  static const std::set<std::string> kAnnots = {"/FileAttachment", "/RichMedia", "/Movie",
                                                "/Sound", "/Screen", "/3D"};
  return kAnnots;
}

std::string kindForAction(const std::string& s) {
  if (s == "/JavaScript" || s == "/ECMAScript") return "javascript";
  if (s == "/Launch") return "launch-action";
  if (s == "/SubmitForm") return "submit-form";
  if (s == "/ImportData") return "import-data";
  if (s == "/GoToR" || s == "/GoToE") return "remote-goto";
  if (s == "/URI") return "uri-action";
  return "multimedia-action";
}

std::string locationOf(QPDFObjectHandle const& owner) {
  if (owner.isIndirect()) return "obj " + std::to_string(owner.getObjectID());
  return "direct object";
}

// An action dictionary that must go (or a chain whose /Next does).
bool isDangerousAction(QPDFObjectHandle action, std::string* kind) {
  if (!action.isDictionary()) return false;
  // /S also names structure types and transition styles: only action dictionaries count.
  QPDFObjectHandle type = action.getKey("/Type");
  if (!type.isNull() && !(type.isName() && type.getName() == "/Action")) return false;
  if (action.hasKey("/K") && action.hasKey("/P")) return false;  // a structure element
  QPDFObjectHandle s = action.getKey("/S");
  if (s.isName() && dangerousActions().count(s.getName())) {
    *kind = kindForAction(s.getName());
    return true;
  }
  if (action.hasKey("/JS")) {
    *kind = "javascript";
    return true;
  }
  return false;
}

// OpenAction may stay only as a plain destination (array) or a GoTo action: it runs on open.
bool openActionIsPlain(QPDFObjectHandle value) {
  if (value.isArray()) return true;
  if (!value.isDictionary()) return false;
  QPDFObjectHandle s = value.getKey("/S");
  return s.isName() && s.getName() == "/GoTo" && !value.hasKey("/Next");
}

void disarmDictionary(QPDFObjectHandle dict, QPDFObjectHandle const& owner,
                      std::vector<RemovedItem>& removed) {
  const std::string loc = locationOf(owner);
  // Keys that are active wherever they appear.
  static const std::vector<std::pair<const char*, const char*>> kAlways = {
      {"/JS", "javascript"},           {"/JavaScript", "javascript"},
      {"/AA", "additional-actions"},   {"/XFA", "xfa"},
      {"/EmbeddedFiles", "embedded-file"}, {"/AF", "associated-file"},
      {"/EF", "embedded-file"},        {"/RF", "embedded-file"},
      {"/RichMediaContent", "richmedia"}, {"/RichMediaSettings", "richmedia"},
      {"/Collection", "portfolio"},    {"/AlternatePresentations", "alternate-presentation"},
      {"/3DD", "3d"}};
  for (auto [key, kind] : kAlways) {
    if (dict.hasKey(key)) {
      dict.removeKey(key);
      addRemoved(removed, kind, loc);
    }
  }
  if (dict.hasKey("/OpenAction") && !openActionIsPlain(dict.getKey("/OpenAction"))) {
    dict.removeKey("/OpenAction");
    addRemoved(removed, "open-action", loc);
  }
  for (const char* key : {"/A", "/Next", "/PA"}) {
    if (!dict.hasKey(key)) continue;
    QPDFObjectHandle value = dict.getKey(key);
    std::string kind;
    bool drop = isDangerousAction(value, &kind);
    if (!drop && value.isArray()) {
      for (int i = 0; i < value.getArrayNItems() && !drop; ++i) drop = isDangerousAction(value.getArrayItem(i), &kind);
    }
    if (drop) {
      dict.removeKey(key);
      addRemoved(removed, kind, loc);
    }
  }
  // The action dictionary itself: made inert in place, whoever else points at it.
  std::string kind;
  if (isDangerousAction(dict, &kind)) {
    for (const auto& key : dict.getKeys()) dict.removeKey(key);
    dict.replaceKey("/S", QPDFObjectHandle::newName("/GoTo"));
    dict.replaceKey("/D", QPDFObjectHandle::newArray());
    addRemoved(removed, kind, loc);
  }
  // Annotation arrays: drop annotations that carry files, media or 3D.
  if (dict.hasKey("/Annots")) {
    QPDFObjectHandle annots = dict.getKey("/Annots");
    if (annots.isArray()) {
      for (int i = annots.getArrayNItems() - 1; i >= 0; --i) {
        QPDFObjectHandle annot = annots.getArrayItem(i);
        QPDFObjectHandle subtype = annot.isDictionary() ? annot.getKey("/Subtype") : QPDFObjectHandle::newNull();
        if (subtype.isName() && dangerousAnnotations().count(subtype.getName())) {
          annots.eraseItem(i);
          addRemoved(removed, subtype.getName() == "/FileAttachment" ? "file-attachment" : "multimedia-annotation", loc);
        }
      }
    }
  }
  // Annotations themselves (also those reachable other than from /Annots) lose their payload.
  QPDFObjectHandle subtype = dict.getKey("/Subtype");
  if (subtype.isName() && dangerousAnnotations().count(subtype.getName()) && dict.hasKey("/FS")) {
    dict.removeKey("/FS");
    addRemoved(removed, "file-attachment", loc);
  }
}

}  // namespace

bool disarm(QPDF& pdf, const FormatLimits& limits, std::vector<RemovedItem>& removed) {
  // Names tree entries for scripts and files at the catalog, then everything else.
  QPDFObjectHandle root = pdf.getRoot();
  QPDFObjectHandle names = root.getKey("/Names");
  if (names.isDictionary()) {
    for (const char* key : {"/JavaScript", "/EmbeddedFiles", "/AlternatePresentations", "/Renditions"}) {
      if (names.hasKey(key)) {
        names.removeKey(key);
        addRemoved(removed, std::string(key) == "/JavaScript" ? "javascript" : std::string(key) == "/EmbeddedFiles" ? "embedded-file" : "multimedia", "catalog /Names");
      }
    }
  }
  QPDFObjectHandle acroForm = root.getKey("/AcroForm");
  if (acroForm.isDictionary() && acroForm.hasKey("/XFA")) {
    acroForm.removeKey("/XFA");
    addRemoved(removed, "xfa", "catalog /AcroForm");
  }
  // A dynamic XFA form asks the reader to build the pages from the (now removed) XFA: without it
  // the static pages are what is shown, so the flag goes with the form, and is reported even when
  // the XFA itself was hidden elsewhere.
  if (root.hasKey("/NeedsRendering")) {
    root.removeKey("/NeedsRendering");
    addRemoved(removed, "xfa", "catalog /NeedsRendering");
  }
  size_t n = 0;
  for (QPDFObjectHandle object : pdf.getAllObjects()) {
    if ((++n & 1023) == 0 && limits.expired()) return false;
    // Iterative walk over this object and its direct children; indirect children are visited as
    // objects of their own.
    std::vector<QPDFObjectHandle> stack{object};
    size_t steps = 0;
    while (!stack.empty()) {
      if ((++steps & 4095) == 0 && limits.expired()) return false;
      QPDFObjectHandle h = stack.back();
      stack.pop_back();
      QPDFObjectHandle dict = h.isStream() ? h.getDict() : h;
      if (dict.isDictionary()) {
        disarmDictionary(dict, object, removed);
        for (const auto& key : dict.getKeys()) {
          QPDFObjectHandle child = dict.getKey(key);
          if (!child.isIndirect() && (child.isDictionary() || child.isArray())) stack.push_back(child);
        }
      } else if (h.isArray()) {
        for (int i = 0; i < h.getArrayNItems(); ++i) {
          QPDFObjectHandle child = h.getArrayItem(i);
          if (!child.isIndirect() && (child.isDictionary() || child.isArray())) stack.push_back(child);
        }
      }
    }
  }
  return true;
}

}  // namespace lbg::sanitizer::pdf
