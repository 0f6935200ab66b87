#include "policy/tenant_profile.h"

#include <array>

namespace lbg::policy {

namespace {

// Entra v1 and v2 are separate profiles: a service sends one or the other, never both.
constexpr const char* kEntraV1Headers[] = {"Restrict-Access-To-Tenants", "Restrict-Access-Context"};
// Exact names only: device.login.microsoftonline.com and enterpriseregistration.windows.net
// authenticate the client with a certificate and must never be intercepted.
constexpr const char* kEntraV1Hosts[] = {"login.microsoftonline.com", "login.microsoft.com",
                                         "login.windows.net"};
constexpr const char* kEntraV2Headers[] = {"sec-Restrict-Tenant-Access-Policy"};
constexpr const char* kEntraV2Hosts[] = {"login.live.com", "login.microsoft.com",
                                         "login.microsoftonline.com", "login.windows.net"};
constexpr const char* kMsaHeaders[] = {"sec-Restrict-Tenant-Access-Policy"};
constexpr const char* kMsaHosts[] = {"login.live.com"};
constexpr const char* kGoogleHeaders[] = {"X-GoogApps-Allowed-Domains"};
constexpr const char* kGoogleHosts[] = {"*.google.com"};
constexpr const char* kDropboxHeaders[] = {"X-Dropbox-allowed-Team-Ids"};
constexpr const char* kDropboxHosts[] = {"dropbox.com", "*.dropbox.com"};
// The second header does nothing without the first; both are required.
constexpr const char* kSlackHeaders[] = {"X-Slack-Allowed-Workspaces-Requester",
                                         "X-Slack-Allowed-Workspaces"};
constexpr const char* kSlackHosts[] = {"slack.com", "*.slack.com"};
constexpr const char* kWebexHeaders[] = {"CiscoSpark-Allowed-Domains"};
constexpr const char* kWebexHosts[] = {
    "identity.webex.com",    "identity-eu.webex.com",       "identity-ca.webex.com",
    "idbroker.webex.com",    "idbroker-secondary.webex.com", "idbroker-b-us.webex.com",
    "idbroker-eu.webex.com", "idbroker-ca.webex.com",        "atlas-a.wbx2.com"};
constexpr const char* kGithubHeaders[] = {"sec-GitHub-allowed-enterprise"};
constexpr const char* kGithubHosts[] = {"github.com", "api.github.com", "*.githubcopilot.com"};

const std::array<TenantProfile, 8> kProfiles = {{
    {"entra-v1", kEntraV1Headers, kEntraV1Hosts},
    {"entra-v2", kEntraV2Headers, kEntraV2Hosts},
    {"restrict-msa", kMsaHeaders, kMsaHosts},
    {"google-workspace", kGoogleHeaders, kGoogleHosts},
    {"dropbox", kDropboxHeaders, kDropboxHosts},
    {"slack", kSlackHeaders, kSlackHosts},
    {"webex", kWebexHeaders, kWebexHosts},
    {"github-enterprise", kGithubHeaders, kGithubHosts},
}};

}  // namespace

const TenantProfile* findTenantProfile(std::string_view name) {
  for (const auto& p : kProfiles) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

std::span<const TenantProfile> tenantProfiles() { return kProfiles; }

bool validTenantHeaderValue(std::string_view v) {
  if (v.empty() || v.size() > 4096) return false;
  if (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t') return false;
  for (unsigned char c : v) {
    if (!((c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t')) return false;
  }
  return true;
}

}  // namespace lbg::policy
