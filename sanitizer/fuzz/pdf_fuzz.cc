// libFuzzer: the PDF rebuild and its second check. Invariant: a rebuilt PDF verifies clean.
// Half the inputs (odd sizes) are rebuilt as image-PDF mode's intermediate, with the drawn-size
// walk and reduced photographs (image_reduction.h) and the images on two threads.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sanitizer/pdf/pdf_sanitizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  FormatLimits limits;
  pdf::RebuildOptions options;
  if (size % 2 == 1) {
    options.renderDpi = 150;
    options.imageThreads = 2;
  }
  FormatResult r = pdf::sanitize(bytes, limits, {}, options);
  if (r.ok && !pdf::verify(r.output, limits).empty()) std::abort();
  return 0;
}
