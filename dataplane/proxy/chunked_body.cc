#include "dataplane/proxy/chunked_body.h"

#include <algorithm>

namespace lbg::proxy {

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr size_t kMaxLine = 4096;
}  // namespace

ChunkedBody::Status ChunkedBody::feed(std::string_view in, size_t& used, std::string* data) {
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    switch (state_) {
      case State::Size: {
        const int h = hexValue(c);
        if (h >= 0) {
          if (++digits_ > 15) return Status::Invalid;
          remaining_ = remaining_ * 16 + uint64_t(h);
          ++i;
        } else if (digits_ == 0) {
          return Status::Invalid;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::Ext;
          lineBytes_ = 0;
        } else if (c == '\r') {
          state_ = State::SizeLf;
          ++i;
        } else {
          return Status::Invalid;
        }
        break;
      }
      case State::Ext:
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == '\n' || ++lineBytes_ > kMaxLine) {
          return Status::Invalid;
        }
        ++i;
        break;
      case State::SizeLf:
        if (c != '\n') return Status::Invalid;
        ++i;
        digits_ = 0;
        lineBytes_ = 0;
        state_ = remaining_ == 0 ? State::Trailer : State::Data;
        break;
      case State::Data: {
        const size_t n = size_t(std::min<uint64_t>(remaining_, in.size() - i));
        if (data) data->append(in.substr(i, n));
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::DataCr;
        break;
      }
      case State::DataCr:
        if (c != '\r') return Status::Invalid;
        ++i;
        state_ = State::DataLf;
        break;
      case State::DataLf:
        if (c != '\n') return Status::Invalid;
        ++i;
        state_ = State::Size;
        break;
      case State::Trailer:  // at the start of a trailer line, or of the final empty line
        if (c == '\r') {
          state_ = lineBytes_ == 0 ? State::LastLf : State::TrailerLf;
        } else if (c == '\n' || ++lineBytes_ > kMaxLine) {
          return Status::Invalid;
        }
        ++i;
        break;
      case State::TrailerLf:
        if (c != '\n') return Status::Invalid;
        ++i;
        lineBytes_ = 0;
        state_ = State::Trailer;
        break;
      case State::LastLf:
        if (c != '\n') return Status::Invalid;
        used = i + 1;
        *this = ChunkedBody();
        return Status::Done;
    }
  }
  used = i;
  return Status::More;
}

}  // namespace lbg::proxy
