#pragma once

// libjpeg's reading of a JPEG, the reference our progressive decoder and baseline writer are held
// to (jpeg_progressive_test.cc and fuzz/jpeg_progressive_fuzz.cc only): the coefficients of every
// real block of each component in natural order, and the file libjpeg's transcode writes
// (jpeg_copy_critical_parameters + jpeg_write_coefficients, as image_codec.cc's libjpeg path).

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <jpeglib.h>  // after <cstdio> and <cstddef>: it uses FILE and size_t

#include "sanitizer/pdf/jpeg_progressive.h"

namespace lbg::sanitizer::pdf::reference {

struct LibjpegReference {
  bool ok = false;   // libjpeg read the file without a fatal error
  int warnings = 0;  // and warned this often (damage it decoded somehow)
  std::vector<std::vector<int16_t>> comps;
  std::string transcoded;
};

namespace detail {
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  int warnings = 0;
};
inline void errorExit(j_common_ptr c) { std::longjmp(reinterpret_cast<JpegError*>(c->err)->jump, 1); }
inline void countWarning(j_common_ptr c, int level) {
  if (level < 0) ++reinterpret_cast<JpegError*>(c->err)->warnings;
}
}  // namespace detail

// No C++ object is created between the setjmp and the libjpeg calls that may jump back.
inline LibjpegReference libjpegReference(std::string_view bytes) {
  LibjpegReference ref;
  jpeg_decompress_struct src;
  jpeg_compress_struct dst;
  detail::JpegError err;
  src.err = jpeg_std_error(&err.mgr);
  dst.err = &err.mgr;
  err.mgr.error_exit = detail::errorExit;
  err.mgr.emit_message = detail::countWarning;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  volatile bool dstCreated = false;
  if (setjmp(err.jump)) {
    if (dstCreated) jpeg_destroy_compress(&dst);
    jpeg_destroy_decompress(&src);
    std::free(buffer);
    ref.ok = false;
    ref.comps.clear();
    return ref;
  }
  jpeg_create_decompress(&src);
  jpeg_mem_src(&src, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&src, TRUE);
  jvirt_barray_ptr* arrays = jpeg_read_coefficients(&src);
  ref.comps.resize(size_t(src.num_components));
  for (int ci = 0; ci < src.num_components; ++ci) {
    const jpeg_component_info& info = src.comp_info[ci];
    for (JDIMENSION row = 0; row < info.height_in_blocks; ++row) {
      JBLOCKARRAY r = src.mem->access_virt_barray(reinterpret_cast<j_common_ptr>(&src), arrays[ci], row, 1, FALSE);
      for (JDIMENSION col = 0; col < info.width_in_blocks; ++col) {
        ref.comps[size_t(ci)].insert(ref.comps[size_t(ci)].end(), r[0][col], r[0][col] + 64);
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
  ref.transcoded.assign(reinterpret_cast<char*>(buffer), size);
  std::free(buffer);
  ref.ok = true;
  ref.warnings = err.warnings;
  return ref;
}

// Our coefficients in the reference's layout: the real blocks of each component, natural order.
inline std::vector<std::vector<int16_t>> naturalBlocks(const JpegCoefficients& c) {
  std::vector<std::vector<int16_t>> comps(size_t(c.components));
  for (int ci = 0; ci < c.components; ++ci) {
    const JpegCoefficients::Component& comp = c.comp[ci];
    for (uint32_t row = 0; row < comp.heightInBlocks; ++row) {
      for (uint32_t col = 0; col < comp.widthInBlocks; ++col) {
        int16_t block[64];
        for (int k = 0; k < 64; ++k) block[kJpegZigzagToNatural[k]] = comp.block(row, col)[k];
        comps[size_t(ci)].insert(comps[size_t(ci)].end(), block, block + 64);
      }
    }
  }
  return comps;
}

}  // namespace lbg::sanitizer::pdf::reference
