#pragma once

// Follows the server→client bytes of an HTTP/1.x connection, in stream order, as libhtp's
// response parser does for Suricata 7's `http.stat_code`, `http.response_body` and `file.data`:
// the status line and header block, then the body framed by Content-Length, chunked (handed out
// dechunked) or until the connection closes; responses matched in order to the requests the
// client sent (noteHttpRequest), so a HEAD's response, a 204 and a 304 have no body; 1xx interim
// responses are skipped. Content-Encoding is read into the codings the body carries (gzip,
// deflate; decoded before the scan by body_decoder.h, as libhtp decompresses for Suricata's
// file.data). The state is fixed-size and trivially copyable (it lives in the flow's
// IDS slot, dataplane/core/pipeline_ids.cc); stepping never allocates.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace lbg::ids {

struct HttpResponseState {
  enum class Phase : uint8_t {
    StatusLine,    // before the status line (empty lines before it are skipped)
    Headers,       // header lines until the empty one
    Body,          // Content-Length body: `remaining` bytes
    ChunkSize,     // a chunk-size line
    ChunkData,     // `remaining` bytes of chunk data
    ChunkDataEnd,  // the CRLF after a chunk's data
    Trailers,      // trailer lines after the last chunk, until the empty one
    UntilClose,    // body until the server closes (closeHttpResponse)
    Done,          // the response ended: the next step reports End
    Broken,        // not HTTP/1.x as expected: not followed any more
  };
  static constexpr size_t kLine = 48;           // bytes of a line kept (the rest: cut)
  static constexpr uint32_t kMaxHead = 65536;   // longer status line + header block: Broken
  static constexpr uint16_t kMaxPending = 16;   // requests in flight remembered (HEAD or not)
  // Content codings a body may carry, in the order the server applied them (RFC 9110 8.4.1);
  // Suricata 7 decodes at most two layers (response-decompression-layer-limit).
  enum class Coding : uint8_t { Gzip, Deflate };
  static constexpr uint8_t kMaxCodings = 2;

  Phase phase = Phase::StatusLine;
  uint8_t lineLen = 0;
  bool chunked = false;
  bool haveLength = false;
  bool lengthBad = false;
  bool headRequest = false;   // the response in flight answers a HEAD
  uint16_t pending = 0;       // requests sent, not yet answered by a final response
  uint16_t headMask = 0;      // bit i: the i-th pending request is a HEAD
  char status[3] = {'0', '0', '0'};  // the last status line's code, as sent
  uint8_t codingCount = 0;            // codings[0..codingCount) of the last head (kept after End)
  bool codingUnsupported = false;     // another coding (br, compress, ...), more layers, or a
                                      // Content-Encoding value cut at kLine: not decodable
  Coding codings[kMaxCodings] = {};
  uint32_t headBytes = 0;     // of the head in flight
  uint64_t length = 0;        // Content-Length
  uint64_t remaining = 0;     // of the body or chunk in flight
  uint64_t bodyBytes = 0;     // body bytes of the response in flight (dechunked)
  char line[kLine];           // the line in flight, up to kLine bytes (read up to lineLen)

  std::string_view statusCode() const { return {status, 3}; }
  std::span<const Coding> contentCodings() const { return {codings, codingCount}; }
};

// The client sent a request (`head`: its method is HEAD), in order.
void noteHttpRequest(HttpResponseState& s, bool head);

struct HttpResponseStep {
  enum class Kind : uint8_t {
    NeedMore,  // nothing to report: step again over the rest (none left: wait for more bytes)
    HeadDone,  // a final response's head ended (status in HttpResponseState::statusCode())
    Body,      // `body`: the next body bytes (dechunked), a slice of the input
    End,       // the response ended (its head had no body, or its body is complete)
    Broken,    // the bytes are not a response lbg follows; the rest is not followed
  };
  Kind kind = Kind::NeedMore;
  size_t used = 0;  // input bytes consumed by this step
  std::span<const uint8_t> body;
};

// One step over the next server bytes `in`; call again with the rest (`in` after `used`) until a
// step says NeedMore with nothing left (a step after the body's last byte, even over no input,
// may still say End). After End, the state is ready for the next response. Once Broken, every
// step consumes everything and says NeedMore.
HttpResponseStep stepHttpResponse(HttpResponseState& s, std::span<const uint8_t> in);

// The server closed its side: true when this ends a response whose body ran until the close
// (as an End step would say; nothing follows a close).
bool closeHttpResponse(HttpResponseState& s);

// The content codings of a request head's Content-Encoding fields (an upload's body, decoded
// before its http.request_body scan as a response's is for file.data: Suricata 7 decompresses
// request bodies too, suricata-verify http-post-data-decompression), read as a response's are.
struct RequestCodings {
  HttpResponseState::Coding codings[HttpResponseState::kMaxCodings] = {};
  uint8_t count = 0;
  bool unsupported = false;  // a coding not decoded (br, compress, ...) or more layers
  bool any() const { return count > 0 || unsupported; }
  std::span<const HttpResponseState::Coding> list() const { return {codings, count}; }
};
// `head`: the request line and header fields as sent (CRLF lines, the empty line optional).
RequestCodings requestContentCodings(std::span<const uint8_t> head);

}  // namespace lbg::ids
