#pragma once

#include <string>
#include <string_view>

#include "sanitizer/icap/header_list.h"

namespace lbg::icap {

// Helpers that adjust encapsulated HTTP headers to a replaced body.

// The media type of a Content-Type value, lower-cased, without parameters ("text/css").
std::string mediaType(std::string_view contentType);

// The file name a Content-Disposition value carries (filename* preferred, percent-decoded when
// UTF-8), or empty.
std::string dispositionFileName(std::string_view contentDisposition);

// Replaces the extension of every filename / filename* parameter with `newExtension`
// ("docx"); parameters without an extension get one appended.
std::string rewriteDispositionExtension(std::string_view contentDisposition,
                                        std::string_view newExtension);

// Last path segment of a URL or request target, without query or fragment, percent-decoded.
std::string urlFileName(std::string_view url);

// Content-Type for an output type word of the sanitizer ("docx", "pdf", "txt", ...).
std::string contentTypeFor(std::string_view type);

// Extension for an output type word ("txt" for "text"); empty if none is known.
std::string extensionFor(std::string_view type);

// Headers describing the old representation that must go when the body is replaced.
void dropRepresentationHeaders(HeaderList& headers);

// HTML-escapes text for element content and quoted attribute values.
std::string htmlEscape(std::string_view s);

}  // namespace lbg::icap
