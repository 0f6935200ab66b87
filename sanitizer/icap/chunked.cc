#include "sanitizer/icap/chunked.h"

#include <algorithm>

#include "sanitizer/icap/header_list.h"

namespace lbg::icap {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedDecoder::Step ChunkedDecoder::fail(std::string message, size_t consumed) {
  state_ = State::Error;
  error_ = std::move(message);
  return Step{Status::Error, consumed};
}

void ChunkedDecoder::restart() {
  state_ = State::SizeLine;
  line_.clear();
  remaining_ = 0;
  trailerBytes_ = 0;
  crlfSeen_ = 0;
  ieof_ = false;
}

// chunk-size [ chunk-ext ] ; chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
bool ChunkedDecoder::parseSizeLine(std::string_view line) {
  size_t i = 0;
  uint64_t size = 0;
  while (i < line.size() && hexValue(line[i]) >= 0) {
    // 15 hex digits already exceed any body limit; refusing more keeps the shift from overflowing.
    if (i >= 15) {
      error_ = "chunk size too long";
      return false;
    }
    size = (size << 4) | static_cast<uint64_t>(hexValue(line[i]));
    ++i;
  }
  if (i == 0) {
    error_ = "missing chunk size";
    return false;
  }
  bool ieof = false;
  auto rest = line.substr(i);
  while (true) {
    rest = trimWhitespace(rest);
    if (rest.empty()) break;
    if (rest.front() != ';') {
      error_ = "invalid chunk extension";
      return false;
    }
    rest = trimWhitespace(rest.substr(1));
    size_t n = 0;
    while (n < rest.size() && isTokenChar(rest[n])) ++n;
    if (n == 0) {
      error_ = "empty chunk extension name";
      return false;
    }
    const auto name = rest.substr(0, n);
    rest = trimWhitespace(rest.substr(n));
    bool hasValue = false;
    if (!rest.empty() && rest.front() == '=') {
      hasValue = true;
      rest = trimWhitespace(rest.substr(1));
      if (!rest.empty() && rest.front() == '"') {
        size_t j = 1;
        for (; j < rest.size() && rest[j] != '"'; ++j) {
          if (rest[j] == '\\') ++j;  // quoted-pair
        }
        if (j >= rest.size()) {
          error_ = "unterminated quoted chunk extension";
          return false;
        }
        rest = rest.substr(j + 1);
      } else {
        size_t m = 0;
        while (m < rest.size() && isTokenChar(rest[m])) ++m;
        if (m == 0) {
          error_ = "empty chunk extension value";
          return false;
        }
        rest = rest.substr(m);
      }
    }
    if (equalsIgnoreCase(name, "ieof")) {
      // RFC 3507 4.5: "ieof" only on the zero-length chunk, and without a value.
      if (size != 0 || hasValue) {
        error_ = "ieof extension on a non-final chunk";
        return false;
      }
      ieof = true;
    }
  }
  remaining_ = size;
  ieof_ = ieof;
  return true;
}

ChunkedDecoder::Step ChunkedDecoder::feed(std::string_view in, std::string& out) {
  size_t pos = 0;
  while (pos < in.size()) {
    switch (state_) {
      case State::Done:
        return Step{Status::Done, pos};
      case State::Error:
        return Step{Status::Error, pos};
      case State::SizeLine:
      case State::Trailer: {
        const auto avail = in.substr(pos);
        const auto lf = avail.find('\n');
        const auto take = lf == std::string_view::npos ? avail.size() : lf + 1;
        const size_t cap =
            state_ == State::SizeLine ? limits_.maxChunkLineBytes : limits_.maxTrailerBytes;
        const size_t used = state_ == State::Trailer ? trailerBytes_ + line_.size() : line_.size();
        if (used + take > cap + 2) {
          return fail(state_ == State::SizeLine ? "chunk size line too long" : "trailer too long",
                      pos);
        }
        line_.append(avail.substr(0, take));
        pos += take;
        if (lf == std::string_view::npos) break;
        // A bare LF is refused: line ends must agree with how the ICAP client framed them.
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
          return fail("chunk line not terminated by CRLF", pos);
        }
        const std::string_view line(line_.data(), line_.size() - 2);
        if (state_ == State::SizeLine) {
          if (!parseSizeLine(line)) return fail(error_, pos);
          line_.clear();
          state_ = remaining_ == 0 ? State::Trailer : State::Data;
        } else {
          trailerBytes_ += line_.size();
          if (line.empty()) {
            line_.clear();
            state_ = State::Done;
            return Step{Status::Done, pos};
          }
          // Trailer fields are accepted and dropped, but must at least look like fields.
          const auto colon = line.find(':');
          if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
            return fail("malformed chunked trailer", pos);
          }
          line_.clear();
        }
        break;
      }
      case State::Data: {
        const auto take = static_cast<size_t>(
            std::min<uint64_t>(remaining_, static_cast<uint64_t>(in.size() - pos)));
        out.append(in.substr(pos, take));
        pos += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ = State::DataCrlf;
          crlfSeen_ = 0;
        }
        break;
      }
      case State::DataCrlf: {
        const char want = crlfSeen_ == 0 ? '\r' : '\n';
        if (in[pos] != want) return fail("chunk data not followed by CRLF", pos);
        ++pos;
        if (++crlfSeen_ == 2) state_ = State::SizeLine;
        break;
      }
    }
  }
  if (state_ == State::Done) return Step{Status::Done, pos};
  if (state_ == State::Error) return Step{Status::Error, pos};
  return Step{Status::NeedMore, pos};
}

void appendChunked(std::string& out, std::string_view data, bool last, size_t chunkSize) {
  static constexpr char kHex[] = "0123456789abcdef";
  while (!data.empty()) {
    const auto n = std::min(chunkSize, data.size());
    char buf[17];
    int len = 0;
    for (auto v = n; v != 0; v >>= 4) buf[len++] = kHex[v & 0xf];
    std::string size(buf, static_cast<size_t>(len));
    std::reverse(size.begin(), size.end());
    out += size;
    out += "\r\n";
    out.append(data.substr(0, n));
    out += "\r\n";
    data.remove_prefix(n);
  }
  if (last) out += "0\r\n\r\n";
}

}  // namespace lbg::icap
