#include "dataplane/proxy/http_head.h"

#include <charconv>

#include "dataplane/inspect/http/tchar.h"

namespace lbg::proxy {

namespace {

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!inspect::isTchar(c)) return false;
  }
  return true;
}

// field-content characters: VCHAR, SP, HTAB and obs-text; never CR, LF, NUL or other controls.
bool isFieldChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims whitespace, and the CRLF of a fold that ends a value.
std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The end of the head (index just past CRLFCRLF), 0 if not there yet, npos on a bare CR or LF.
size_t findHeadEnd(std::string_view in) {
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '\n') return std::string_view::npos;  // LF without CR
    if (c != '\r') continue;
    if (i + 1 >= in.size()) return 0;
    if (in[i + 1] != '\n') return std::string_view::npos;  // CR without LF
    if (i + 3 < in.size() && in[i + 2] == '\r' && in[i + 3] == '\n') return i + 4;
    if (i + 2 < in.size() && in[i + 2] == '\r' && i + 3 >= in.size()) return 0;
    ++i;
  }
  return 0;
}

HeadStatus invalid(HttpHead& out, const char* why) {
  out.error = why;
  return HeadStatus::Invalid;
}

bool parseVersion(std::string_view v, int& minor) {
  if (v == "HTTP/1.1") {
    minor = 1;
    return true;
  }
  if (v == "HTTP/1.0") {
    minor = 0;
    return true;
  }
  return false;
}

// Does a comma-separated list contain `token` (case-insensitively)?
bool listHas(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (equalsIgnoreCase(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Header lines after the start line; fills fields and framing.
HeadStatus parseFields(std::string_view lines, bool allowFold, HttpHead& out) {
  out.fieldCount = 0;
  bool haveLength = false;
  bool haveTe = false;
  bool keepAlive = false;
  while (!lines.empty()) {
    size_t eol = lines.find("\r\n");
    if (eol == std::string_view::npos) return invalid(out, "header line without CRLF");
    std::string_view line = lines.substr(0, eol);
    // obs-fold: the field's value goes on over lines that start with whitespace.
    while (eol + 2 < lines.size() && (lines[eol + 2] == ' ' || lines[eol + 2] == '\t')) {
      if (!allowFold) return invalid(out, "folded header line");
      const size_t next = lines.find("\r\n", eol + 2);
      if (next == std::string_view::npos) return invalid(out, "header line without CRLF");
      eol = next;
      line = lines.substr(0, eol);
    }
    lines.remove_prefix(eol + 2);
    if (line.empty()) return invalid(out, "empty header line");
    if (line.front() == ' ' || line.front() == '\t') return invalid(out, "folded first header");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return invalid(out, "header line without colon");
    const std::string_view name = line.substr(0, colon);
    if (!isToken(name)) return invalid(out, "header name is not a token");
    const std::string_view raw = line.substr(colon + 1);
    for (unsigned char c : raw) {
      if (!isFieldChar(c) && c != '\r' && c != '\n') return invalid(out, "control character in header");
    }
    const std::string_view value = trim(raw);
    if (out.fieldCount == HttpHead::kMaxFields) return invalid(out, "too many header fields");
    out.fields[out.fieldCount++] = {name, value};

    if (equalsIgnoreCase(name, "content-length")) {
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || value.size() > 15 || ec != std::errc() ||
          end != value.data() + value.size() || value.front() == '+' || value.front() == '-') {
        return invalid(out, "bad Content-Length");
      }
      if (haveLength && n != out.contentLength) return invalid(out, "conflicting Content-Length");
      haveLength = true;
      out.contentLength = n;
    } else if (equalsIgnoreCase(name, "transfer-encoding")) {
      // Only "chunked" alone: anything else is how requests are smuggled past a proxy.
      if (haveTe || !equalsIgnoreCase(value, "chunked")) {
        return invalid(out, "unsupported Transfer-Encoding");
      }
      haveTe = true;
    } else if (equalsIgnoreCase(name, "connection")) {
      if (listHas(value, "close")) out.connectionClose = true;
      if (listHas(value, "keep-alive")) keepAlive = true;
    } else if (equalsIgnoreCase(name, "expect")) {
      if (equalsIgnoreCase(value, "100-continue")) out.expectContinue = true;
      else return invalid(out, "unsupported Expect");
    }
  }
  if (haveLength && haveTe) return invalid(out, "both Content-Length and Transfer-Encoding");
  if (haveTe) out.body = BodyKind::Chunked;
  else if (haveLength) out.body = out.contentLength ? BodyKind::Length : BodyKind::None;
  if (out.minorVersion == 0 && !keepAlive) out.connectionClose = true;
  return HeadStatus::Complete;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

HeadStatus parseRequestHead(std::string_view in, HttpHead& out) {
  out = HttpHead{};
  const size_t end = findHeadEnd(in.substr(0, std::min(in.size(), HttpHead::kMaxBytes)));
  if (end == std::string_view::npos) return invalid(out, "bare CR or LF");
  if (end == 0) {
    return in.size() >= HttpHead::kMaxBytes ? invalid(out, "request head too large")
                                            : HeadStatus::Incomplete;
  }
  out.headBytes = end;
  const std::string_view head = in.substr(0, end - 2);  // keeps the last field's CRLF
  const size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return invalid(out, "malformed request line");
  }
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!isToken(out.method)) return invalid(out, "method is not a token");
  if (out.target.empty()) return invalid(out, "empty request target");
  for (unsigned char c : out.target) {
    if (c <= 0x20 || c >= 0x7f) return invalid(out, "bad character in request target");
  }
  if (!parseVersion(line.substr(sp2 + 1), out.minorVersion)) return invalid(out, "not HTTP/1.x");
  // Folding in requests is kept (and later unfolded) so that a folded copy of a tenant header is
  // seen, and removed, like any other.
  const HeadStatus st = parseFields(head.substr(eol + 2), true, out);
  if (st != HeadStatus::Complete) return st;
  size_t hosts = 0;
  for (size_t i = 0; i < out.fieldCount; ++i) hosts += equalsIgnoreCase(out.fields[i].name, "host");
  if (out.minorVersion == 1 && hosts != 1) return invalid(out, "HTTP/1.1 request needs one Host");
  if (hosts > 1) return invalid(out, "more than one Host");
  return HeadStatus::Complete;
}

HeadStatus parseResponseHead(std::string_view in, std::string_view method, HttpHead& out) {
  out = HttpHead{};
  const size_t end = findHeadEnd(in.substr(0, std::min(in.size(), HttpHead::kMaxBytes)));
  if (end == std::string_view::npos) return invalid(out, "bare CR or LF");
  if (end == 0) {
    return in.size() >= HttpHead::kMaxBytes ? invalid(out, "response head too large")
                                            : HeadStatus::Incomplete;
  }
  out.headBytes = end;
  const std::string_view head = in.substr(0, end - 2);
  const size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  // HTTP/1.1 SP 3DIGIT SP reason
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    return invalid(out, "malformed status line");
  }
  if (!parseVersion(line.substr(0, 8), out.minorVersion)) return invalid(out, "not HTTP/1.x");
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return invalid(out, "bad status code");
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return invalid(out, "bad status code");
  out.status = status;
  out.reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (unsigned char c : out.reason) {
    if (!isFieldChar(c)) return invalid(out, "control character in reason");
  }
  const HeadStatus st = parseFields(head.substr(eol + 2), false, out);
  if (st != HeadStatus::Complete) return st;
  if (out.expectContinue) return invalid(out, "Expect in a response");
  const bool noBody = method == "HEAD" || status < 200 || status == 204 || status == 304;
  if (noBody) {
    out.body = BodyKind::None;
  } else if (out.body == BodyKind::None && out.contentLength == 0) {
    bool haveLength = false;
    for (size_t i = 0; i < out.fieldCount; ++i) {
      haveLength = haveLength || equalsIgnoreCase(out.fields[i].name, "content-length");
    }
    if (!haveLength) {
      out.body = BodyKind::UntilClose;
      out.connectionClose = true;
    }
  }
  return HeadStatus::Complete;
}

}  // namespace lbg::proxy
