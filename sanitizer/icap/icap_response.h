#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sanitizer/icap/header_list.h"
#include "sanitizer/icap/http_head.h"
#include "sanitizer/icap/status.h"

namespace lbg::icap {

// An ICAP response before serialization. Encapsulated is computed, never set by hand, so the
// offsets always match the bytes that follow.
struct IcapResponse {
  Status status = Status::Ok;
  HeaderList headers;                        // ISTag, Server, ... (not Encapsulated)
  std::optional<HttpRequestHead> request;    // REQMOD: the adapted request
  std::optional<HttpResponseHead> response;  // RESPMOD, or REQMOD answered with a response
  std::optional<std::string_view> body;      // sent chunked; absent means null-body
};

std::string serializeResponse(const IcapResponse& response);

}  // namespace lbg::icap
