#pragma once

// lbg-proxy's side of ICAP (RFC 3507) RESPMOD toward lbg-icapd: the request it sends and a strict,
// bounded parser of the answer. Codec only: the connection lives in sanitize_relay.cc.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dataplane/proxy/chunked_body.h"
#include "dataplane/proxy/http_head.h"

namespace lbg::proxy {

// `icap://IPv4:PORT/path` (the spelling of Squid's icap_service, which admins know), validated
// once at start. A literal address: the proxy's loop resolves nothing it can avoid.
struct IcapService {
  std::string host;  // IPv4 literal
  uint16_t port = 0;
  std::string path;  // "/sanitize"

  std::string uri() const;
};
std::optional<IcapService> parseIcapUri(std::string_view text);

// One HTTP exchange to adapt: the request as the client made it (method, absolute URL) and the
// origin's response head as received (its framing fields are left as they were: lbg-icapd reads
// the ICAP chunks, not them) with the decoded body.
struct RespmodInput {
  std::string_view method;
  std::string_view url;   // https://host/path, for lbg-icapd's log and block page
  std::string_view host;  // the request's Host
  std::string_view responseHead;  // status line to the empty line included
  std::string_view body;
  std::string_view clientIp;  // X-Client-IP, which lbg-icapd logs as src_ip
};

// RESPMOD without preview: `Allow: 204` (an unchanged file costs no copy back), `Encapsulated:
// req-hdr=0, res-hdr=R, res-body=B`, the body in one ICAP chunk then the last chunk.
std::string encodeRespmod(const IcapService& service, const RespmodInput& in);

// The answer to one RESPMOD, parsed as it arrives. Strict (anything else is Invalid, and the
// client gets an error, never the original body): `ICAP/1.0 NNN reason` then header fields (token
// names, no folding, at most kMaxFields, the head at most kMaxHead bytes); status 204 (`Encapsulated`
// absent or `null-body=0`) or 200 with `Encapsulated: res-hdr=0, res-body=N | null-body=N`, where
// the first N bytes are exactly one HTTP response head, then (res-body) a chunked body of at most
// maxBody decoded bytes; nothing after the last chunk. Any other status is Invalid with `status()`
// set (lbg-icapd answers 4xx/5xx when it cannot serve).
class IcapResponseParser {
 public:
  enum class Status : uint8_t { More, Done, Invalid };
  static constexpr size_t kMaxHead = 16 * 1024;
  static constexpr size_t kMaxFields = 64;

  explicit IcapResponseParser(uint64_t maxBody) : maxBody_(maxBody) {}

  // Consumes all of `in` (buffering what it needs). Once Done or Invalid, stays so.
  Status feed(std::string_view in);
  // The ICAP server closed the connection: Invalid unless the answer was complete.
  Status finish();

  int status() const { return status_; }  // the ICAP status code, 0 before the status line
  bool unchanged() const { return status_ == 204; }
  // 200 only: the adapted HTTP response head (status line to the empty line) and its body.
  std::string_view httpHead() const { return httpHead_; }
  const std::string& body() const { return body_; }
  const char* error() const { return error_; }

 private:
  enum class State : uint8_t { IcapHead, HttpHead, Body, Done, Invalid };
  Status fail(const char* why);
  Status parseIcapHead(std::string_view head);

  uint64_t maxBody_;
  State state_ = State::IcapHead;
  std::string buf_;  // head bytes not yet parsed (bounded by kMaxHead + HttpHead::kMaxBytes)
  int status_ = 0;
  size_t httpHeadBytes_ = 0;  // N of res-body=N / null-body=N
  bool hasBody_ = false;
  std::string httpHead_;
  ChunkedBody chunks_;
  std::string body_;
  const char* error_ = nullptr;
};

// The response the client gets for an adapted one: `head`'s status line and fields, its framing
// (Content-Length, Transfer-Encoding) replaced by the length of `body`. False if `head` is not a
// valid response head (parseResponseHead: no folding, bounded).
bool reframeResponse(std::string_view head, std::string_view body, std::string& out);

// Is an adapted head lbg-icapd's block page (403 with `X-LBG-Sanitizer: blocked; ...`)?
bool isBlockPage(std::string_view head);

}  // namespace lbg::proxy
