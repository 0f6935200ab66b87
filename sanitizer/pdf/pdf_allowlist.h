#pragma once

// The document catalog, the page tree nodes and the page dictionaries keep only the entries the
// rebuild knows (page tree, geometry, resources, content, annotations, navigation, forms,
// logical structure, optional content, language). Everything else, whatever it is, is dropped
// and reported: private application data (/PieceInfo), thumbnails, XMP metadata, output intents,
// article threads, presentation steps, signature stores, requirements, Web-capture data, ... —
// streams and objects that would otherwise reach the output exactly as they came in.

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>

#include <vector>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::pdf {

// Removes every catalog / page-tree / page entry outside the allow-lists. Kinds reported:
// "catalog-entry" ("catalog /Key"), "page-entry" ("page N /Key", also for an inherited entry on
// a page tree node, located at the node's first page).
void pruneToAllowList(QPDF& pdf, std::vector<RemovedItem>& removed);

}  // namespace lbg::sanitizer::pdf
