// libFuzzer target: arbitrary bytes as a request head. Beyond "no crash" (ASan/UBSan): a set
// buffer lies inside the input or the scratch, the reported length never exceeds the input, and
// http.header_names is framed by CRLFs as Suricata's is.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "dataplane/ids/http_head_buffers.h"

namespace {

using namespace lbg::ids;

bool inside(std::span<const uint8_t> part, const uint8_t* begin, size_t size) {
  return part.empty() || (part.data() >= begin && part.data() + part.size() <= begin + size);
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
  return 0;
}
