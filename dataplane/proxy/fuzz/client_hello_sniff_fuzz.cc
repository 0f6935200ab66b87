// libFuzzer target: arbitrary bytes as the first bytes of a transparently redirected connection.
// Beyond "no crash": a name reported is a valid server name (what may be minted), lower case.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dataplane/proxy/client_hello_sniff.h"
#include "dataplane/proxy/connect_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::proxy;
  static ClientHelloSniffer sniffer;
  std::string name;
  const auto st = sniffer.sniff(std::string_view(reinterpret_cast<const char*>(data), size), name);
  if (st != HelloStatus::Sni) return 0;
  if (!validServerName(name)) std::abort();
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') std::abort();
  }
  return 0;
}
