// libFuzzer target: arbitrary bytes as an explicit-proxy request (a CONNECT head). Beyond "no
// crash": an accepted target is a valid server name (what may be minted) with a port 1..65535,
// lowercase, and parsing "host:port" again gives the same target.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dataplane/proxy/connect_target.h"
#include "dataplane/proxy/http_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::proxy;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static HttpHead head;
  std::string_view target = in;
  if (parseRequestHead(in, head) == HeadStatus::Complete) target = head.target;
  const auto t = parseConnectTarget(target);
  if (!t) return 0;
  if (t->port == 0 || !validServerName(t->host)) std::abort();
  for (char c : t->host) {
    if (c >= 'A' && c <= 'Z') std::abort();
    if (c == ',' || c == '*' || c == ' ' || c == '\0') std::abort();
  }
  const auto again = parseConnectTarget(t->host + ":" + std::to_string(t->port));
  if (!again || again->host != t->host || again->port != t->port) std::abort();
  return 0;
}
