// libFuzzer target: arbitrary bytes as a request head. Beyond "no crash" (ASan/UBSan): a set
// buffer lies inside the input or the scratch, the reported length never exceeds the input, and
// http.header_names is framed by CRLFs as Suricata's is. The same bytes as a request target
// through the http.uri normaliser (http_uri.h): never longer than the target (written into a
// buffer of exactly that size, so ASan sees any write past it), and idempotent where libhtp's
// steps are: removing dot segments twice gives the same path, and a normalised path without
// bytes a later pass would decode again (`%`, `\`, non-ASCII) or read otherwise (`?`, `#`,
// `:`) normalises to itself.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/ids/http_head_buffers.h"
#include "dataplane/ids/http_uri.h"

namespace {

using namespace lbg::ids;

bool inside(std::span<const uint8_t> part, const uint8_t* begin, size_t size) {
  return part.empty() || (part.data() >= begin && part.data() + part.size() <= begin + size);
}

bool stable(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] == '%' || p[i] == '\\' || p[i] >= 0x80 || p[i] == '?' || p[i] == '#' || p[i] == ':')
      return false;
  return true;
}

bool same(const uint8_t* a, const uint8_t* b, size_t n) {  // memcmp, which wants non-null
  return n == 0 || std::memcmp(a, b, n) == 0;
}

void checkUri(const uint8_t* data, size_t size) {
  std::vector<uint8_t> out(size);  // exactly the bound: a longer result overflows under ASan
  const size_t n = normaliseHttpUri({data, size}, size > 0 && (data[0] & 1), out);
  if (n > size) std::abort();
  std::vector<uint8_t> twice(out.begin(), out.begin() + long(n));
  if (stable(twice.data(), n) && (n == 0 || twice[0] == '/')) {
    std::vector<uint8_t> again(n);
    const size_t m = normaliseHttpUri({twice.data(), n}, false, again);
    if (m != n || !same(again.data(), twice.data(), n)) std::abort();
  }
  std::vector<uint8_t> path(data, data + size);
  const size_t p1 = removeDotSegments(path.data(), path.size());
  const std::vector<uint8_t> once(path.begin(), path.begin() + long(p1));
  if (removeDotSegments(path.data(), p1) != p1 || !same(path.data(), once.data(), p1)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto scratch = std::make_unique<HttpHeadScratch>();
  BufferSet set;
  const size_t length = fillHttpHeadBuffers({data, size}, *scratch, set);
  if (length > size) std::abort();
  const auto* s = reinterpret_cast<const uint8_t*>(scratch.get());
  for (const auto& b : set.bytes)
    if (!inside(b, data, size) && !inside(b, s, sizeof(HttpHeadScratch))) std::abort();
  if (length > 0) {
    const auto names = set.bytes[int(Buffer::HttpHeaderNames)];
    if (names.size() < 4 || names[0] != '\r' || names[names.size() - 1] != '\n') std::abort();
  }
  checkUri(data, size);
  // A request line found in a prefix is found in the whole input.
  if (startsWithHttpRequestLine({data, size / 2}) && !startsWithHttpRequestLine({data, size}))
    std::abort();
  // ... and a prefix's Yes or No is the whole's (NeedMore only while the line may still come).
  const RequestLineStart half = httpRequestLineStart({data, size / 2});
  if (half != RequestLineStart::NeedMore && half != httpRequestLineStart({data, size}))
    std::abort();
  if (startsWithHttpRequestLine({data, size}) !=
      (httpRequestLineStart({data, size}) == RequestLineStart::Yes)) {
    std::abort();
  }
  return 0;
}
