// libFuzzer target: arbitrary server bytes, cut into segments by the input's first byte, through
// the HTTP response follower. Beyond "no crash" (ASan/UBSan): every step consumes only its
// input, a body slice lies inside it, the body bytes handed out equal the state's count, and the
// same bytes in one segment are reported the same (the follower does not depend on where a
// segment ends). Each ended body goes through the content-coding decoder with the codings its
// head named (its output bounded by the limit, the same however the bytes were cut). The same
// bytes read as a request head give at most two codings (requestContentCodings).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dataplane/ids/body_decoder.h"
#include "dataplane/ids/http_response_buffers.h"

namespace {

using namespace lbg::ids;

BodyDecoder& decoder() {
  static BodyDecoder d(4096);
  return d;
}

void decodeBody(const HttpResponseState& s, const std::string& body, std::string& out) {
  if (s.codingCount == 0) return;
  const auto r = decoder().decode(s.contentCodings(),
                                  {reinterpret_cast<const uint8_t*>(body.data()), body.size()});
  if (r.body.size() > decoder().limit()) std::abort();
  out += r.ok ? "D" + std::to_string(r.body.size()) : "F";
  out.append(reinterpret_cast<const char*>(r.body.data()), r.body.size());
}

std::string run(const uint8_t* data, size_t size, size_t cut) {
  HttpResponseState s;
  std::string current;  // the body of the response in flight
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
        current.append(reinterpret_cast<const char*>(st.body.data()), st.body.size());
        body += st.body.size();
      } else if (st.kind != HttpResponseStep::Kind::NeedMore) {
        out += char(0x80 | int(st.kind));
        if (st.kind == HttpResponseStep::Kind::HeadDone) out.append(s.statusCode());
        if (st.kind == HttpResponseStep::Kind::End) {
          decodeBody(s, current, out);
          current.clear();
          body = 0;
        }
      }
      if (st.kind == HttpResponseStep::Kind::Body && s.bodyBytes != body &&
          s.phase != HttpResponseState::Phase::Done)
        std::abort();
      in = in.subspan(st.used);
      if (st.kind == HttpResponseStep::Kind::NeedMore && in.empty()) break;
    }
  }
  if (closeHttpResponse(s)) {
    out += "\xff";
    decodeBody(s, current, out);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t cut = size_t(data[0] & 0x3f) + 1;
  if (run(data + 1, size - 1, cut) != run(data + 1, size - 1, size)) std::abort();
  const lbg::ids::RequestCodings codings = lbg::ids::requestContentCodings({data + 1, size - 1});
  if (codings.count > lbg::ids::HttpResponseState::kMaxCodings) std::abort();
  return 0;
}
