#pragma once

// HTTP/1.x request-head inspector (RFC 9112 §3 request line, §5 fields; RFC 9110 §7.2 Host).
//
// Input is the client→server stream from the start of the flow, re-parsed as it grows. The head is
// judged only once it is complete (CRLF CRLF): a second Host header may come last. Anything a
// server could read differently from us is Invalid and the pipeline denies it: bare LF or CR,
// obs-fold, whitespace before a colon, two Host headers, a Host with userinfo or garbage, an
// absolute URI whose authority differs from Host, HTTP/1.1 without Host. CONNECT is reported as
// Invalid with reason Connect: the gateway is transparent, so CONNECT means a client is using an
// explicit proxy tunnel through it.
//
// One head is judged per call; headLength tells where it ends and the framing fields where its
// body ends, so that request_stream.h can find and judge every later head of the connection.
// Hot path: no allocation, no exceptions, work linear in min(stream, kMaxHttpHeadLength).
// Measured (x86-64, -O2, loaded host): ~0.7 µs for a 160-byte head with 5 fields.

#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/inspect/status.h"

namespace lbg::inspect {

// A head that has not ended within this many bytes is refused (typical heads are < 1 KiB).
inline constexpr uint32_t kMaxHttpHeadLength = 8192;
// Larger Content-Length values (256 TiB) are reported as bad: the follower counts in 48 bits.
inline constexpr uint64_t kMaxHttpContentLength = (uint64_t(1) << 48) - 1;

#define LBG_HTTP_REASONS(X)                                                    \
  X(None, "none")                                                              \
  X(BadMethod, "http-bad-method")                                              \
  X(Connect, "http-connect")                                                   \
  X(BadTarget, "http-bad-target")                                              \
  X(BadVersion, "http-bad-version")                                            \
  X(BadLineEnding, "http-bad-line-ending") /* bare LF or CR */                 \
  X(BadHeader, "http-bad-header")          /* malformed field line */          \
  X(ObsFold, "http-obs-fold")              /* continuation line */             \
  X(MultipleHosts, "http-multiple-hosts")                                      \
  X(BadHost, "http-bad-host") /* userinfo, bad characters, bad port */         \
  X(EmptyHost, "http-empty-host")                                              \
  X(MissingHost, "http-missing-host")   /* HTTP/1.1 requires Host */           \
  X(HostMismatch, "http-host-mismatch") /* absolute-URI authority differs */   \
  X(BadScheme, "http-bad-scheme")       /* absolute URI not http: or https: */ \
  X(TooLarge, "http-head-too-large")

enum class HttpReason : uint8_t {
#define LBG_HTTP_REASON_ENUM_(id, text) id,
  LBG_HTTP_REASONS(LBG_HTTP_REASON_ENUM_)
#undef LBG_HTTP_REASON_ENUM_
};
std::string_view toString(HttpReason r);

struct HttpRequestHead {
  char method[16];  // raw token, not NUL-terminated
  uint8_t methodLen;
  char host[256];  // uri-host as sent (case kept, no port); IPv6 literals keep their brackets
  uint16_t hostLen;
  bool hasHost;          // false only for HTTP/1.0 without Host and without an absolute URI;
                         // also set when Invalid for HostMismatch, naming the URI's host (what
                         // the server uses, RFC 9112 §3.2.2): the IDS's http.host
  uint16_t port;         // from Host or the absolute URI; 0 if neither names one
  uint8_t versionMinor;  // HTTP/1.<minor>
  bool absoluteForm;     // request-target was an absolute URI
  uint16_t headLength;   // bytes of the head, final CRLF CRLF included (Done only)
  HttpReason reason;     // why Invalid; None otherwise
  // Message framing (RFC 9112 §6), reported as sent; judged by the request stream follower
  // (request_stream.h), which must know where this request's body ends.
  bool hasContentLength;
  bool contentLengthBad;     // not 1*DIGIT, beyond 2^48 - 1, or two fields that differ
  bool hasTransferEncoding;  // any Transfer-Encoding field
  bool chunkedOnly;          // every Transfer-Encoding field together is exactly "chunked"
  bool hasUpgrade;           // an Upgrade field: the connection may stop speaking HTTP/1
  uint64_t contentLength;
};

// See the file comment. `out` is reset on every call.
Status parseHttpRequestHead(std::span<const uint8_t> stream, HttpRequestHead& out);

}  // namespace lbg::inspect
