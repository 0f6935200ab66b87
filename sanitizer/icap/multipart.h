#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sanitizer/icap/header_list.h"

namespace lbg::icap {

// multipart/form-data (RFC 7578 over RFC 2046), the body of a browser file upload. REQMOD splits
// it so that each file part is sanitized on its own and the other fields pass unchanged.
//
// Parsing is strict and the body is rebuilt canonically from what was parsed (preamble and
// epilogue dropped), so the server behind the proxy sees exactly the parts this service saw.

struct MultipartPart {
  HeaderList headers;
  std::string body;
};

// The boundary parameter of a multipart Content-Type (unquoted), or empty when there is none or it
// is not a valid boundary (1-70 characters of RFC 2046 bchars, not ending in a space).
std::string multipartBoundary(std::string_view contentType);

// Splits `body` into parts. Returns an empty string on success, else a message.
std::string parseMultipart(std::string_view body, std::string_view boundary, size_t maxParts,
                           size_t maxHeaders, std::vector<MultipartPart>& out);

// The canonical body: each part as delimiter, headers, empty line, data; then the close delimiter.
std::string serializeMultipart(const std::vector<MultipartPart>& parts, std::string_view boundary);

// True when a Content-Disposition of a part names a file ("filename" or "filename*" parameter).
bool isFilePart(const MultipartPart& part);

}  // namespace lbg::icap
