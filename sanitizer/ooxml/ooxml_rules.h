#pragma once

// The allow-lists that decide what an OOXML package may keep. A part survives only if it is
// reached from the package root through relationships whose type is allowed, its target is inside
// the package, and its content type is allowed for the part. Everything else is dropped and named.

#include <string>
#include <string_view>

namespace lbg::sanitizer::ooxml {

// The package type from [Content_Types].xml: "docx", "docm", "dotx", "dotm", "xlsx", "xlsm",
// "xltx", "xltm", "xlam", "xlsb", "pptx", "pptm", "potx", "potm", "ppsx", "ppsm", "ppam", "xps";
// "" when no known main part is declared.
std::string packageTypeFromContentTypes(std::string_view contentTypesXml);

struct MainPartRule {
  std::string_view type;            // input type, e.g. "docm"
  std::string_view outputType;      // e.g. "docx"
  std::string_view outputMainType;  // content type the rebuilt main part gets
  std::string_view blockReason;     // non-empty: this package type is blocked outright
};

// nullptr for a content type that is not a known main document part.
const MainPartRule* mainPartRule(std::string_view contentType);

// Short name of a relationship type URI: "styles", "image", "metadata/core-properties",
// "ms2006/vbaProject", ...; "" for a namespace we do not know.
std::string relTypeShort(std::string_view relType);

// Whether a relationship of this (short) type may be kept.
bool relTypeAllowed(std::string_view shortType);

// The report kind for a dropped relationship type: "vbaProject", "activex", "ole-object", ...
std::string removedKindForRel(std::string_view shortType);

// Whether a part with this content type may be kept (the main part's own type is checked through
// mainPartRule instead).
bool contentTypeAllowed(std::string_view contentType);

bool isImageContentType(std::string_view contentType);

// Namespace URIs of relationship references in part XML (transitional and strict).
bool isRelationshipNamespace(std::string_view uri);

}  // namespace lbg::sanitizer::ooxml
