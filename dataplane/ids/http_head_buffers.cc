#include "dataplane/ids/http_head_buffers.h"

#include <algorithm>
#include <cstring>

#include "dataplane/ids/http_uri.h"
#include "dataplane/inspect/http/tchar.h"

namespace lbg::ids {

namespace {

bool isOws(uint8_t c) { return c == ' ' || c == '\t'; }

uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? uint8_t(c | 0x20) : c; }

bool sameName(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) {
  if (alen != blen) return false;
  for (size_t i = 0; i < alen; ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool isExactly(std::span<const uint8_t> a, std::string_view b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), b.size()) == 0;
}

bool isName(const uint8_t* a, size_t alen, std::string_view lowerName) {
  return sameName(a, alen, reinterpret_cast<const uint8_t*>(lowerName.data()), lowerName.size());
}

// Appends to a bounded buffer; what does not fit is cut (cannot happen within kMaxHead).
struct Writer {
  uint8_t* buf;
  size_t cap;
  size_t len = 0;
  void put(const uint8_t* p, size_t n) {
    n = std::min(n, cap - len);
    std::memcpy(buf + len, p, n);
    len += n;
  }
  void put(std::string_view s) { put(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
  std::span<const uint8_t> bytes() const { return {buf, len}; }
};

// The values of one name joined with ", ", as libhtp merges a repeated field.
void putValues(Writer& w, const uint8_t* head, const HttpHeadScratch& s, int16_t line) {
  for (bool first = true; line >= 0; line = s.lines[line].next, first = false) {
    if (!first) w.put(", ");
    w.put(head + s.lines[line].valueOff, s.lines[line].valueLen);
  }
}

}  // namespace

size_t fillHttpHeadBuffers(std::span<const uint8_t> in, HttpHeadScratch& s, BufferSet& out,
                           HttpHeadKind kind) {
  const bool request = kind == HttpHeadKind::Request;
  // The field http.cookie reads, which http.header leaves out.
  const std::string_view cookieName = request ? "cookie" : "set-cookie";
  const uint8_t* h = in.data();
  const size_t n = std::min(in.size(), HttpHeadScratch::kMaxHead);
  // The end of the line that starts at `from` (its CRLF's CR, or a bare LF: libhtp and every
  // browser end a line there too, so a server's bare-LF head is a head, not a way around the
  // response's header rules), with `next` where the line after it starts; n when none.
  auto lineEnd = [&](size_t from, size_t& next) -> size_t {
    const void* lf = from < n ? std::memchr(h + from, '\n', n - from) : nullptr;
    if (lf == nullptr) return n;
    const size_t i = size_t(static_cast<const uint8_t*>(lf) - h);
    next = i + 1;
    return i > from && h[i - 1] == '\r' ? i - 1 : i;
  };
  size_t pos = 0, next = 0;
  for (;;) {  // empty lines before the first (RFC 9112 §2.2)
    const size_t end = lineEnd(pos, next);
    if (end == n || end != pos) break;  // no line end left, or a line that is not empty
    pos = next;
  }
  const size_t requestEnd = lineEnd(pos, next);
  if (requestEnd == n) return 0;
  const std::span<const uint8_t> requestLine{h + pos, requestEnd - pos};

  size_t lineCount = 0, nameCount = 0;
  size_t at = next;
  for (;;) {
    const size_t end = lineEnd(at, next);
    if (end == n) return 0;  // no empty line: not a complete head
    if (end == at) {
      at = next;
      break;
    }
    const uint8_t* colon = static_cast<const uint8_t*>(std::memchr(h + at, ':', end - at));
    if (colon != nullptr && lineCount < HttpHeadScratch::kMaxLines) {
      size_t v = size_t(colon - h) + 1, ve = end;
      while (v < ve && isOws(h[v])) ++v;
      while (ve > v && isOws(h[ve - 1])) --ve;
      HttpHeadScratch::Line& l = s.lines[lineCount];
      l = {uint16_t(at), uint16_t(colon - (h + at)), uint16_t(v), uint16_t(ve - v), -1};
      // Link it after the earlier lines of its name (kMaxNames distinct names at most).
      for (size_t d = 0; d < nameCount; ++d) {
        const HttpHeadScratch::Line& f = s.lines[s.distinct[d].first];
        if (sameName(h + f.nameOff, f.nameLen, h + l.nameOff, l.nameLen)) {
          s.lines[s.distinct[d].last].next = int16_t(lineCount);
          s.distinct[d].last = int16_t(lineCount);
          l.nameLen |= 0x8000;  // marked: merged into an earlier line
          break;
        }
      }
      if (!(l.nameLen & 0x8000) && nameCount < HttpHeadScratch::kMaxNames) {
        s.distinct[nameCount++] = {int16_t(lineCount), int16_t(lineCount)};
      }
      ++lineCount;
    }
    at = next;
  }

  // http.header.raw: the field lines as sent, with the empty line that ends them.
  const size_t fieldsStart = size_t(requestLine.data() + requestLine.size() - h);
  {
    size_t rawFrom = fieldsStart;  // past the first line's line end
    while (rawFrom < at && h[rawFrom] != '\n') ++rawFrom;
    ++rawFrom;
    if (rawFrom <= at)
      out.set(Buffer::HttpHeaderRaw, std::span<const uint8_t>{h + rawFrom, at - rawFrom});
  }

  // http.header and http.header_names, in first-seen order. A line of a name beyond kMaxNames
  // is neither merged nor a merge target: it keeps its own line (its `next` stays -1).
  Writer header{s.header, sizeof s.header};
  Writer names{s.names, sizeof s.names};
  // http.start: Suricata writes every field of libhtp's table (merged, Cookie included).
  Writer start{s.start, sizeof s.start};
  start.put(requestLine.data(), requestLine.size());
  start.put("\r\n");
  names.put("\r\n");
  for (size_t i = 0; i < lineCount; ++i) {
    HttpHeadScratch::Line& l = s.lines[i];
    if (l.nameLen & 0x8000) continue;  // printed with the first line of its name
    const uint8_t* name = h + l.nameOff;
    names.put(name, l.nameLen);
    names.put("\r\n");
    start.put(name, l.nameLen);
    start.put(": ");
    putValues(start, h, s, int16_t(i));
    start.put("\r\n");
    if (isName(name, l.nameLen, cookieName)) continue;  // Suricata keeps it for http.cookie only
    header.put(name, l.nameLen);
    header.put(": ");
    putValues(header, h, s, int16_t(i));
    header.put("\r\n");
  }
  names.put("\r\n");
  start.put("\r\n");
  out.set(Buffer::HttpHeader, header.bytes());
  out.set(Buffer::HttpHeaderNames, names.bytes());
  out.set(Buffer::HttpStart, start.bytes());

  // The single-field buffers, and the direction whose head has them (both: 0).
  struct Single {
    std::string_view name;
    Buffer buffer;
    int only;  // 1 request, 2 response, 0 both
  };
  const Single kSingle[HttpHeadScratch::kSingleFields] = {
      {"user-agent", Buffer::HttpUserAgent, 1},   {cookieName, Buffer::HttpCookie, 0},
      {"content-type", Buffer::HttpContentType, 0}, {"referer", Buffer::HttpReferer, 1},
      {"accept", Buffer::HttpAccept, 1},          {"accept-encoding", Buffer::HttpAcceptEnc, 1},
      {"connection", Buffer::HttpConnection, 0},  {"content-length", Buffer::HttpContentLen, 0},
      {"location", Buffer::HttpLocation, 2},      {"server", Buffer::HttpServer, 2}};
  // Every line is looked at (not only the merged names), so that a field placed after
  // kMaxNames others still fills its buffer.
  for (size_t k = 0; k < HttpHeadScratch::kSingleFields; ++k) {
    if (kSingle[k].only == (request ? 2 : 1)) continue;
    Writer w{s.merged[k], sizeof s.merged[k]};
    int found = 0;
    const HttpHeadScratch::Line* only = nullptr;
    for (size_t i = 0; i < lineCount; ++i) {
      const HttpHeadScratch::Line& l = s.lines[i];
      if (!isName(h + l.nameOff, l.nameLen & 0x7fff, kSingle[k].name)) continue;
      if (found++ > 0) w.put(", ");
      w.put(h + l.valueOff, l.valueLen);
      only = &l;
    }
    if (found == 1) {
      out.set(kSingle[k].buffer, std::span<const uint8_t>{h + only->valueOff, only->valueLen});
    } else if (found > 1) {
      out.set(kSingle[k].buffer, w.bytes());
    }
  }

  // The version token: a request line's third, a status line's first.
  const auto firstSp = std::find(requestLine.begin(), requestLine.end(), uint8_t(' '));
  if (!request) {
    // Status line: HTTP-version SP status-code SP reason-phrase.
    out.set(Buffer::HttpResponseLine, requestLine);
    out.set(Buffer::HttpProtocol, std::span<const uint8_t>{requestLine.begin(), firstSp});
    if (firstSp != requestLine.end()) {
      const auto sp2 = std::find(firstSp + 1, requestLine.end(), uint8_t(' '));
      if (sp2 != requestLine.end())
        out.set(Buffer::HttpStatMsg, std::span<const uint8_t>{sp2 + 1, requestLine.end()});
    }
    return at;
  }
  // Request line: METHOD SP request-target SP HTTP-version.
  out.set(Buffer::HttpRequestLine, requestLine);
  const auto sp1 = firstSp;
  if (sp1 != requestLine.end()) {
    const auto sp2 = std::find(sp1 + 1, requestLine.end(), uint8_t(' '));
    const std::span<const uint8_t> method{requestLine.begin(), sp1};
    const std::span<const uint8_t> target{sp1 + 1, sp2};
    out.set(Buffer::HttpMethod, method);
    out.set(Buffer::HttpUriRaw, target);
    // libhtp reads CONNECT's target as an authority (case-sensitive method name).
    const bool connect = isExactly(method, "CONNECT");
    out.set(Buffer::HttpUri,
            std::span<const uint8_t>{s.uri, normaliseHttpUri(target, connect, s.uri)});
    if (sp2 != requestLine.end())
      out.set(Buffer::HttpProtocol, std::span<const uint8_t>{sp2 + 1, requestLine.end()});
  }
  return at;
}

RequestLineStart httpRequestLineStart(std::span<const uint8_t> b) {
  // A method is any token (RFC 9110). Servers differ on case (nginx refuses `get`, Go's net/http
  // serves it as method "get"), so a lowercase method is HTTP to the IDS too, as to Suricata,
  // whose protocol detection matches methods without case.
  size_t i = 0;
  while (i < b.size() && i < 24 && inspect::isTchar(b[i])) ++i;
  if (i == b.size()) return RequestLineStart::NeedMore;  // a method (of up to 24) so far
  if (i == 0 || i >= b.size() || b[i] != ' ') return RequestLineStart::No;
  size_t j = i + 1;
  while (j < b.size() && b[j] != ' ' && b[j] != '\r' && b[j] != '\n') ++j;
  if (j == b.size()) return RequestLineStart::NeedMore;
  if (j == i + 1 || b[j] != ' ') return RequestLineStart::No;
  static constexpr std::string_view kVersion = "HTTP/";
  for (size_t k = 0; k < kVersion.size(); ++k) {
    if (j + 1 + k == b.size()) return RequestLineStart::NeedMore;
    if (b[j + 1 + k] != uint8_t(kVersion[k])) return RequestLineStart::No;
  }
  const size_t digit = j + 1 + kVersion.size();
  if (digit == b.size()) return RequestLineStart::NeedMore;
  return b[digit] >= '0' && b[digit] <= '9' ? RequestLineStart::Yes : RequestLineStart::No;
}

bool startsWithHttpRequestLine(std::span<const uint8_t> b) {
  return httpRequestLineStart(b) == RequestLineStart::Yes;
}

}  // namespace lbg::ids
