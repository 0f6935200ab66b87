#pragma once

// The sticky buffers of one HTTP/1.x request head, built as Suricata 7 builds them from libhtp's
// transaction, so that ET rules written for Suricata match the same bytes here:
//   http.method, http.uri.raw   the request line's first two tokens as sent
//   http.uri                    the target normalised as Suricata 7 does (http_uri.h)
//   http.request_line           the request line without its CRLF
//   http.header                 every field but Cookie as `Name: value\r\n`, values trimmed,
//                               repeated names merged into the first (`, `) in first-seen order
//   http.header_names           `\r\n` then each name (merged the same way) and `\r\n`, then `\r\n`
//   http.user_agent, http.cookie, http.content_type, http.referer, http.accept,
//   http.accept_enc, http.connection, http.content_len, http.location, http.server
//                               that field's merged value (of the direction's fields)
//   http.start                  the first line, CRLF, every field (Cookie too) as `Name: value`
//                               CRLF merged as above, then CRLF
//   http.header.raw             the field lines as sent, up to and including the empty line
//   http.protocol               the version token (`HTTP/1.1`)
//   http.response_line, http.stat_msg
//                               a response's status line without CRLF, and its reason phrase
// http.host is not set here: the pipeline sets the inspector's judged name.
//
// Input: a head the HTTP inspector (inspect/http/request.h) judged well formed: CRLF line
// endings, no obs-fold, no whitespace before a colon; leading empty lines are skipped. Anything
// else is read as far as it parses (a fuzz target checks it never reads out of bounds).
// Hot path: no allocation; the merged buffers live in the caller's HttpHeadScratch (one per
// worker), the others point into the head. Work linear in the head (bounded by the inspector at
// 8 KiB) (lines of one name are linked, never searched).

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/ids/engine.h"

namespace lbg::ids {

struct HttpHeadScratch {
  // A head longer than this is read only this far (the inspector refuses longer heads).
  static constexpr size_t kMaxHead = 8192;
  static constexpr size_t kMaxLines = kMaxHead / 4;  // the shortest field line is `a:` CRLF
  // Distinct names merged; a name beyond them keeps its own `Name: value` line in http.header.
  static constexpr size_t kMaxNames = 64;
  static constexpr size_t kMaxBytes = kMaxHead + 2 * kMaxLines + 4;  // each built buffer
  uint8_t header[kMaxBytes];
  uint8_t names[kMaxBytes];
  // Merged values of the single-field buffers (a value that occurs once points into the head).
  static constexpr size_t kSingleFields = 10;
  uint8_t merged[kSingleFields][kMaxBytes];
  uint8_t start[kMaxHead + kMaxBytes];  // http.start
  uint8_t uri[kMaxHead];  // http.uri, never longer than the target
  struct Line {
    uint16_t nameOff, nameLen, valueOff, valueLen;
    int16_t next;  // the next line of the same name, -1 none
  };
  Line lines[kMaxLines];
  struct Name {
    int16_t first, last;  // lines
  };
  Name distinct[kMaxNames];
};


// A response head (to_client) fills http.header, http.header_names, http.cookie (the
// Set-Cookie fields, which http.header leaves out, as Suricata does), http.content_type,
// http.connection, http.content_len, http.location, http.server, http.start, http.header.raw,
// http.protocol, http.response_line and http.stat_msg (http.stat_code: the response follower).
enum class HttpHeadKind : uint8_t { Request, Response };

// Fills `out` with the buffers above from `head` (which must outlive `out`'s use, as must
// `scratch`). Returns the head's length up to and including its empty line, or 0 when no complete
// head was found (then nothing is set).
size_t fillHttpHeadBuffers(std::span<const uint8_t> head, HttpHeadScratch& scratch,
                           BufferSet& out, HttpHeadKind kind = HttpHeadKind::Request);

// Whether `bytes` begin with an HTTP/1.x request line: a method token (RFC 9110 tchar, any case,
// at most 24), a space, a target, a space, `HTTP/` and a digit; the line's end may lie beyond.
// What the pipeline takes for HTTP on a flow no inspector named (Suricata's protocol detection,
// roughly). Reads at most the bytes it is given.
bool startsWithHttpRequestLine(std::span<const uint8_t> bytes);

// The same test on a stream's first bytes that may still be coming: Yes and No as above, NeedMore
// when `bytes` are a prefix of such a line that has not reached the version's digit (a request
// line cut across segments, down to one byte each). A longer prefix never turns Yes into No or
// No into Yes. What the pipeline's HTTP follower of a flow allowed by address gathers on.
enum class RequestLineStart : uint8_t { No, Yes, NeedMore };
RequestLineStart httpRequestLineStart(std::span<const uint8_t> bytes);

}  // namespace lbg::ids
