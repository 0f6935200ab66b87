#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/service_draft.h"
#include "policy/base/result.h"

namespace lbg::control {

struct M365Options {
  std::vector<std::string>
      areas;  // serviceArea values to keep (Exchange, SharePoint, Skype, Common); empty = all
  std::vector<std::string> categories;  // Optimize, Allow, Default; empty = all
  bool requiredOnly = false;            // keep only endpoint sets marked "required": true
  std::string namePrefix = "m365";      // services are named PREFIX-AREA-ID, e.g. m365-exchange-1
  std::string ismapId;                  // Microsoft 365's ISMAP registration (kind cloud needs it)
  std::string ismapExpires;
};

// Imports Microsoft's published endpoint list (endpoints.office.com/endpoints/worldwide, an
// array of endpoint sets with id, serviceArea, urls, ips, tcpPorts, udpPorts, category,
// required). One service per selected endpoint set. Unknown keys are ignored (Microsoft adds
// fields over time); known keys with a wrong type are errors naming the entry. URL patterns the
// policy cannot express (a wildcard not at the start) are skipped with a warning, never widened.
Result<ImportResult> importM365(std::string_view jsonText, std::string_view fileName,
                                const M365Options& options);

// "80,443" / "3478-3481" → ["tcp/80","tcp/443"]; error on anything else.
Result<std::vector<std::string>> m365Ports(std::string_view list, std::string_view proto);

}  // namespace lbg::control
