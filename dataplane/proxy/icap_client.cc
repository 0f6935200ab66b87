#include "dataplane/proxy/icap_client.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace lbg::proxy {

namespace {

bool isTchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(char(c)) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A decimal offset of Encapsulated: digits only, at most 9 (the heads are bounded far below).
bool parseOffset(std::string_view s, size_t& out) {
  if (s.empty() || s.size() > 9) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + size_t(c - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string IcapService::uri() const {
  return "icap://" + host + ":" + std::to_string(port) + path;
}

std::optional<IcapService> parseIcapUri(std::string_view text) {
  constexpr std::string_view kScheme = "icap://";
  if (text.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  text.remove_prefix(kScheme.size());
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view authority = text.substr(0, slash);
  IcapService s;
  s.path = std::string(text.substr(slash));
  for (unsigned char c : s.path) {
    if (c <= ' ' || c >= 0x7f) return std::nullopt;  // goes into the request line as it is
  }
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  s.host = std::string(authority.substr(0, colon));
  in_addr a{};
  if (inet_pton(AF_INET, s.host.c_str(), &a) != 1) return std::nullopt;
  const std::string_view port = authority.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  s.port = uint16_t(value);
  return s;
}

std::string encodeRespmod(const IcapService& service, const RespmodInput& in) {
  std::string req;
  req.append(in.method).append(" ").append(in.url).append(" HTTP/1.1\r\nHost: ");
  req.append(in.host).append("\r\n\r\n");
  std::string out;
  out.reserve(512 + req.size() + in.responseHead.size() + in.body.size());
  out.append("RESPMOD ").append(service.uri()).append(" ICAP/1.0\r\n");
  out.append("Host: ").append(service.host).append(":").append(std::to_string(service.port));
  out.append("\r\nAllow: 204\r\n");
  if (!in.clientIp.empty()) out.append("X-Client-IP: ").append(in.clientIp).append("\r\n");
  out.append("Encapsulated: req-hdr=0, res-hdr=").append(std::to_string(req.size()));
  out.append(", res-body=").append(std::to_string(req.size() + in.responseHead.size()));
  out.append("\r\n\r\n").append(req).append(in.responseHead);
  if (!in.body.empty()) {
    char size[24];
    const auto r = std::to_chars(size, size + sizeof size, in.body.size(), 16);
    out.append(size, r.ptr).append("\r\n").append(in.body).append("\r\n");
  }
  out.append("0\r\n\r\n");
  return out;
}

IcapResponseParser::Status IcapResponseParser::fail(const char* why) {
  state_ = State::Invalid;
  if (!error_) error_ = why;
  buf_.clear();
  return Status::Invalid;
}

IcapResponseParser::Status IcapResponseParser::parseIcapHead(std::string_view head) {
  // head: the status line and fields, each line ending in CRLF, without the empty line.
  size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  // ICAP/1.0 SP 3DIGIT [SP reason]
  if (line.size() < 12 || line.substr(0, 9) != "ICAP/1.0 " || (line.size() > 12 && line[12] != ' ')) {
    return fail("malformed ICAP status line");
  }
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return fail("malformed ICAP status line");
    status_ = status_ * 10 + (line[i] - '0');
  }
  for (unsigned char c : line.substr(12)) {
    if (c < ' ' && c != '\t') return fail("control character in the ICAP status line");
  }
  std::string_view encapsulated;
  bool haveEncapsulated = false;
  size_t fields = 0;
  for (size_t pos = eol + 2; pos < head.size();) {
    eol = head.find("\r\n", pos);
    const std::string_view field = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (++fields > kMaxFields) return fail("too many ICAP header fields");
    const size_t colon = field.find(':');
    if (colon == 0 || colon == std::string_view::npos) return fail("ICAP header field without a name");
    const std::string_view name = field.substr(0, colon);
    for (unsigned char c : name) {
      if (!isTchar(c)) return fail("ICAP header name is not a token");  // also folding, space
    }
    const std::string_view value = trim(field.substr(colon + 1));
    for (unsigned char c : value) {
      if ((c < ' ' && c != '\t') || c == 0x7f) return fail("control character in an ICAP header");
    }
    if (equalsIgnoreCase(name, "encapsulated")) {
      if (haveEncapsulated) return fail("Encapsulated twice");
      haveEncapsulated = true;
      encapsulated = value;
    }
  }
  if (status_ == 204) {
    if (haveEncapsulated && encapsulated != "null-body=0") return fail("204 with a body");
    state_ = State::Done;
    return Status::Done;
  }
  if (status_ != 200) return fail(status_ == 100 ? "100 Continue without a preview" : "ICAP status");
  // RFC 3507 4.4.1, RESPMOD response: [res-hdr] res-body | null-body. lbg-icapd always sends the
  // adapted head, and a client that accepted a response without one would have to invent it.
  if (!haveEncapsulated) return fail("200 without Encapsulated");
  constexpr std::string_view kHdr = "res-hdr=0,";
  if (encapsulated.substr(0, kHdr.size()) != kHdr) return fail("Encapsulated without res-hdr=0");
  const std::string_view rest = trim(encapsulated.substr(kHdr.size()));
  std::string_view offset;
  if (rest.substr(0, 9) == "res-body=") {
    hasBody_ = true;
    offset = rest.substr(9);
  } else if (rest.substr(0, 10) == "null-body=") {
    offset = rest.substr(10);
  } else {
    return fail("Encapsulated is not res-hdr, res-body | null-body");
  }
  if (!parseOffset(offset, httpHeadBytes_) || httpHeadBytes_ == 0 ||
      httpHeadBytes_ > HttpHead::kMaxBytes) {
    return fail("bad Encapsulated offset");
  }
  state_ = State::HttpHead;
  return Status::More;
}

IcapResponseParser::Status IcapResponseParser::feed(std::string_view in) {
  if (state_ == State::Done) return in.empty() ? Status::Done : fail("bytes after the ICAP response");
  if (state_ == State::Invalid) return Status::Invalid;
  if (state_ == State::IcapHead || state_ == State::HttpHead) {
    // Only head bytes are buffered: at most kMaxHead, then the HTTP head of a bounded length.
    const size_t room = kMaxHead + HttpHead::kMaxBytes - buf_.size();
    buf_.append(in.substr(0, room));
    in.remove_prefix(std::min(in.size(), room));
    if (state_ == State::IcapHead) {
      const size_t end = buf_.find("\r\n\r\n");
      if (end == std::string::npos || end + 4 > kMaxHead) {
        return buf_.size() >= kMaxHead ? fail("ICAP head too large") : Status::More;
      }
      for (size_t i = 0; i < end + 2; ++i) {
        const bool crlf = buf_[i] == '\r' && buf_[i + 1] == '\n';
        if ((buf_[i] == '\r' && !crlf) || (buf_[i] == '\n' && (i == 0 || buf_[i - 1] != '\r'))) {
          return fail("bare CR or LF in the ICAP head");
        }
      }
      const Status st = parseIcapHead(std::string_view(buf_).substr(0, end + 2));
      buf_.erase(0, end + 4);
      if (st == Status::Done) {
        if (!buf_.empty() || !in.empty()) return fail("bytes after the ICAP response");
        buf_.clear();
        return st;
      }
      if (st == Status::Invalid) return st;
    }
    if (buf_.size() < httpHeadBytes_) {
      if (!in.empty()) return fail("ICAP buffer overrun");  // cannot happen: room covers the head
      return Status::More;
    }
    HttpHead head;
    const std::string_view section = std::string_view(buf_).substr(0, httpHeadBytes_);
    if (parseResponseHead(section, "GET", head) != HeadStatus::Complete ||
        head.headBytes != httpHeadBytes_) {
      return fail("encapsulated HTTP head does not end at its Encapsulated offset");
    }
    httpHead_.assign(section);
    const std::string rest = buf_.substr(httpHeadBytes_);
    buf_.clear();
    buf_.shrink_to_fit();
    if (!hasBody_) {
      state_ = State::Done;
      return rest.empty() && in.empty() ? Status::Done : fail("bytes after the ICAP response");
    }
    state_ = State::Body;
    if (const Status st = feed(rest); st != Status::More) return in.empty() ? st : feed(in);
  }
  // Body: ICAP chunks (RFC 3507 4.4.2; an `ieof` extension is an extension like any other).
  size_t used = 0;
  const ChunkedBody::Status st = chunks_.feed(in, used, &body_);
  if (body_.size() > maxBody_) return fail("adapted body larger than the limit");
  if (st == ChunkedBody::Status::Invalid) return fail("malformed ICAP chunk");
  if (st == ChunkedBody::Status::Done) {
    state_ = State::Done;
    return used == in.size() ? Status::Done : fail("bytes after the ICAP response");
  }
  return Status::More;
}

IcapResponseParser::Status IcapResponseParser::finish() {
  if (state_ == State::Done) return Status::Done;
  if (state_ == State::Invalid) return Status::Invalid;
  return fail("ICAP connection closed before the response was complete");
}

bool reframeResponse(std::string_view head, std::string_view body, std::string& out) {
  HttpHead h;
  if (parseResponseHead(head, "GET", h) != HeadStatus::Complete) return false;
  out.clear();
  out.reserve(head.size() + 32 + body.size());
  out.append(h.minorVersion == 1 ? "HTTP/1.1 " : "HTTP/1.0 ").append(std::to_string(h.status));
  out.append(" ").append(h.reason).append("\r\n");
  for (size_t i = 0; i < h.fieldCount; ++i) {
    const HeaderField& f = h.fields[i];
    if (equalsIgnoreCase(f.name, "content-length") || equalsIgnoreCase(f.name, "transfer-encoding")) {
      continue;
    }
    out.append(f.name).append(": ");
    for (char c : f.value) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
    out.append("\r\n");
  }
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  out.append(body);
  return true;
}

bool isBlockPage(std::string_view head) {
  HttpHead h;
  if (parseResponseHead(head, "GET", h) != HeadStatus::Complete || h.status != 403) return false;
  for (size_t i = 0; i < h.fieldCount; ++i) {
    if (equalsIgnoreCase(h.fields[i].name, "x-lbg-sanitizer") &&
        h.fields[i].value.substr(0, 7) == "blocked") {
      return true;
    }
  }
  return false;
}

}  // namespace lbg::proxy
