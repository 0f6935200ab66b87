// libFuzzer target: the HTTP request stream follower (request_stream.h) driven the way the
// pipeline drives it (walk the body, parse the next head, start its body). The property that
// matters against smuggling: where heads are found, and where the stream is refused, does not
// depend on how the bytes are cut into segments, nor do the body bytes it hands out (the IDS's
// http.request_body). Input: byte 0 = segment size, the rest = the
// client stream from the start of a connection.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "dataplane/inspect/http/request.h"
#include "dataplane/inspect/http/request_stream.h"

namespace {

using lbg::inspect::HttpRequestHead;
using lbg::inspect::HttpRequestStream;
using lbg::inspect::HttpStreamReason;
using lbg::inspect::Status;

struct Walk final : lbg::inspect::HttpBodySink {
  std::vector<size_t> heads;  // where each judged head starts
  std::vector<uint8_t> bodyBytes;  // every body byte handed out, in order
  size_t end = 0;             // bytes judged
  bool refused = false;
  const uint8_t* base = nullptr;
  void body(std::span<const uint8_t> piece) override {
    if (piece.data() < base) std::abort();  // a slice of the input
    bodyBytes.insert(bodyBytes.end(), piece.begin(), piece.end());
  }
};

Walk walk(const uint8_t* data, size_t size, size_t cut) {
  Walk w;
  w.base = data;
  HttpRequestStream s{};
  size_t pos = 0;
  for (size_t avail = 0; avail < size && !w.refused;) {
    avail = avail + cut < size ? avail + cut : size;
    while (pos < avail && !w.refused) {
      const auto step = lbg::inspect::httpStreamAdvance(s, {data + pos, avail - pos}, &w);
      if (step.consumed > avail - pos) std::abort();
      if (step.status == Status::NeedMore && step.consumed != avail - pos) std::abort();
      pos += step.consumed;
      if (step.status == Status::Invalid) {
        if (step.reason == HttpStreamReason::None) std::abort();
        w.refused = true;
        break;
      }
      if (step.status != Status::Done) break;
      if (data[pos] == '\r' || data[pos] == '\n') std::abort();
      HttpRequestHead h;
      const auto st = lbg::inspect::parseHttpRequestHead({data + pos, avail - pos}, h);
      if (st == Status::NeedMore) break;  // held until more bytes come
      if (st != Status::Done) {
        w.refused = true;
        break;
      }
      w.heads.push_back(pos);
      HttpStreamReason why;
      if (!lbg::inspect::httpStreamStartBody(s, h, why)) {
        if (why == HttpStreamReason::None) std::abort();
        w.refused = true;
        break;
      }
      pos += h.headLength;
    }
  }
  w.end = pos;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t cut = data[0] == 0 ? 1 : data[0];
  const Walk whole = walk(data + 1, size - 1, size - 1);
  const Walk pieces = walk(data + 1, size - 1, cut);
  if (whole.heads != pieces.heads || whole.refused != pieces.refused) std::abort();
  if (!whole.refused && (whole.end != pieces.end || whole.bodyBytes != pieces.bodyBytes)) std::abort();
  return 0;
}
