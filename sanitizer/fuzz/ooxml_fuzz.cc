// libFuzzer: the OOXML rebuild, its second check and text extraction on arbitrary packages.
// Seeds: the Office files of the corpus (see meson.build). Invariant: a successful rebuild always
// passes its own verification.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sanitizer/image/image_sanitizer.h"
#include "sanitizer/ooxml/ooxml_sanitizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  FormatLimits limits;
  limits.maxExpandedBytes = 32 << 20;
  limits.maxImagePixels = 1 << 20;
  FormatResult r = ooxml::sanitize(bytes, limits, [&](std::string_view in, std::string* out, std::string* ct) {
    FormatResult img = image::sanitize(in, limits);
    if (!img.ok) return false;
    *out = img.output;
    *ct = img.outputType == "png" ? "image/png" : "image/jpeg";
    return true;
  });
  if (r.ok) {
    if (!ooxml::verify(r.output, limits).empty()) std::abort();  // the rebuild missed something
    std::string text, reason;
    ooxml::extractText(r.output, limits, &text, &reason);
  }
  return 0;
}
