// libFuzzer: our progressive JPEG decoder (pdf/jpeg_progressive.h) against libjpeg on arbitrary
// bytes. The first 5 bytes are the dictionary's claim (width and height, 16 bits each, and 1 or 3
// components), the rest is the file. Whenever ours takes a file, libjpeg must read it too, to the
// same coefficients of every block, and our baseline writer must write what libjpeg's transcode
// writes; a file ours declines is not compared (libjpeg decodes it in the rebuild).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sanitizer/pdf/jpeg_baseline_writer.h"
#include "sanitizer/pdf/jpeg_progressive.h"
#include "sanitizer/pdf/libjpeg_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer::pdf;
  if (size < 5) return 0;
  const uint32_t width = data[0] | (data[1] << 8), height = data[2] | (data[3] << 8);
  const int components = (data[4] & 1) != 0 ? 3 : 1;
  if (static_cast<uint64_t>(width) * height > (1u << 22)) return 0;
  std::string_view jpeg(reinterpret_cast<const char*>(data + 5), size - 5);
  JpegCoefficients ours;
  if (!decodeProgressiveJpeg(jpeg, width, height, components, &ours)) return 0;
  const reference::LibjpegReference ref = reference::libjpegReference(jpeg);
  if (!ref.ok) std::abort();  // ours took a file libjpeg refuses
  if (reference::naturalBlocks(ours) != ref.comps) std::abort();
  // libjpeg-turbo's SIMD encoder writes coefficients outside baseline's range as codes no reader
  // decodes alike; our writer refuses them, so only in-range files are compared byte for byte.
  std::string written;
  if (writeBaselineJpeg(ours, &written) && written != ref.transcoded) std::abort();
  return 0;
}
