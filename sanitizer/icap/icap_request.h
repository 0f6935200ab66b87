#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sanitizer/icap/header_list.h"
#include "sanitizer/icap/http_head.h"
#include "sanitizer/icap/icap_limits.h"
#include "sanitizer/icap/status.h"

namespace lbg::icap {

enum class Method : uint8_t { Options, Reqmod, Respmod };
std::string_view methodName(Method m);

// The parts an Encapsulated header can name (RFC 3507 4.4.1).
enum class Part : uint8_t { ReqHdr, ResHdr, ReqBody, ResBody, NullBody, OptBody };
std::string_view partName(Part p);

// A validated Encapsulated header: entries in wire order, the first at offset 0, offsets strictly
// increasing, exactly one body entry (req-body, res-body, opt-body or null-body) and it is last,
// and only the parts the method's grammar allows.
struct Encapsulated {
  struct Entry {
    Part part;
    uint64_t offset;
  };
  std::vector<Entry> entries;

  bool has(Part p) const;
  // Offset of a part; only valid when has(p).
  uint64_t offsetOf(Part p) const;
  // The body entry (always present once validated).
  Part bodyPart() const { return entries.back().part; }
  // Bytes of encapsulated HTTP headers that precede the body.
  uint64_t headerBytes() const { return entries.back().offset; }
  bool hasBody() const { return bodyPart() != Part::NullBody; }
};

// Parse and validate an Encapsulated value for a request with `method`. Offsets beyond
// `maxHeaderBytes` are refused. Returns an empty string on success, else a message.
std::string parseEncapsulated(std::string_view value, Method method, uint64_t maxHeaderBytes,
                              Encapsulated& out);

struct IcapRequestHead {
  Method method = Method::Options;
  std::string uri;      // as sent: icap://host[:port]/service[?query]
  std::string service;  // path without the leading '/' and without the query
  HeaderList headers;
  Encapsulated encapsulated;        // OPTIONS without Encapsulated: null-body=0
  std::optional<uint64_t> preview;  // Preview: n
  bool allow204 = false;            // Allow: 204
  bool connectionClose = false;     // Connection: close
};

struct ParseError {
  Status status = Status::BadRequest;
  std::string message;
};

enum class ParseStatus : uint8_t { Done, NeedMore, Error };

struct HeadResult {
  ParseStatus status = ParseStatus::NeedMore;
  size_t consumed = 0;  // bytes of the ICAP head (request line to empty line) when Done
  ParseError error;
};

// Parse the ICAP request line and ICAP headers from the front of `buf`. NeedMore until the empty
// line arrives; Error (with the ICAP status to answer) once `buf` holds more than
// limits.maxIcapHeadBytes without one, or the head is malformed.
HeadResult parseIcapHead(std::string_view buf, const Limits& limits, IcapRequestHead& out);

// The encapsulated HTTP heads of a request, parsed from exactly encapsulated.headerBytes() bytes.
struct EncapsulatedHeads {
  std::optional<HttpRequestHead> request;
  std::optional<HttpResponseHead> response;
};
std::string parseEncapsulatedHeads(std::string_view bytes, const Encapsulated& encapsulated,
                                   const Limits& limits, EncapsulatedHeads& out);

}  // namespace lbg::icap
