#include "sanitizer/image/image_sanitizer.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "sanitizer/image/raster.h"

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>

namespace lbg::sanitizer::image {
namespace {

bool isPng(std::string_view b) { return b.size() >= 8 && b.substr(0, 8) == "\x89PNG\r\n\x1A\n"; }
bool isJpeg(std::string_view b) { return b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF"; }

// One compression into a buffer of libpng's upper bound: asking for the size first (a null
// buffer) runs the whole compression once more only to count bytes. Fast zlib settings: the
// output is a fresh copy of pixels, not an archive, and level 6 was most of a PNG's cost.
bool encodePng(png_image& image, const void* pixels, std::string* out) {
  image.flags |= PNG_IMAGE_FLAG_FAST;
  png_alloc_size_t size = PNG_IMAGE_PNG_SIZE_MAX(image);
  out->resize(size);
  if (!png_image_write_to_memory(&image, out->data(), &size, 0, pixels, 0, nullptr)) return false;
  out->resize(size);
  return true;
}

FormatResult rebuildPng(std::string_view bytes, const FormatLimits& limits) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    return FormatResult::fail("parse-error");
  }
  if (image.width == 0 || image.height == 0 ||
      static_cast<uint64_t>(image.width) * image.height > limits.maxImagePixels) {
    png_image_free(&image);
    return FormatResult::fail("limit:image-pixels");
  }
  image.format = PNG_FORMAT_RGBA;
  std::vector<png_byte> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return FormatResult::fail("parse-error");
  }
  FormatResult result;
  if (!encodePng(image, pixels.data(), &result.output)) return FormatResult::fail("internal:png-write");
  result.ok = true;
  result.outputType = "png";
  addRemoved(result.removed, "metadata", "png chunks");
  return result;
}

// libjpeg reports fatal errors through error_exit, which must not return: longjmp back to the
// caller. No C++ object with a destructor lives between setjmp and the libjpeg calls.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
};

void jpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  std::longjmp(err->jump, 1);
}

void jpegSilence(j_common_ptr, int) {}

// Decodes into `pixels` (RGB); returns 0 on success, else a code.
int decodeJpeg(std::string_view bytes, uint32_t maxPixels, std::vector<unsigned char>* pixels,
               unsigned* width, unsigned* height) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpegErrorExit;
  err.mgr.emit_message = jpegSilence;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  if (cinfo.image_width == 0 || cinfo.image_height == 0 ||
      static_cast<uint64_t>(cinfo.image_width) * cinfo.image_height > maxPixels) {
    jpeg_destroy_decompress(&cinfo);
    return 2;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  *width = cinfo.output_width;
  *height = cinfo.output_height;
  size_t stride = static_cast<size_t>(cinfo.output_width) * 3;
  pixels->assign(stride * cinfo.output_height, 0);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels->data() + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return 0;
}

int encodeJpegRaw(const unsigned char* pixels, unsigned width, unsigned height, int quality, unsigned char** out,
                  unsigned long* outSize) {
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpegErrorExit;
  err.mgr.emit_message = jpegSilence;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    return 1;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, out, outSize);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.write_JFIF_header = TRUE;
  jpeg_start_compress(&cinfo, TRUE);
  size_t stride = static_cast<size_t>(width) * 3;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<unsigned char*>(pixels) + stride * cinfo.next_scanline;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return 0;
}

FormatResult rebuildJpeg(std::string_view bytes, const FormatLimits& limits) {
  std::vector<unsigned char> pixels;
  unsigned width = 0, height = 0;
  int rc = decodeJpeg(bytes, limits.maxImagePixels, &pixels, &width, &height);
  if (rc == 2) return FormatResult::fail("limit:image-pixels");
  if (rc != 0) return FormatResult::fail("parse-error");
  unsigned char* out = nullptr;
  unsigned long outSize = 0;
  rc = encodeJpegRaw(pixels.data(), width, height, 90, &out, &outSize);
  FormatResult result;
  if (rc == 0 && out != nullptr) {
    result.output.assign(reinterpret_cast<const char*>(out), outSize);
    result.ok = true;
    result.outputType = "jpeg";
    addRemoved(result.removed, "metadata", "jpeg markers");
  } else {
    result.reason = "internal:jpeg-write";
  }
  std::free(out);
  return result;
}

bool isGif(std::string_view b) { return b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a"); }
bool isBmp(std::string_view b) { return b.size() >= 2 && b.substr(0, 2) == "BM"; }
bool isTiff(std::string_view b) {
  return b.size() >= 4 && (b.substr(0, 4) == std::string_view("II*\0", 4) || b.substr(0, 4) == std::string_view("MM\0*", 4));
}

// GIF, BMP and TIFF come out as PNG: lossless for all three (8-bit RGBA covers their colour
// models as decoded), readable everywhere, and checked by the one PNG verifier we already trust.
FormatResult rebuildAsPng(std::string_view bytes, const FormatLimits& limits, const char* format) {
  Raster raster;
  bool droppedFrames = false;
  std::string what(format);
  DecodeError why = what == "gif"    ? decodeGif(bytes, limits.maxImagePixels, &raster, &droppedFrames)
                    : what == "bmp" ? decodeBmp(bytes, limits.maxImagePixels, &raster)
                                    : decodeTiff(bytes, limits.maxImagePixels, &raster);
  if (!why.empty()) return FormatResult::fail(why);
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = raster.width;
  image.height = raster.height;
  image.format = PNG_FORMAT_RGBA;
  FormatResult result;
  if (!encodePng(image, raster.rgba.data(), &result.output)) return FormatResult::fail("internal:png-write");
  result.ok = true;
  result.outputType = "png";
  addRemoved(result.removed, "metadata", what + " (converted to png)");
  if (droppedFrames) addRemoved(result.removed, "animation-frames", "gif (first frame kept)");
  return result;
}

}  // namespace

FormatResult sanitize(std::string_view bytes, const FormatLimits& limits) {
  if (isPng(bytes)) return rebuildPng(bytes, limits);
  if (isJpeg(bytes)) return rebuildJpeg(bytes, limits);
  if (isGif(bytes)) return rebuildAsPng(bytes, limits, "gif");
  if (isBmp(bytes)) return rebuildAsPng(bytes, limits, "bmp");
  if (isTiff(bytes)) return rebuildAsPng(bytes, limits, "tiff");
  return FormatResult::fail("type-blocked:image-format");
}

bool encodeJpeg(const unsigned char* rgb, unsigned width, unsigned height, int quality, std::string* out) {
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  int rc = encodeJpegRaw(rgb, width, height, quality, &buffer, &size);
  if (rc == 0 && buffer != nullptr) out->assign(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return rc == 0 && !out->empty();
}

std::string verify(std::string_view bytes, const FormatLimits& limits) {
  FormatResult again = sanitize(bytes, limits);
  return again.ok ? "" : "verify:" + again.reason;
}

}  // namespace lbg::sanitizer::image
