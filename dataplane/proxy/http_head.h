#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lbg::proxy {

// One header field as sent. `value` has its surrounding whitespace trimmed; a value continued on
// the next line (obs-fold) spans the CRLF and the leading whitespace, which the serialiser turns
// into spaces (RFC 9112 §5.2 lets a proxy replace obs-fold by SP).
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// How the message's body is delimited (RFC 9112 §6.3).
enum class BodyKind : uint8_t { None, Length, Chunked, UntilClose };

enum class HeadStatus : uint8_t { Complete, Incomplete, Invalid };

// A parsed HTTP/1.x request or response head. Views point into the caller's buffer. Fixed
// capacity: a head with more fields than kMaxFields is refused, not truncated, so that no header
// is ever forwarded unseen.
struct HttpHead {
  static constexpr size_t kMaxFields = 128;
  static constexpr size_t kMaxBytes = 32 * 1024;

  // Request line or status line.
  std::string_view method;  // request only
  std::string_view target;  // request only
  int status = 0;           // response only
  std::string_view reason;  // response only
  int minorVersion = 1;     // HTTP/1.<minor>

  std::array<HeaderField, kMaxFields> fields{};
  size_t fieldCount = 0;
  size_t headBytes = 0;  // including the blank line

  BodyKind body = BodyKind::None;
  uint64_t contentLength = 0;
  bool connectionClose = false;  // Connection: close, or HTTP/1.0 without keep-alive
  bool expectContinue = false;   // Expect: 100-continue

  // The reason an Invalid head was refused (static text).
  const char* error = nullptr;
};

// Parses a request head at the start of `in`. Strict: CRLF line ends only, tokens for method and
// field names, no whitespace before a field's colon, HTTP/1.0 or 1.1, Content-Length and
// Transfer-Encoding not both, equal Content-Length copies, Transfer-Encoding exactly "chunked".
// Incomplete means "need more bytes" and is only returned while the head is under kMaxBytes.
HeadStatus parseRequestHead(std::string_view in, HttpHead& out);
// The same for a response to a request with method `method` (HEAD and 1xx/204/304 have no body;
// a 2xx to CONNECT is a tunnel and not parsed here).
HeadStatus parseResponseHead(std::string_view in, std::string_view method, HttpHead& out);

bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace lbg::proxy
