#pragma once

// Schema-driven rebuild of the dictionaries the allow-list pass (pdf_allowlist.h) leaves alone:
// annotations (by subtype) with their appearance dictionaries, border styles and appearance
// characteristics, actions (GoTo and Named only), destinations, outline items, font dictionaries
// (per subtype), font descriptors, encoding dictionaries, CID system info, ToUnicode CMaps,
// AcroForm and field dictionaries, the /Dests name tree and catalog /Dests, optional-content
// properties, configurations, groups and membership dictionaries, the structure tree (root,
// elements, marked-content and object references, parent tree), form XObject dictionaries, page
// labels, viewer preferences, mark info, the document information dictionary, the trailer, page
// geometry, and resource dictionaries (fonts, XObjects, graphics states, colour spaces with ICC
// profiles replaced by device spaces, patterns, shadings, functions; type 4 calculator functions
// refused; sampled function and mesh shading data rewritten from its decoded bytes).
//
// Each kind is a table of allowed keys with the value type expected there (number, name, string,
// boolean, arrays of those, a rectangle, a destination, or a reference to an object of another
// kind, itself rebuilt under its own table). Every kept value is a fresh object made from what
// was read; a key that is not in the table or holds a value of another type is dropped, and an
// object whose kind or subtype is not allowed is dropped with the reference to it. Unknown nested
// dictionaries therefore never pass through. Streams found on the way are either rebuilt here
// (ToUnicode CMaps re-emitted from their parsed mappings, CIDToGIDMap / CIDSet rewritten from
// their decoded bytes) or left to the passes that rebuild them (form XObject content:
// pdf_content.h; font programs: pdf_resources.h).
//
// The walk is iterative (a work list, not recursion): outline chains and structure trees can be
// deep. The second check (pdf_verify.cc) runs the same walk on the output and fails on any finding.

#include <string>
#include <vector>

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::pdf {

// Rebuilds every dictionary reachable from the catalog's /Outlines, /Names, /Dests, /AcroForm,
// /StructTreeRoot, /OCProperties, /OpenAction, /PageLabels, /ViewerPreferences and /MarkInfo, the
// trailer's /Info, each page's /Annots and /Group, every /Resources dictionary and every form
// XObject. Reported kinds: "<kind>-entry"
// ("obj N /Key", or the path through direct dictionaries) for a dropped key, "<kind>" for a
// dropped object ("annotation", "action", "font", ...; location "obj N (/Subtype)"), "tounicode"
// for a CMap that does not parse. False with *reason ("limit:timeout", "limit:expanded-size") when
// the file must be blocked.
bool rebuildDictionaries(QPDF& pdf, const FormatLimits& limits, std::vector<RemovedItem>& removed,
                         std::string* reason);

}  // namespace lbg::sanitizer::pdf
