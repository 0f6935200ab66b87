#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lbg::proxy {

// Follows a chunked body as it is relayed, to know where it ends (and the next request head
// begins on a keep-alive connection). It does not change a byte; given `data`, it also appends the
// chunks' contents there (the decoded body: a response for lbg-icapd, an ICAP answer's body). Strict: hex sizes of at
// most 15 digits, CRLF line ends, chunk extensions and trailer lines at most 4 KiB each.
class ChunkedBody {
 public:
  enum class Status : uint8_t { More, Done, Invalid };

  // Consumes up to `in.size()` bytes; `used` is how many belong to the body (all of them unless
  // Done, where the rest is the next message).
  Status feed(std::string_view in, size_t& used, std::string* data = nullptr);

 private:
  enum class State : uint8_t { Size, Ext, SizeLf, Data, DataCr, DataLf, Trailer, TrailerLf, LastLf };
  State state_ = State::Size;
  uint64_t remaining_ = 0;
  size_t digits_ = 0;
  size_t lineBytes_ = 0;
};

}  // namespace lbg::proxy
