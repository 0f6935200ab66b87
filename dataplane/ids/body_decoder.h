#pragma once

// Undoes a response body's content codings before the IDS scans it, as libhtp does for
// Suricata 7's http.response_body and file.data: gzip (several members), deflate (zlib-wrapped
// or raw, told apart by the zlib header as browsers do), at most two layers. Without this, a
// `file.data` rule would be evaded by a server that compresses what it sends; a browser decodes it.
//
// Bounded and allocation-free after construction: the output stops at `limit` bytes (a
// decompression bomb costs at most `limit` bytes of work per layer), and zlib's state and window
// come from a fixed arena per layer, reset for every body. One decoder per worker; a body is
// decoded once, where its scan happens (dataplane/core/pipeline_http_response.cc).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "dataplane/ids/http_response_buffers.h"

namespace lbg::ids {

class BodyDecoder {
 public:
  explicit BodyDecoder(uint32_t limit);
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  struct Result {
    // false: some layer is not what its coding says (bad header, corrupt data); `body` is empty.
    bool ok = false;
    // The decoded body's first bytes (at most `limit`), valid until the next decode(). A body
    // that ends before its coded stream does (cut at the inspection limit, or truncated by the
    // server) gives what it decodes to so far, as a browser shows it.
    std::span<const uint8_t> body;
  };
  // `codings` in the order the server applied them (HttpResponseState::contentCodings()),
  // `coded` the body as sent. Undone last to first.
  Result decode(std::span<const HttpResponseState::Coding> codings,
                std::span<const uint8_t> coded);

  uint32_t limit() const { return limit_; }

 private:
  struct Layer;
  bool undo(Layer& layer, HttpResponseState::Coding coding, std::span<const uint8_t> in,
            size_t& produced);

  uint32_t limit_;
  std::unique_ptr<Layer> layers_[HttpResponseState::kMaxCodings];
};

}  // namespace lbg::ids
