// libFuzzer target: arbitrary server bytes, cut into segments by the input's first byte, through
// the HTTP response follower. Beyond "no crash" (ASan/UBSan): every step consumes only its
// input, a body slice lies inside it, the body bytes handed out equal the state's count, and the
// same bytes in one segment are reported the same (the follower does not depend on where a
// segment ends).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dataplane/ids/http_response_buffers.h"

namespace {

using namespace lbg::ids;

std::string run(const uint8_t* data, size_t size, size_t cut) {
  HttpResponseState s;
  noteHttpRequest(s, size > 0 && (data[0] & 0x80));
  noteHttpRequest(s, false);
  std::string out;
  uint64_t body = 0;
  for (size_t at = 0; at < size; at += cut) {
    std::span<const uint8_t> in(data + at, std::min(cut, size - at));
    for (;;) {
      const HttpResponseStep st = stepHttpResponse(s, in);
      if (st.used > in.size()) std::abort();
      if (st.kind == HttpResponseStep::Kind::Body) {
        if (st.body.data() != in.data() || st.body.size() != st.used) std::abort();
        out.append(reinterpret_cast<const char*>(st.body.data()), st.body.size());
        body += st.body.size();
      } else if (st.kind != HttpResponseStep::Kind::NeedMore) {
        out += char(0x80 | int(st.kind));
        if (st.kind == HttpResponseStep::Kind::HeadDone) out.append(s.statusCode());
        if (st.kind == HttpResponseStep::Kind::End) body = 0;
      }
      if (st.kind == HttpResponseStep::Kind::Body && s.bodyBytes != body &&
          s.phase != HttpResponseState::Phase::Done)
        std::abort();
      in = in.subspan(st.used);
      if (st.kind == HttpResponseStep::Kind::NeedMore && in.empty()) break;
    }
  }
  if (closeHttpResponse(s)) out += "\xff";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t cut = size_t(data[0] & 0x3f) + 1;
  if (run(data + 1, size - 1, cut) != run(data + 1, size - 1, size)) std::abort();
  return 0;
}
