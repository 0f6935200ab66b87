#include "sanitizer/pdf/pdf_allowlist.h"

#include <qpdf/QPDFObjectHandle.hh>

#include <set>
#include <string>

namespace lbg::sanitizer::pdf {
namespace {

// /Names keeps only destinations after disarm() (scripts, files, renditions gone); /AcroForm is
// what the content and annotation passes already handle (XFA removed); /OpenAction is a plain
// destination by then.
const std::set<std::string>& catalogKeys() {
  static const std::set<std::string> kKeys = {
      "/Type",     "/Version",  "/Pages",          "/PageLabels", "/Names",         "/Dests",
      "/ViewerPreferences",     "/PageLayout",     "/PageMode",   "/Outlines",      "/OpenAction",
      "/AcroForm", "/Lang",     "/MarkInfo",       "/StructTreeRoot", "/OCProperties"};
  return kKeys;
}

const std::set<std::string>& pageKeys() {
  static const std::set<std::string> kKeys = {
      "/Type",   "/Parent",   "/Resources", "/MediaBox", "/CropBox",   "/BleedBox", "/TrimBox",
      "/ArtBox", "/Rotate",   "/Contents",  "/Annots",   "/Group",     "/UserUnit", "/StructParents",
      "/Tabs"};
  return kKeys;
}

// Intermediate nodes: the tree itself and the inheritable attributes.
const std::set<std::string>& pageTreeKeys() {
  static const std::set<std::string> kKeys = {"/Type",     "/Parent",  "/Kids",  "/Count",
                                              "/Resources", "/MediaBox", "/CropBox", "/Rotate"};
  return kKeys;
}

void prune(QPDFObjectHandle dict, const std::set<std::string>& allowed, const char* kind, const std::string& where,
           std::vector<RemovedItem>& removed) {
  if (!dict.isDictionary()) return;
  for (const std::string& key : dict.getKeys()) {
    if (allowed.count(key)) continue;
    dict.removeKey(key);
    addRemoved(removed, kind, where + " " + key);
  }
}

}  // namespace

void pruneToAllowList(QPDF& pdf, std::vector<RemovedItem>& removed) {
  prune(pdf.getRoot(), catalogKeys(), "catalog-entry", "catalog", removed);
  std::set<QPDFObjGen> nodes;  // page tree nodes already pruned
  size_t number = 0;
  for (QPDFObjectHandle page : pdf.getAllPages()) {
    ++number;
    std::string where = "page " + std::to_string(number);
    prune(page, pageKeys(), "page-entry", where, removed);
    // Up the tree; the walk is bounded by the depth qpdf accepted when it built the page list,
    // and each node is pruned once.
    QPDFObjectHandle node = page.getKey("/Parent");
    for (int depth = 0; node.isDictionary() && depth < 256; ++depth) {
      if (node.isIndirect() && !nodes.insert(node.getObjGen()).second) break;
      prune(node, pageTreeKeys(), "page-entry", where, removed);
      node = node.getKey("/Parent");
    }
  }
}

}  // namespace lbg::sanitizer::pdf
