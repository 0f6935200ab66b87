// libFuzzer: the BMP decoder on arbitrary bytes with a 1 Mpx cap. A decode that succeeds must
// hand back exactly width x height RGBA pixels within the cap.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sanitizer/image/raster.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer::image;
  constexpr uint32_t kMaxPixels = 1 << 20;
  Raster raster;
  DecodeError why = decodeBmp(std::string_view(reinterpret_cast<const char*>(data), size), kMaxPixels, &raster);
  if (why.empty()) {
    uint64_t pixels = static_cast<uint64_t>(raster.width) * raster.height;
    if (pixels == 0 || pixels > kMaxPixels || raster.rgba.size() != pixels * 4) std::abort();
  }
  return 0;
}
