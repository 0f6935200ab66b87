// libFuzzer: the PDF rebuild and its second check. Invariant: a rebuilt PDF verifies clean.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sanitizer/pdf/pdf_sanitizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  FormatLimits limits;
  FormatResult r = pdf::sanitize(bytes, limits);
  if (r.ok && !pdf::verify(r.output, limits).empty()) std::abort();
  return 0;
}
