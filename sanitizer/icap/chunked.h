#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sanitizer/icap/icap_limits.h"

namespace lbg::icap {

// Incremental decoder of an ICAP chunked body (RFC 9112 7.1 with RFC 3507's "ieof" extension on the
// last chunk). Fed the bytes as they arrive, in pieces of any size; it never reads ahead of the
// end of the chunked stream, so pipelined requests behind it stay in the caller's buffer.
//
// One decoder instance decodes one chunked stream up to its zero-size chunk. For a preview, the
// caller decodes the preview stream, then (after "100 Continue") calls restart() and decodes the
// remainder into the same output.
class ChunkedDecoder {
 public:
  enum class Status : uint8_t { NeedMore, Done, Error };
  struct Step {
    Status status = Status::NeedMore;
    size_t consumed = 0;  // bytes of `in` used (all of them when NeedMore)
  };

  explicit ChunkedDecoder(const Limits& limits) : limits_(limits) {}

  // Appends decoded data to `out`. Never appends more than the chunk sizes announced; a caller
  // enforces its body limit on out.size() between calls (a chunk's data is appended as it comes).
  Step feed(std::string_view in, std::string& out);

  // Decode a following chunked stream (the body after a preview).
  void restart();

  bool done() const { return state_ == State::Done; }
  // The zero-size chunk carried "ieof": the whole body was in this stream.
  bool ieof() const { return ieof_; }
  const std::string& error() const { return error_; }

 private:
  enum class State : uint8_t { SizeLine, Data, DataCrlf, Trailer, Done, Error };

  Step fail(std::string message, size_t consumed);
  bool parseSizeLine(std::string_view line);

  Limits limits_;
  State state_ = State::SizeLine;
  std::string line_;         // partial size line or trailer line
  uint64_t remaining_ = 0;   // data bytes left in the current chunk
  size_t trailerBytes_ = 0;  // bytes of trailer section consumed
  size_t crlfSeen_ = 0;      // bytes of the CRLF after chunk data matched
  bool ieof_ = false;
  std::string error_;
};

// Appends `data` as chunks of at most `chunkSize` bytes; with `last` also the zero-size chunk.
void appendChunked(std::string& out, std::string_view data, bool last, size_t chunkSize = 65536);

}  // namespace lbg::icap
