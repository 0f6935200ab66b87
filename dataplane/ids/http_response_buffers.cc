#include "dataplane/ids/http_response_buffers.h"

#include <algorithm>
#include <cstring>

namespace lbg::ids {

namespace {

using Phase = HttpResponseState::Phase;
using Kind = HttpResponseStep::Kind;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != prefix[i]) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Collects bytes of `in` up to and including the next LF into the state's line (the first kLine
// bytes; the rest are counted, not kept). Returns the bytes consumed; `complete` when the LF
// was among them.
size_t takeLine(HttpResponseState& s, std::span<const uint8_t> in, bool& complete) {
  const auto* lf = static_cast<const uint8_t*>(std::memchr(in.data(), '\n', in.size()));
  const size_t n = lf != nullptr ? size_t(lf - in.data()) + 1 : in.size();
  const size_t keep = std::min(n, HttpResponseState::kLine - s.lineLen);
  std::memcpy(s.line + s.lineLen, in.data(), keep);
  s.lineLen = uint8_t(s.lineLen + keep);
  complete = lf != nullptr;
  return n;
}

// The kept line without its CRLF / LF.
std::string_view lineText(const HttpResponseState& s) {
  std::string_view l(s.line, s.lineLen);
  if (!l.empty() && l.back() == '\n') l.remove_suffix(1);
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return l;
}

// "HTTP/x.y SSS reason": the three digits of the status code.
bool parseStatusLine(HttpResponseState& s, std::string_view l) {
  if (l.size() < 12 || l.substr(0, 5) != "HTTP/") return false;
  const size_t sp = l.find(' ');
  if (sp == std::string_view::npos || sp + 4 > l.size()) return false;
  for (int i = 0; i < 3; ++i) {
    const char c = l[sp + 1 + i];
    if (c < '0' || c > '9') return false;
    s.status[i] = c;
  }
  return sp + 4 == l.size() || l[sp + 4] == ' ';
}

// Content-Encoding: a comma-separated list, applied in order; several fields concatenate.
// "identity" is no coding; "x-gzip" is gzip (RFC 9110 8.4.1.3).
void contentEncoding(HttpResponseState& s, std::string_view value, bool cut) {
  if (cut) s.codingUnsupported = true;  // the rest of the list is unknown
  while (!value.empty()) {
    const size_t comma = value.find(',');
    const std::string_view token = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (token.empty() || (token.size() == 8 && startsWithNoCase(token, "identity"))) continue;
    HttpResponseState::Coding c;
    if ((token.size() == 4 && startsWithNoCase(token, "gzip")) ||
        (token.size() == 6 && startsWithNoCase(token, "x-gzip"))) {
      c = HttpResponseState::Coding::Gzip;
    } else if (token.size() == 7 && startsWithNoCase(token, "deflate")) {
      c = HttpResponseState::Coding::Deflate;
    } else {
      s.codingUnsupported = true;
      continue;
    }
    if (s.codingCount == HttpResponseState::kMaxCodings) {
      s.codingUnsupported = true;
      continue;
    }
    s.codings[s.codingCount++] = c;
  }
}

void headerLine(HttpResponseState& s, std::string_view l, bool cut) {
  if (l.empty() || l.front() == ' ' || l.front() == '\t') return;  // folded: not a field we read
  const size_t colon = l.find(':');
  if (colon == std::string_view::npos) return;
  const std::string_view name = trim(l.substr(0, colon));
  const std::string_view value = trim(l.substr(colon + 1));
  if (name.size() == 14 && startsWithNoCase(name, "content-length")) {
    uint64_t v = 0;
    bool ok = !value.empty() && !cut;
    for (char c : value) {
      if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) {
        ok = false;
        break;
      }
      v = v * 10 + uint64_t(c - '0');
    }
    // Two different lengths are as ambiguous as a malformed one (RFC 9112 6.3).
    if (!ok || (s.haveLength && v != s.length)) s.lengthBad = true;
    s.haveLength = true;
    s.length = v;
  } else if (name.size() == 17 && startsWithNoCase(name, "transfer-encoding")) {
    // "chunked" last (RFC 9112 6.3); a cut value is read as far as kept.
    for (size_t i = 0; i + 7 <= value.size(); ++i)
      if (startsWithNoCase(value.substr(i), "chunked")) s.chunked = true;
  } else if (name.size() == 16 && startsWithNoCase(name, "content-encoding")) {
    contentEncoding(s, value, cut);
  }
}

void startResponse(HttpResponseState& s) {
  s.phase = Phase::StatusLine;
  s.chunked = s.haveLength = s.lengthBad = false;
  s.headBytes = 0;
  s.length = s.remaining = s.bodyBytes = 0;
  s.lineLen = 0;
}

// The header block ended: where the body is, as libhtp decides it.
HttpResponseStep headDone(HttpResponseState& s, size_t used) {
  const int code = (s.status[0] - '0') * 100 + (s.status[1] - '0') * 10 + (s.status[2] - '0');
  if (code >= 100 && code < 200) {  // interim (100 Continue, 103): the final response follows
    startResponse(s);
    return {Kind::NeedMore, used, {}};
  }
  s.headRequest = s.pending > 0 && (s.headMask & 1);
  if (s.pending > 0) {
    --s.pending;
    s.headMask >>= 1;
  }
  if (s.headRequest || code == 204 || code == 304) {
    s.phase = Phase::Done;
  } else if (s.chunked) {
    s.phase = Phase::ChunkSize;
  } else if (s.lengthBad) {
    s.phase = Phase::Broken;
    return {Kind::Broken, used, {}};
  } else if (s.haveLength) {
    s.remaining = s.length;
    s.phase = s.length == 0 ? Phase::Done : Phase::Body;
  } else {
    s.phase = Phase::UntilClose;
  }
  return {Kind::HeadDone, used, {}};
}

HttpResponseStep bodyBytes(HttpResponseState& s, std::span<const uint8_t> in, Phase after) {
  const size_t n = size_t(std::min<uint64_t>(s.remaining, in.size()));
  s.remaining -= n;
  s.bodyBytes += n;
  if (s.remaining == 0) s.phase = after;
  return {Kind::Body, n, in.first(n)};
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

void noteHttpRequest(HttpResponseState& s, bool head) {
  if (s.pending >= HttpResponseState::kMaxPending) return;  // later ones: read as not HEAD
  if (head) s.headMask = uint16_t(s.headMask | (1u << s.pending));
  ++s.pending;
}

bool closeHttpResponse(HttpResponseState& s) {
  if (s.phase != Phase::UntilClose) return false;
  startResponse(s);
  return true;
}

RequestCodings requestContentCodings(std::span<const uint8_t> head) {
  HttpResponseState s;
  std::string_view rest(reinterpret_cast<const char*>(head.data()), head.size());
  for (bool first = true; !rest.empty(); first = false) {
    const size_t lf = rest.find('\n');
    const std::string_view l = trim(rest.substr(0, lf));
    rest = lf == std::string_view::npos ? std::string_view() : rest.substr(lf + 1);
    if (first || l.empty()) continue;  // the request line; the end of the head
    const size_t colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(l.substr(0, colon));
    if (name.size() == 16 && startsWithNoCase(name, "content-encoding"))
      contentEncoding(s, trim(l.substr(colon + 1)), false);
  }
  RequestCodings out;
  std::copy(s.codings, s.codings + s.codingCount, out.codings);
  out.count = s.codingCount;
  out.unsupported = s.codingUnsupported;
  return out;
}

HttpResponseStep stepHttpResponse(HttpResponseState& s, std::span<const uint8_t> in) {
  switch (s.phase) {
    case Phase::Broken:
      return {Kind::NeedMore, in.size(), {}};
    case Phase::Done:
      startResponse(s);
      return {Kind::End, 0, {}};
    case Phase::Body:
      if (in.empty()) break;
      return bodyBytes(s, in, Phase::Done);
    case Phase::ChunkData:
      if (in.empty()) break;
      return bodyBytes(s, in, Phase::ChunkDataEnd);
    case Phase::UntilClose:
      if (in.empty()) break;
      s.bodyBytes += in.size();
      return {Kind::Body, in.size(), in};
    case Phase::StatusLine:
    case Phase::Headers:
    case Phase::ChunkSize:
    case Phase::ChunkDataEnd:
    case Phase::Trailers: {
      if (in.empty()) break;
      bool complete;
      const size_t used = takeLine(s, in, complete);
      const bool inHead = s.phase == Phase::StatusLine || s.phase == Phase::Headers;
      if (inHead) {
        s.headBytes += uint32_t(std::min<size_t>(used, HttpResponseState::kMaxHead + 1));
        if (s.headBytes > HttpResponseState::kMaxHead) {
          s.phase = Phase::Broken;
          return {Kind::Broken, used, {}};
        }
      }
      if (!complete) {
        // A line longer than kept: only a chunk extension or a long field may be; the status
        // line and a chunk-data CRLF must fit.
        if (s.phase == Phase::ChunkDataEnd && s.lineLen > 2) {
          s.phase = Phase::Broken;
          return {Kind::Broken, used, {}};
        }
        return {Kind::NeedMore, used, {}};
      }
      const std::string_view l = lineText(s);
      const bool wasCut =
          s.lineLen == HttpResponseState::kLine && s.line[HttpResponseState::kLine - 1] != '\n';
      s.lineLen = 0;
      switch (s.phase) {
        case Phase::StatusLine:
          if (l.empty()) {  // libhtp skips empty lines before the status line
            s.headBytes = 0;
            return {Kind::NeedMore, used, {}};
          }
          if (!parseStatusLine(s, l)) {
            s.phase = Phase::Broken;
            return {Kind::Broken, used, {}};
          }
          s.phase = Phase::Headers;
          // Kept past the End step (the body's scan reads them), as the status code is.
          s.codingCount = 0;
          s.codingUnsupported = false;
          return {Kind::NeedMore, used, {}};
        case Phase::Headers:
          if (l.empty()) return headDone(s, used);
          headerLine(s, l, wasCut);
          return {Kind::NeedMore, used, {}};
        case Phase::ChunkSize: {
          uint64_t size = 0;
          size_t digits = 0;
          std::string_view t = trim(l);
          for (; digits < t.size() && hexValue(t[digits]) >= 0; ++digits) {
            if (digits == 15) break;
            size = size << 4 | uint64_t(hexValue(t[digits]));
          }
          const std::string_view rest = trim(t.substr(digits));
          if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
            s.phase = Phase::Broken;
            return {Kind::Broken, used, {}};
          }
          if (size == 0) {
            s.phase = Phase::Trailers;
          } else {
            s.remaining = size;
            s.phase = Phase::ChunkData;
          }
          return {Kind::NeedMore, used, {}};
        }
        case Phase::ChunkDataEnd:
          if (!l.empty()) {
            s.phase = Phase::Broken;
            return {Kind::Broken, used, {}};
          }
          s.phase = Phase::ChunkSize;
          return {Kind::NeedMore, used, {}};
        case Phase::Trailers:
          if (!l.empty()) return {Kind::NeedMore, used, {}};
          startResponse(s);
          return {Kind::End, used, {}};
        default:
          break;
      }
      break;
    }
  }
  return {Kind::NeedMore, 0, {}};
}

}  // namespace lbg::ids
