// libFuzzer: our progressive JPEG decoder (pdf/jpeg_progressive.h) against libjpeg on arbitrary
// bytes. The first 5 bytes are the dictionary's claim (width and height, 16 bits each, and 1 or 3
// components), the rest is the file. Whenever ours takes a file, libjpeg must read it too, to the
// same coefficients of every block, and our baseline writer must write what libjpeg's transcode
// writes; a file ours declines is not compared (libjpeg decodes it in the rebuild).
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <jpeglib.h>  // after <cstdio> and <cstddef>: it uses FILE and size_t

#include "sanitizer/pdf/jpeg_baseline_writer.h"
#include "sanitizer/pdf/jpeg_progressive.h"

namespace {

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
};
void errorExit(j_common_ptr c) { std::longjmp(reinterpret_cast<JpegError*>(c->err)->jump, 1); }
void silence(j_common_ptr, int) {}

// Compares libjpeg's coefficients with ours and returns libjpeg's transcode; aborts on a
// difference, returns false when libjpeg fails (which, when ours took the file, is a finding too).
bool compare(std::string_view bytes, const lbg::sanitizer::pdf::JpegCoefficients& ours, std::string* transcoded) {
  using lbg::sanitizer::pdf::kJpegZigzagToNatural;
  jpeg_decompress_struct src;
  jpeg_compress_struct dst;
  JpegError err;
  src.err = jpeg_std_error(&err.mgr);
  dst.err = &err.mgr;
  err.mgr.error_exit = errorExit;
  err.mgr.emit_message = silence;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  volatile bool dstCreated = false;
  if (setjmp(err.jump)) {
    if (dstCreated) jpeg_destroy_compress(&dst);
    jpeg_destroy_decompress(&src);
    std::free(buffer);
    return false;
  }
  jpeg_create_decompress(&src);
  jpeg_mem_src(&src, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  jpeg_read_header(&src, TRUE);
  jvirt_barray_ptr* arrays = jpeg_read_coefficients(&src);
  if (src.num_components != ours.components) std::abort();
  for (int ci = 0; ci < src.num_components; ++ci) {
    const jpeg_component_info& info = src.comp_info[ci];
    const auto& comp = ours.comp[ci];
    if (info.width_in_blocks != comp.widthInBlocks || info.height_in_blocks != comp.heightInBlocks) std::abort();
    for (JDIMENSION row = 0; row < info.height_in_blocks; ++row) {
      JBLOCKARRAY r = src.mem->access_virt_barray(reinterpret_cast<j_common_ptr>(&src), arrays[ci], row, 1, FALSE);
      for (JDIMENSION col = 0; col < info.width_in_blocks; ++col) {
        for (int k = 0; k < 64; ++k) {
          if (r[0][col][kJpegZigzagToNatural[k]] != comp.block(row, col)[k]) std::abort();
        }
      }
    }
  }
  jpeg_create_compress(&dst);
  dstCreated = true;
  jpeg_mem_dest(&dst, &buffer, &size);
  jpeg_copy_critical_parameters(&src, &dst);
  dst.optimize_coding = FALSE;
  dst.write_JFIF_header = src.num_components == 3 ? TRUE : FALSE;
  dst.write_Adobe_marker = FALSE;
  jpeg_write_coefficients(&dst, arrays);
  jpeg_finish_compress(&dst);
  jpeg_destroy_compress(&dst);
  jpeg_finish_decompress(&src);
  jpeg_destroy_decompress(&src);
  transcoded->assign(reinterpret_cast<char*>(buffer), size);
  std::free(buffer);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer::pdf;
  if (size < 5) return 0;
  const uint32_t width = data[0] | (data[1] << 8), height = data[2] | (data[3] << 8);
  const int components = (data[4] & 1) != 0 ? 3 : 1;
  if (static_cast<uint64_t>(width) * height > (1u << 22)) return 0;
  std::string_view jpeg(reinterpret_cast<const char*>(data + 5), size - 5);
  JpegCoefficients ours;
  if (!decodeProgressiveJpeg(jpeg, width, height, components, &ours)) return 0;
  std::string reference;
  if (!compare(jpeg, ours, &reference)) std::abort();  // ours took a file libjpeg refuses
  // libjpeg-turbo's SIMD encoder writes coefficients outside baseline's range as codes no reader
  // decodes alike; our writer refuses them, so only in-range files are compared byte for byte.
  std::string written;
  if (writeBaselineJpeg(ours, &written) && written != reference) std::abort();
  return 0;
}
