// libFuzzer: the JPEG transcoder of the PDF image rebuild (pdf/image_codec.h) on arbitrary bytes.
// The first 5 bytes are the dictionary's claim (width and height, 16 bits each, and 1 or 3
// components; the other bits of the fifth byte pick a reduction for image-PDF mode), the rest is
// the stream. A transcode that succeeds must decode to exactly that shape, and transcoding its own
// output must give the same bytes (nothing of the input's layout is left for a second pass to
// change). A reduction that succeeds must decode to the reduced size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sanitizer/pdf/image_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer::pdf;
  if (size < 5) return 0;
  const uint32_t width = data[0] | (data[1] << 8), height = data[2] | (data[3] << 8);
  const int components = (data[4] & 1) != 0 ? 3 : 1;
  if (static_cast<uint64_t>(width) * height > (1u << 22)) return 0;
  std::string_view jpeg(reinterpret_cast<const char*>(data + 5), size - 5);
  const int eighths = 1 + (data[4] >> 1) % 7;
  ReducedJpeg reduced;
  if (reduceJpeg(jpeg, width, height, eighths, &reduced)) {
    JpegPixels pixels;
    if (!decodeJpeg(reduced.jpeg, 1u << 22, &pixels) || pixels.width != (width * eighths + 7) / 8 ||
        pixels.height != (height * eighths + 7) / 8 || pixels.width != reduced.width ||
        pixels.height != reduced.height || pixels.components != reduced.components) {
      std::abort();
    }
  }
  std::string out;
  if (!transcodeJpeg(jpeg, width, height, components, &out)) return 0;
  JpegPixels pixels;
  if (!decodeJpeg(out, 1u << 22, &pixels) || pixels.width != width || pixels.height != height ||
      pixels.components != components) {
    std::abort();
  }
  std::string again;
  if (!transcodeJpeg(out, width, height, components, &again) || again != out) std::abort();
  return 0;
}
