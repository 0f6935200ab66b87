#pragma once

// The proxy auto-configuration file (PAC) that lbg-proxy's explicit listener serves at
// `/proxy.pac` and `/wpad.dat`, generated once from the policy it runs.
#include <string>
#include <string_view>
#include <vector>

#include "policy/snapshot.h"

namespace lbg::proxy {

inline constexpr std::string_view kPacContentType = "application/x-ns-proxy-autoconfig";

// The choice (README.md, "PAC file"): https URLs to a name of a service with a TCP port go to
// lbg-proxy with no DIRECT fallback (a proxy that is down must not become a way around the
// interception); everything else — plain http (the explicit listener only tunnels CONNECT),
// unqualified intranet names, LGWAN and other names the policy does not list — goes DIRECT,
// where lbg-gateway enforces the same policy inline. Names are the policy's FQDNs (validated:
// lowercase LDH, `*.` wildcards), safe inside JavaScript strings as they are.
class PacFile {
 public:
  explicit PacFile(const policy::Snapshot& policy);

  // The file for clients that reached the listener at `proxy` ("ip:port", the address they used).
  std::string render(std::string_view proxy) const;

  const std::vector<std::string>& exactNames() const { return exact_; }
  const std::vector<std::string>& suffixes() const { return suffixes_; }  // ".b" for "*.b"

 private:
  uint64_t version_ = 0;
  std::vector<std::string> exact_;
  std::vector<std::string> suffixes_;
};

}  // namespace lbg::proxy
