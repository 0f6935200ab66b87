// Fuzzes the LGWAN-ASP CSV importer: errors carry a position inside the input, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/asp_csv_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = lbg::control::importAspCsv(text, "fuzz.csv");
  if (!r) {
    size_t lines = 1;
    for (char c : text) lines += c == '\n';
    if (r.error().line < 0 || static_cast<size_t>(r.error().line) > lines + 1) std::abort();
    return 0;
  }
  for (const auto& s : r->services) {
    if (s.name.empty() || s.ports.empty() || (s.fqdns.empty() && s.cidrs.empty())) std::abort();
  }
  return 0;
}
