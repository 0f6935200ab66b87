#include "sanitizer/pdf/image_codec.h"

#include <jpeglib.h>
#include <libdeflate.h>

#include <csetjmp>
#include <cstdio>
#include <cstdlib>

namespace lbg::sanitizer::pdf {
namespace {

// libjpeg reports fatal errors through error_exit, which must not return: longjmp back to the
// caller. No C++ object with a destructor is created between setjmp and the libjpeg calls.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
};

void jpegErrorExit(j_common_ptr cinfo) { std::longjmp(reinterpret_cast<JpegError*>(cinfo->err)->jump, 1); }
void jpegSilence(j_common_ptr, int) {}

}  // namespace

bool decodeJpeg(std::string_view bytes, uint32_t maxPixels, JpegPixels* out) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpegErrorExit;
  err.mgr.emit_message = jpegSilence;
  std::string& pixels = out->pixels;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK || cinfo.image_width == 0 || cinfo.image_height == 0 ||
      static_cast<uint64_t>(cinfo.image_width) * cinfo.image_height > maxPixels) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  switch (cinfo.num_components) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case 3: cinfo.out_color_space = JCS_RGB; break;
    case 4: cinfo.out_color_space = JCS_CMYK; break;
    default:
      jpeg_destroy_decompress(&cinfo);
      return false;
  }
  out->adobeInverted = cinfo.num_components == 4 && cinfo.saw_Adobe_marker;
  jpeg_start_decompress(&cinfo);
  out->width = cinfo.output_width;
  out->height = cinfo.output_height;
  out->components = cinfo.output_components;
  const size_t stride = static_cast<size_t>(cinfo.output_width) * cinfo.output_components;
  pixels.assign(stride * cinfo.output_height, '\0');
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = reinterpret_cast<JSAMPROW>(pixels.data() + stride * cinfo.output_scanline);
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
      jpeg_destroy_decompress(&cinfo);
      return false;
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

bool encodeJpegRows(const unsigned char* pixels, uint32_t width, uint32_t height, int components, size_t stride,
                    int quality, std::string* out) {
  if (components != 1 && components != 3) return false;
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpegErrorExit;
  err.mgr.emit_message = jpegSilence;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels + stride * cinfo.next_scanline);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  out->assign(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return true;
}

bool encodeJpeg(const JpegPixels& image, std::string* out) {
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.components) return false;
  return encodeJpegRows(reinterpret_cast<const unsigned char*>(image.pixels.data()), image.width, image.height,
                        image.components, static_cast<size_t>(image.width) * image.components, 90, out);
}

bool deflateZlib(std::string_view data, std::string* out) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(1);
  if (c == nullptr) return false;
  out->resize(libdeflate_zlib_compress_bound(c, data.size()));
  size_t n = libdeflate_zlib_compress(c, data.data(), data.size(), out->data(), out->size());
  libdeflate_free_compressor(c);
  out->resize(n);
  return n > 0;
}

}  // namespace lbg::sanitizer::pdf
