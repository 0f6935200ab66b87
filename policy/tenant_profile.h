#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lbg::policy {

// A vendor's tenant-restriction mechanism: request headers that a TLS-intercepting proxy sets
// (replacing any copy the client sent) on every request to the vendor's login hosts.
// Source: each vendor's public documentation, summarised in shared/reference/tenant-restriction.md.
struct TenantProfile {
  const char* name;                        // the policy's `tenant.profile` spelling
  std::span<const char* const> headers;    // header names, canonical spelling, all required
  std::span<const char* const> hosts;      // fqdn patterns the service must list (as written)
};

// The profile called `name`, or nullptr. Names: entra-v1, entra-v2, restrict-msa,
// google-workspace, dropbox, slack, webex, github-enterprise.
const TenantProfile* findTenantProfile(std::string_view name);
std::span<const TenantProfile> tenantProfiles();

// A header value the proxy may send: 1..4096 bytes of visible ASCII, space and tab, not starting
// or ending with whitespace. No CR/LF (header injection) and no obs-text.
bool validTenantHeaderValue(std::string_view v);

// A service's `tenant:` block: the profile and one value per header of the profile, in the
// profile's header order.
struct TenantSpec {
  std::string profile;
  std::vector<std::pair<std::string, std::string>> headers;  // canonical name, value

  bool operator==(const TenantSpec&) const = default;
};

}  // namespace lbg::policy
