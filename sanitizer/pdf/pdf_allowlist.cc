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

// Intermediate nodes are reached from the catalog down through /Kids, the way qpdf built the page
// list, never up through /Parent: a page's /Parent is the file's claim, and may name the catalog or
// another page. Each node's /Parent is rewritten to the node that really lists it, so every reader
// inherits the same attributes from the same nodes.
void pruneTree(QPDFObjectHandle node, QPDFObjectHandle parent, int depth, std::set<QPDFObjGen>& seen,
               std::vector<RemovedItem>& removed) {
  if (!node.isDictionary() || depth > 256) return;
  if (node.isIndirect() && !seen.insert(node.getObjGen()).second) return;
  QPDFObjectHandle kids = node.getKey("/Kids");
  if (!kids.isArray()) return;  // a page: pruned with the page allow-list
  prune(node, pageTreeKeys(), "page-entry", "page tree", removed);
  if (parent.isNull()) {
    node.removeKey("/Parent");
  } else {
    node.replaceKey("/Parent", parent);
  }
  for (QPDFObjectHandle kid : kids.getArrayAsVector()) {
    if (!kid.isDictionary()) continue;
    if (kid.getKey("/Kids").isArray()) {
      pruneTree(kid, node, depth + 1, seen, removed);
    } else {
      kid.replaceKey("/Parent", node);
    }
  }
}

}  // namespace

void pruneToAllowList(QPDF& pdf, std::vector<RemovedItem>& removed) {
  prune(pdf.getRoot(), catalogKeys(), "catalog-entry", "catalog", removed);
  size_t number = 0;
  for (QPDFObjectHandle page : pdf.getAllPages()) {
    ++number;
    prune(page, pageKeys(), "page-entry", "page " + std::to_string(number), removed);
  }
  std::set<QPDFObjGen> seen;
  pruneTree(pdf.getRoot().getKey("/Pages"), QPDFObjectHandle::newNull(), 0, seen, removed);
}

}  // namespace lbg::sanitizer::pdf
