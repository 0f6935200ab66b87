// libFuzzer target: arbitrary bytes as lbg-icapd's answer to a RESPMOD, fed whole and split at a
// point the input chooses. Beyond "no crash": both feedings agree; a Done answer is 204 or 200
// with a head that reframes, and its decoded body stays within the parser's bound; the parser
// stays Invalid once Invalid.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dataplane/proxy/icap_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::proxy;
  using St = IcapResponseParser::Status;
  if (size == 0) return 0;
  constexpr uint64_t kMaxBody = 4096;
  const size_t split = data[0] % size;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  IcapResponseParser whole(kMaxBody);
  St a = whole.feed(in);
  if (a == St::More) a = whole.finish();

  IcapResponseParser parts(kMaxBody);
  // The second part is fed whatever the first gave: bytes after a complete answer are an error.
  parts.feed(in.substr(0, std::min(split, in.size())));
  St b = parts.feed(in.substr(std::min(split, in.size())));
  if (b == St::More) b = parts.finish();

  if (a != b) std::abort();
  if (a == St::Invalid) {
    if (!whole.error() || whole.feed("x") != St::Invalid) std::abort();
    return 0;
  }
  if (whole.status() != 200 && whole.status() != 204) std::abort();
  if (whole.body() != parts.body() || whole.httpHead() != parts.httpHead()) std::abort();
  if (whole.body().size() > kMaxBody) std::abort();
  if (whole.status() == 200) {
    std::string out;
    if (!reframeResponse(whole.httpHead(), whole.body(), out)) std::abort();
  } else if (!whole.body().empty() || !whole.httpHead().empty()) {
    std::abort();
  }
  return 0;
}
