#include "dataplane/inspect/http/request_stream.h"

namespace lbg::inspect {
namespace {

// 12 hex digits = 48 bits, what `left` holds.
constexpr uint8_t kMaxChunkDigits = 12;

int hexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void enter(HttpRequestStream& s, HttpStreamPhase p) {
  s.phase = uint8_t(p);
  s.aux = 0;
}

HttpStreamStep invalid(size_t at, HttpStreamReason r) {
  return {at, Status::Invalid, r};
}

}  // namespace

std::string_view toString(HttpStreamReason r) {
  switch (r) {
#define LBG_HTTP_STREAM_REASON_TEXT_(id, text) \
  case HttpStreamReason::id:                   \
    return text;
    LBG_HTTP_STREAM_REASONS(LBG_HTTP_STREAM_REASON_TEXT_)
#undef LBG_HTTP_STREAM_REASON_TEXT_
  }
  return "http-unknown";
}

bool httpStreamStartBody(HttpRequestStream& s, const HttpRequestHead& head, HttpStreamReason& why) {
  s = HttpRequestStream{};
  why = HttpStreamReason::None;
  if (head.hasUpgrade) {
    // After a 101 the client speaks another protocol; a server that refuses the upgrade reads
    // the same bytes as HTTP. Which one happens is the server's choice: not followed.
    why = HttpStreamReason::Upgrade;
  } else if (head.contentLengthBad) {
    why = HttpStreamReason::BadContentLength;
  } else if (head.hasTransferEncoding && head.hasContentLength) {
    why = HttpStreamReason::LengthAndChunked;
  } else if (head.hasTransferEncoding && (!head.chunkedOnly || head.versionMinor == 0)) {
    why = HttpStreamReason::BadTransferEncoding;
  }
  if (why != HttpStreamReason::None) return false;
  if (head.hasTransferEncoding) {
    enter(s, HttpStreamPhase::ChunkSize);
  } else if (head.hasContentLength && head.contentLength > 0) {
    enter(s, HttpStreamPhase::Body);
    s.left = head.contentLength;
  }
  return true;
}

HttpStreamStep httpStreamAdvance(HttpRequestStream& s, std::span<const uint8_t> data,
                                 HttpBodySink* sink) {
  const uint8_t* p = data.data();
  const size_t n = data.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    switch (s.at()) {
      case HttpStreamPhase::Head:
        if (c != '\r' && c != '\n') return {i, Status::Done, HttpStreamReason::None};
        ++i;
        break;
      case HttpStreamPhase::Body: {
        const uint64_t take = s.left < n - i ? uint64_t(s.left) : uint64_t(n - i);
        s.left = s.left - take;
        if (sink != nullptr) sink->body(data.subspan(i, size_t(take)));
        i += size_t(take);
        if (s.left == 0) enter(s, HttpStreamPhase::Head);
        break;
      }
      case HttpStreamPhase::ChunkSize: {
        const int h = hexValue(c);
        if (h >= 0) {
          if (s.aux >= kMaxChunkDigits) return invalid(i, HttpStreamReason::BadChunk);
          s.left = (uint64_t(s.left) << 4) | uint64_t(h);
          s.aux = s.aux + 1;
          ++i;
        } else if (s.aux == 0 || (c != ';' && c != '\r')) {
          return invalid(i, HttpStreamReason::BadChunk);
        } else {
          s.phase = uint8_t(c == ';' ? HttpStreamPhase::ChunkExt : HttpStreamPhase::ChunkSizeLf);
          ++i;
        }
        break;
      }
      case HttpStreamPhase::ChunkExt:
        if (c == '\r') {
          s.phase = uint8_t(HttpStreamPhase::ChunkSizeLf);
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return invalid(i, HttpStreamReason::BadChunk);  // bare LF among them
        }
        ++i;
        break;
      case HttpStreamPhase::ChunkSizeLf:
        if (c != '\n') return invalid(i, HttpStreamReason::BadChunk);
        ++i;
        if (s.left == 0) {
          enter(s, HttpStreamPhase::Trailer);
        } else {
          const uint64_t left = s.left;
          enter(s, HttpStreamPhase::ChunkData);
          s.left = left;
        }
        break;
      case HttpStreamPhase::ChunkData: {
        const uint64_t take = s.left < n - i ? uint64_t(s.left) : uint64_t(n - i);
        s.left = s.left - take;
        if (sink != nullptr) sink->body(data.subspan(i, size_t(take)));
        i += size_t(take);
        if (s.left == 0) enter(s, HttpStreamPhase::ChunkDataCr);
        break;
      }
      case HttpStreamPhase::ChunkDataCr:
        if (c != '\r') return invalid(i, HttpStreamReason::BadChunk);
        s.phase = uint8_t(HttpStreamPhase::ChunkDataLf);
        ++i;
        break;
      case HttpStreamPhase::ChunkDataLf:
        if (c != '\n') return invalid(i, HttpStreamReason::BadChunk);
        enter(s, HttpStreamPhase::ChunkSize);
        ++i;
        break;
      case HttpStreamPhase::Trailer:
        if (c == '\r') {
          s.phase = uint8_t(HttpStreamPhase::TrailerLf);
        } else if (c == '\n') {
          return invalid(i, HttpStreamReason::BadChunk);
        } else if (s.aux < 255) {
          s.aux = s.aux + 1;
        }
        ++i;
        break;
      case HttpStreamPhase::TrailerLf:
        if (c != '\n') return invalid(i, HttpStreamReason::BadChunk);
        ++i;
        // An empty line ends the trailer section, and the message.
        enter(s, s.aux == 0 ? HttpStreamPhase::Head : HttpStreamPhase::Trailer);
        break;
      default:
        return invalid(i, HttpStreamReason::BadChunk);
    }
  }
  return {n, Status::NeedMore, HttpStreamReason::None};
}

}  // namespace lbg::inspect
