#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sanitizer/icap/header_list.h"

namespace lbg::icap {

// The HTTP request head an ICAP client encapsulates (req-hdr).
struct HttpRequestHead {
  std::string method;
  std::string target;
  std::string version;  // "HTTP/1.1"
  HeaderList headers;

  std::string serialize() const;  // start line, fields, empty line
  // Host header, else the authority of an absolute-form target; empty if neither.
  std::string host() const;
  // Absolute URL when it can be rebuilt ("http://host/path"), else the raw target.
  std::string url() const;
};

// The HTTP response head an ICAP client encapsulates (res-hdr).
struct HttpResponseHead {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  HeaderList headers;

  std::string serialize() const;
};

// Parse one complete encapsulated header section: start line, fields, and the empty line that
// must end exactly at the end of `section`. Return an empty string on success, else a message.
std::string parseHttpRequestHead(std::string_view section, size_t maxHeaders, HttpRequestHead& out);
std::string parseHttpResponseHead(std::string_view section, size_t maxHeaders,
                                  HttpResponseHead& out);

}  // namespace lbg::icap
