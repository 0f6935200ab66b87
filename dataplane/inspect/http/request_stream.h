#pragma once

// Follows the client side of an HTTP/1.x connection past its first request, so that every
// request head on it (keep-alive, pipelining) is found and judged, not only the first.
//
// The caller (dataplane/core/http_follow.cc) feeds the in-order client bytes after a judged head.
// httpStreamAdvance() walks over the body of the current request, as its framing says
// (Content-Length, or chunked with extensions and trailers), and stops where the next head starts;
// the caller parses that head with parseHttpRequestHead(), judges its Host and calls
// httpStreamStartBody() with it. Empty lines between requests (bare CR or LF included: servers
// skip them before a request line, RFC 9112 §2.2) are walked over too.
//
// Smuggling stance (RFC 9112 §6.3, §7.1): when the body's end cannot be found the same way by
// every server, the follower gives up and the caller denies: Content-Length that is not plain
// digits or appears twice with different values, Transfer-Encoding other than exactly "chunked",
// both together, Transfer-Encoding on HTTP/1.0, an Upgrade request (what follows may not be HTTP),
// chunk sizes with more than 12 hex digits, a chunk line or trailer line that does not end in
// CRLF, chunk data not followed by CRLF. A request without either field has no body (§6.3 rule 6).
//
// State: 8 bytes, plain data, zero = "a head starts next". Hot path: no allocation, no exceptions,
// work linear in the bytes given.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/inspect/http/request.h"
#include "dataplane/inspect/status.h"

namespace lbg::inspect {

#define LBG_HTTP_STREAM_REASONS(X)                                               \
  X(None, "none")                                                                \
  X(BadContentLength, "http-bad-content-length")                                 \
  X(BadTransferEncoding, "http-bad-transfer-encoding") /* not exactly chunked */ \
  X(LengthAndChunked, "http-length-and-chunked")                                 \
  X(Upgrade, "http-upgrade")                                                     \
  X(BadChunk, "http-bad-chunk")

enum class HttpStreamReason : uint8_t {
#define LBG_HTTP_STREAM_REASON_ENUM_(id, text) id,
  LBG_HTTP_STREAM_REASONS(LBG_HTTP_STREAM_REASON_ENUM_)
#undef LBG_HTTP_STREAM_REASON_ENUM_
};
std::string_view toString(HttpStreamReason r);

enum class HttpStreamPhase : uint8_t {
  Head,         // between requests: empty lines, then a head
  Body,         // `left` bytes of a Content-Length body
  ChunkSize,    // hex digits of a chunk-size line (`aux` digits so far)
  ChunkExt,     // after ';': chunk extensions up to CR
  ChunkSizeLf,  // CR of the chunk-size line seen
  ChunkData,    // `left` bytes of chunk data
  ChunkDataCr,  // chunk data done, CR expected
  ChunkDataLf,  // LF expected
  Trailer,      // trailer section after the last chunk (`aux` = bytes of the current line, capped)
  TrailerLf,    // CR of a trailer line seen
};

struct HttpRequestStream {
  uint64_t left : 48;  // bytes of body or chunk data still to come
  uint64_t phase : 8;  // HttpStreamPhase
  uint64_t aux : 8;    // digits of the chunk size / bytes of the trailer line (saturating)

  HttpStreamPhase at() const { return HttpStreamPhase(phase); }
};
static_assert(sizeof(HttpRequestStream) == 8);

struct HttpStreamStep {
  size_t consumed;  // bytes walked over
  // NeedMore: every byte consumed, the current body (or empty lines) goes on.
  // Done: a head starts at data[consumed].
  // Invalid: framing that cannot be followed; `reason` says which.
  Status status;
  HttpStreamReason reason;
};

// Told each piece of a request body the walk passes over, dechunked (chunk data without its
// size lines, extensions, CRLFs and trailers), in order: what the IDS gathers as
// http.request_body (dataplane/core/pipeline_http_request.cc). A piece is a slice of `data`.
class HttpBodySink {
 public:
  virtual void body(std::span<const uint8_t> piece) = 0;

 protected:
  ~HttpBodySink() = default;
};

// Walks `data` (the next in-order client bytes) until a head starts. See the file comment.
// `sink`, when given, receives the body bytes walked over.
HttpStreamStep httpStreamAdvance(HttpRequestStream& s, std::span<const uint8_t> data,
                                 HttpBodySink* sink = nullptr);

// After a head was judged: where its body ends. False (and `why`) when that cannot be followed.
bool httpStreamStartBody(HttpRequestStream& s, const HttpRequestHead& head, HttpStreamReason& why);

}  // namespace lbg::inspect
