// libFuzzer target: arbitrary bytes as an HTTP/1 request head and as a response head. Beyond "no
// crash": a complete request's rewritten head parses again, carries each tenant header exactly
// once with the configured value, and keeps the method, target and field count minus the copies.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/proxy/header_rewrite.h"
#include "dataplane/proxy/http_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::proxy;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static HttpHead head;
  static HttpHead again;
  if (parseResponseHead(in, "GET", head) == HeadStatus::Invalid && !head.error) std::abort();
  const HeadStatus st = parseRequestHead(in, head);
  if (st == HeadStatus::Invalid && !head.error) std::abort();
  if (st != HeadStatus::Complete) return 0;
  if (head.headBytes > in.size() || head.headBytes > HttpHead::kMaxBytes) std::abort();
  static const std::vector<std::pair<std::string, std::string>> kSet = {
      {"Restrict-Access-To-Tenants", "contoso.com"}, {"Restrict-Access-Context", "ctx"}};
  std::string out;
  // Grown past a bound by the added fields: the proxy refuses such a request.
  if (!rewriteRequestHead(head, kSet, out)) return 0;
  if (parseRequestHead(out, again) != HeadStatus::Complete) std::abort();
  if (again.method != head.method || again.target != head.target) std::abort();
  size_t tenants = 0;
  for (size_t i = 0; i < again.fieldCount; ++i) {
    for (const auto& [n, v] : kSet) {
      if (equalsIgnoreCase(again.fields[i].name, n)) {
        if (again.fields[i].value != v) std::abort();
        ++tenants;
      }
    }
  }
  if (tenants != kSet.size()) std::abort();
  if (again.body != head.body || again.contentLength != head.contentLength) std::abort();
  return 0;
}
