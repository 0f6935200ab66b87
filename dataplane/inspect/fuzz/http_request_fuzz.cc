// libFuzzer target: HTTP request-head parser. Checks that a Done is reproducible, names a host
// without userinfo or whitespace, and that no prefix shorter than the head completes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dataplane/inspect/http/request.h"

using lbg::inspect::Status;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lbg::inspect::HttpRequestHead h;
  const Status st = lbg::inspect::parseHttpRequestHead({data, size}, h);
  if (st == Status::Invalid && h.reason == lbg::inspect::HttpReason::None) std::abort();
  if (st != Status::Done) return 0;
  if (h.hostLen > sizeof(h.host) || (h.hasHost && h.hostLen == 0)) std::abort();
  for (size_t i = 0; i < h.hostLen; ++i) {
    const uint8_t c = uint8_t(h.host[i]);
    if (c == '@' || c <= 0x20 || c >= 0x7f || c == '/' || c == '%') std::abort();
  }
  if (std::memcmp(h.method, "CONNECT", 7) == 0 && h.methodLen == 7) std::abort();
  lbg::inspect::HttpRequestHead again;
  if (lbg::inspect::parseHttpRequestHead({data, size}, again) != Status::Done ||
      std::memcmp(&h, &again, sizeof(h)) != 0) {
    std::abort();
  }
  // The head ends at the first CRLF CRLF: no prefix that stops before it may complete.
  const void* end = memmem(data, size, "\r\n\r\n", 4);
  if (end == nullptr) std::abort();
  const size_t headLen = size_t(static_cast<const uint8_t*>(end) - data) + 4;
  lbg::inspect::HttpRequestHead p;
  if (lbg::inspect::parseHttpRequestHead({data, headLen - 1}, p) == Status::Done) std::abort();
  return 0;
}
