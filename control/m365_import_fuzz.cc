// Fuzzes the Microsoft 365 endpoint-list importer: errors, never crashes; every service it
// produces has ports and at least one name or prefix, and no wildcard except a leading "*.".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/m365_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  lbg::control::M365Options o;
  o.ismapId = "C21-0008-2";
  o.ismapExpires = "2027-03-31";
  auto r = lbg::control::importM365(text, "fuzz.json", o);
  if (!r) return 0;
  for (const auto& s : r->services) {
    if (s.ports.empty() || (s.fqdns.empty() && s.cidrs.empty())) std::abort();
    for (const auto& f : s.fqdns) {
      const size_t star = f.find('*');
      if (star != std::string::npos && (star != 0 || f.find('*', 1) != std::string::npos))
        std::abort();
    }
  }
  return 0;
}
