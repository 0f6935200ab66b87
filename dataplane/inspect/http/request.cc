#include "dataplane/inspect/http/request.h"

#include <array>
#include <cstring>

#include "dataplane/inspect/hostname.h"
#include "dataplane/inspect/http/tchar.h"

namespace lbg::inspect {
namespace {

Status fail(HttpRequestHead& out, HttpReason r) {
  out.reason = r;
  return Status::Invalid;
}

uint8_t lower(uint8_t c) {
  return c >= 'A' && c <= 'Z' ? uint8_t(c | 0x20) : c;
}

bool equalsNoCase(const uint8_t* a, size_t n, std::string_view lit) {
  if (n != lit.size()) return false;
  for (size_t i = 0; i < n; ++i) {
    if (lower(a[i]) != uint8_t(lit[i])) return false;
  }
  return true;
}

bool isDottedQuad(const uint8_t* p, size_t n) {
  int parts = 0;
  size_t i = 0;
  while (i < n) {
    size_t digits = 0;
    unsigned v = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 4) {
      v = v * 10 + (p[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3 || v > 255) return false;
    ++parts;
    if (i == n) break;
    if (p[i] != '.' || parts == 4) return false;
    ++i;
    if (i == n) return false;
  }
  return parts == 4;
}

// An authority as it appears in Host or an absolute URI: uri-host [":" port]. No userinfo, no
// percent-encoding, no IPvFuture: whatever could be read two ways is refused.
struct Authority {
  const uint8_t* host = nullptr;
  size_t hostLen = 0;
  bool hasPort = false;
  uint16_t port = 0;
};

// Longest IP-literal we take, brackets included: 45 characters of IPv6 and its brackets, with room.
constexpr size_t kMaxIpLiteral = 64;

bool parseAuthority(const uint8_t* p, size_t n, Authority& a) {
  size_t i = 0;
  if (n > 0 && p[0] == '[') {
    // RFC 3986 IP-literal: an IPv6 address is at most 45 characters (IPv4 tail included), so a
    // longer one is not an address, and its length stays far inside HttpRequestHead::host.
    while (i < n && p[i] != ']' && i <= kMaxIpLiteral) ++i;
    if (i == n || i < 3 || p[i] != ']') return false;  // "[]" and "[:]" are not addresses
    for (size_t k = 1; k < i; ++k) {
      const uint8_t c = p[k];
      const bool hex = (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f');
      if (!hex && c != ':' && c != '.') return false;
    }
    ++i;  // past ']'
  } else {
    while (i < n && p[i] != ':') ++i;
    if (i == 0) return false;
    if (!isHostname(p, i, true) && !isDottedQuad(p, i)) return false;
  }
  a.host = p;
  a.hostLen = i;
  if (i == n) return true;
  if (p[i] != ':') return false;
  ++i;
  if (i == n || n - i > 5) return false;  // "host:" with an empty port is refused too
  uint32_t port = 0;
  for (; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
    port = port * 10 + (p[i] - '0');
  }
  if (port == 0 || port > 65535) return false;
  a.hasPort = true;
  a.port = uint16_t(port);
  return true;
}

bool sameAuthority(const Authority& uri, uint16_t uriDefaultPort, const Authority& host) {
  if (uri.hostLen != host.hostLen) return false;
  for (size_t i = 0; i < uri.hostLen; ++i) {
    if (lower(uri.host[i]) != lower(host.host[i])) return false;
  }
  const uint16_t a = uri.hasPort ? uri.port : uriDefaultPort;
  const uint16_t b = host.hasPort ? host.port : uriDefaultPort;
  return a == b;
}

// The framing fields, as the request stream follower needs them. Values are trimmed of optional
// whitespace; Content-Length must be plain digits (no list, no sign), Transfer-Encoding exactly
// "chunked" (any other coding or a list is framing we do not follow).
void noteFraming(const uint8_t* line, size_t colon, size_t len, HttpRequestHead& out) {
  size_t b = colon + 1, e = len;
  while (b < e && (line[b] == ' ' || line[b] == '\t')) ++b;
  while (e > b && (line[e - 1] == ' ' || line[e - 1] == '\t')) --e;
  if (equalsNoCase(line, colon, "content-length")) {
    uint64_t v = 0;
    bool ok = b < e && e - b <= 15;
    for (size_t k = b; ok && k < e; ++k) {
      if (line[k] < '0' || line[k] > '9') ok = false;
      v = v * 10 + (line[k] - '0');
    }
    if (!ok || v > kMaxHttpContentLength || (out.hasContentLength && v != out.contentLength)) {
      out.contentLengthBad = true;
    }
    out.hasContentLength = true;
    out.contentLength = v;
  } else if (equalsNoCase(line, colon, "transfer-encoding")) {
    out.chunkedOnly = !out.hasTransferEncoding && equalsNoCase(line + b, e - b, "chunked");
    out.hasTransferEncoding = true;
  } else if (equalsNoCase(line, colon, "upgrade")) {
    out.hasUpgrade = true;
  }
}

}  // namespace

std::string_view toString(HttpReason r) {
  switch (r) {
#define LBG_HTTP_REASON_TEXT_(id, text) \
  case HttpReason::id:                  \
    return text;
    LBG_HTTP_REASONS(LBG_HTTP_REASON_TEXT_)
#undef LBG_HTTP_REASON_TEXT_
  }
  return "http-unknown";
}

Status parseHttpRequestHead(std::span<const uint8_t> stream, HttpRequestHead& out) {
  std::memset(static_cast<void*>(&out), 0, sizeof(out));
  const uint8_t* s = stream.data();
  const size_t n = stream.size() < kMaxHttpHeadLength ? stream.size() : kMaxHttpHeadLength;

  // The method is judged as it arrives: garbage and CONNECT are refused before the line ends.
  size_t i = 0;
  while (i < n && s[i] != ' ') {
    if (!isTchar(s[i]) || i >= sizeof(out.method) - 1) return fail(out, HttpReason::BadMethod);
    ++i;
  }
  if (i == n)
    return stream.size() >= kMaxHttpHeadLength ? fail(out, HttpReason::TooLarge) : Status::NeedMore;
  if (i == 0) return fail(out, HttpReason::BadMethod);
  // Methods are case-sensitive, but a lenient server could still take "connect" for CONNECT.
  if (equalsNoCase(s, i, "connect")) return fail(out, HttpReason::Connect);
  std::memcpy(out.method, s, i);
  out.methodLen = uint8_t(i);

  // Split the head into lines; only complete lines (ending in CRLF) are judged.
  Authority uri, host;
  uint16_t uriDefaultPort = 0;
  bool sawHost = false;
  size_t lineStart = 0;
  bool requestLine = true;
  for (size_t p = 0; p < n; ++p) {
    if (s[p] == '\n') return fail(out, HttpReason::BadLineEnding);
    if (s[p] != '\r') continue;
    if (p + 1 == n) break;  // CR seen, LF not yet
    if (s[p + 1] != '\n') return fail(out, HttpReason::BadLineEnding);
    const uint8_t* line = s + lineStart;
    const size_t len = p - lineStart;
    lineStart = p + 2;
    ++p;

    if (requestLine) {
      requestLine = false;
      // method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
      const uint8_t* target = line + out.methodLen + 1;
      size_t tlen = 0;
      while (out.methodLen + 1 + tlen < len && target[tlen] != ' ') {
        if (target[tlen] <= 0x20 || target[tlen] >= 0x7f) return fail(out, HttpReason::BadTarget);
        ++tlen;
      }
      if (tlen == 0) return fail(out, HttpReason::BadTarget);
      const size_t vpos = out.methodLen + 1 + tlen + 1;
      if (vpos + 8 != len || std::memcmp(line + vpos, "HTTP/1.", 7) != 0 ||
          (line[vpos + 7] != '0' && line[vpos + 7] != '1')) {
        return fail(out, HttpReason::BadVersion);
      }
      out.versionMinor = uint8_t(line[vpos + 7] - '0');
      if (target[0] == '/') {
        // origin-form
      } else if (tlen == 1 && target[0] == '*') {
        if (!equalsNoCase(line, out.methodLen, "options")) return fail(out, HttpReason::BadTarget);
      } else {
        // absolute-form: scheme "://" authority [path-abempty] [? query]
        size_t k = 0;
        while (k < tlen && target[k] != ':' && target[k] != '/') ++k;
        if (k == tlen || target[k] != ':' || tlen - k < 3 || target[k + 1] != '/' ||
            target[k + 2] != '/') {
          return fail(out, HttpReason::BadTarget);
        }
        if (equalsNoCase(target, k, "http")) {
          uriDefaultPort = 80;
        } else if (equalsNoCase(target, k, "https")) {
          uriDefaultPort = 443;
        } else {
          return fail(out, HttpReason::BadScheme);
        }
        const uint8_t* auth = target + k + 3;
        size_t alen = 0;
        while (k + 3 + alen < tlen && auth[alen] != '/' && auth[alen] != '?' && auth[alen] != '#') {
          ++alen;
        }
        if (alen == 0 || !parseAuthority(auth, alen, uri)) return fail(out, HttpReason::BadHost);
        out.absoluteForm = true;
      }
      continue;
    }

    if (len == 0) {
      // End of the head.
      out.headLength = uint16_t(lineStart);
      // RFC 9112 §3.2.2: with an absolute URI the server must use its authority and ignore Host;
      // we would judge Host, so a Host that differs is refused, but the head still names the
      // URI's host, the one the server uses (libhtp's request_hostname, Suricata's http.host):
      // the IDS scans what it would reach.
      const bool mismatch = sawHost && out.absoluteForm && !sameAuthority(uri, uriDefaultPort, host);
      if (!sawHost) {
        if (out.versionMinor == 1) return fail(out, HttpReason::MissingHost);
        if (!out.absoluteForm) return Status::Done;  // HTTP/1.0, no name at all
      }
      if (!sawHost || mismatch) host = uri;
      static_assert(kMaxIpLiteral < sizeof(out.host) && kMaxHostnameLength + 1 < sizeof(out.host));
      std::memcpy(out.host, host.host, host.hostLen);
      out.hostLen = uint16_t(host.hostLen);
      out.hasHost = true;
      out.port = host.hasPort ? host.port : (uri.hasPort ? uri.port : 0);
      return mismatch ? fail(out, HttpReason::HostMismatch) : Status::Done;
    }
    // RFC 9112 §5.2: a continuation line may glue itself onto any header, Host included.
    if (line[0] == ' ' || line[0] == '\t') return fail(out, HttpReason::ObsFold);
    size_t colon = 0;
    while (colon < len && line[colon] != ':') {
      // Whitespace before the colon is a smuggling classic (RFC 9112 §5.1: MUST reject).
      if (!isTchar(line[colon])) return fail(out, HttpReason::BadHeader);
      ++colon;
    }
    if (colon == 0 || colon == len) return fail(out, HttpReason::BadHeader);
    for (size_t k = colon + 1; k < len; ++k) {
      const uint8_t c = line[k];
      if ((c < 0x20 && c != '\t') || c == 0x7f) return fail(out, HttpReason::BadHeader);
    }
    if (!equalsNoCase(line, colon, "host")) {
      noteFraming(line, colon, len, out);
      continue;
    }
    if (sawHost) return fail(out, HttpReason::MultipleHosts);
    sawHost = true;
    size_t b = colon + 1, e = len;
    while (b < e && (line[b] == ' ' || line[b] == '\t')) ++b;
    while (e > b && (line[e - 1] == ' ' || line[e - 1] == '\t')) --e;
    if (b == e) return fail(out, HttpReason::EmptyHost);
    if (!parseAuthority(line + b, e - b, host) || host.hostLen >= sizeof(out.host)) {
      return fail(out, HttpReason::BadHost);
    }
  }
  if (stream.size() >= kMaxHttpHeadLength) return fail(out, HttpReason::TooLarge);
  return Status::NeedMore;
}

}  // namespace lbg::inspect
