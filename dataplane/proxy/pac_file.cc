#include "dataplane/proxy/pac_file.h"

#include <algorithm>

namespace lbg::proxy {

PacFile::PacFile(const policy::Snapshot& policy) : version_(policy.version()) {
  for (size_t i = 0; i < policy.serviceCount(); ++i) {
    const policy::ServiceSpec& s = policy.service(int(i));
    const bool tcp = std::any_of(s.ports.begin(), s.ports.end(),
                                 [](const policy::PortRange& r) { return r.proto == policy::L4::Tcp; });
    if (!tcp) continue;
    for (const std::string& name : s.fqdns) {
      if (name.size() > 2 && name[0] == '*' && name[1] == '.') {
        suffixes_.push_back(name.substr(1));
      } else {
        exact_.push_back(name);
      }
    }
  }
  for (auto* v : {&exact_, &suffixes_}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
}

std::string PacFile::render(std::string_view proxy) const {
  std::string out;
  out.reserve(1024 + 40 * (exact_.size() + suffixes_.size()));
  out += "// lbg-proxy: proxy auto-configuration generated from policy version " +
         std::to_string(version_) + ".\n"
         "// https to the policy's services goes through lbg-proxy (no DIRECT fallback: a proxy\n"
         "// that is down must not become a way around it); everything else goes DIRECT, where\n"
         "// lbg-gateway enforces the same policy. ポリシーのサービス宛 https のみプロキシ経由。\n"
         "function FindProxyForURL(url, host) {\n"
         "  var proxy = \"PROXY ";
  out.append(proxy);
  out += "\";\n"
         "  host = host.toLowerCase();\n"
         "  if (url.substring(0, 6) != \"https:\" || isPlainHostName(host)) return \"DIRECT\";\n"
         "  var exact = {";
  for (size_t i = 0; i < exact_.size(); ++i) {
    out += (i ? ", \"" : "\"") + exact_[i] + "\": 1";
  }
  out += "};\n  if (exact.hasOwnProperty(host)) return proxy;\n  var suffixes = [";
  for (size_t i = 0; i < suffixes_.size(); ++i) out += (i ? ", \"" : "\"") + suffixes_[i] + "\"";
  out += "];\n"
         "  for (var i = 0; i < suffixes.length; i++) {\n"
         "    if (dnsDomainIs(host, suffixes[i])) return proxy;\n"
         "  }\n"
         "  return \"DIRECT\";\n"
         "}\n";
  return out;
}

}  // namespace lbg::proxy
