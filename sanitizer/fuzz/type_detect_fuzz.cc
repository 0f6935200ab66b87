// libFuzzer: type detection and polyglot checks on arbitrary bytes (and arbitrary name hints).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sanitizer/core/type_detect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  size_t split = size > 0 ? data[0] % 16 : 0;
  std::string_view name = bytes.substr(0, std::min(split, size));
  lbg::sanitizer::FormatLimits limits;
  limits.maxExpandedBytes = 16 << 20;
  lbg::sanitizer::detectType(bytes, name, limits);
  return 0;
}
