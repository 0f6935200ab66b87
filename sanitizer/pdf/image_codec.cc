#include "sanitizer/pdf/image_codec.h"

#include <jpeglib.h>
#include <libdeflate.h>

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sanitizer/pdf/jpeg_baseline_writer.h"
#include "sanitizer/pdf/jpeg_progressive.h"
#include "sanitizer/pdf/jpeg_reduced.h"

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

// Baseline Huffman coding has codes for quantised DC values in [-1024, 1023] (differences up to
// category 11) and AC values up to 1023 (category 10), which every real encoder stays within. A
// damaged file can decode to larger ones, and libjpeg-turbo's SIMD encoder would write those as
// codes that no reader decodes the same way; such a file takes the pixel path instead.
bool coefficientsInRange(j_decompress_ptr src, jvirt_barray_ptr* coefficients) {
  for (int c = 0; c < src->num_components; ++c) {
    const jpeg_component_info& ci = src->comp_info[c];
    for (JDIMENSION row = 0; row < ci.height_in_blocks; ++row) {
      JBLOCKARRAY rows = (*src->mem->access_virt_barray)(reinterpret_cast<j_common_ptr>(src), coefficients[c], row, 1,
                                                         FALSE);
      // One branch-free pass over the row (the compiler vectorises it), checked at its end,
      // instead of a compare and branch per coefficient (this scan reads every coefficient of
      // every photograph once more and showed in the profile). AC range [-1023, 1023] as one
      // unsigned compare; a row that fails it is looked at block by block, where DC may be -1024.
      unsigned outside = 0;
      for (JDIMENSION b = 0; b < ci.width_in_blocks; ++b) {
        const JCOEF* k = rows[0][b];
        for (int i = 0; i < DCTSIZE2; ++i) outside |= static_cast<uint16_t>(k[i] + 1023) > 2046u;
      }
      if (outside != 0) {
        for (JDIMENSION b = 0; b < ci.width_in_blocks; ++b) {
          const JCOEF* block = rows[0][b];
          if (block[0] < -1024 || block[0] > 1023) return false;
          for (int i = 1; i < DCTSIZE2; ++i) {
            if (block[i] < -1023 || block[i] > 1023) return false;
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

namespace {

// Decodes to gray, RGB or CMYK pixels at `eighths`/8 of the stored size (libjpeg's scaled inverse
// DCT: the smaller output costs less, not more). `width` x `height`, when not 0, is the size the
// file must declare.
bool decodeScaled(std::string_view bytes, uint32_t maxPixels, uint32_t width, uint32_t height, int eighths,
                  JpegPixels* out) {
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
      static_cast<uint64_t>(cinfo.image_width) * cinfo.image_height > maxPixels ||
      (width != 0 && (cinfo.image_width != width || cinfo.image_height != height))) {
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
  cinfo.scale_num = static_cast<unsigned>(eighths);
  cinfo.scale_denom = 8;
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

}  // namespace

bool decodeJpeg(std::string_view bytes, uint32_t maxPixels, JpegPixels* out) {
  return decodeScaled(bytes, maxPixels, 0, 0, 8, out);
}

bool decodeJpegReduced(std::string_view bytes, uint32_t width, uint32_t height, int eighths, JpegPixels* out) {
  if (eighths < 1 || eighths > 8 || width == 0 || height == 0) return false;
  // Gray or colour only: CMYK keeps the full path (it leaves as Flate pixels, inverted or not).
  return decodeScaled(bytes, UINT32_MAX, width, height, eighths, out) && out->components != 4;
}

bool transcodeJpeg(std::string_view bytes, uint32_t width, uint32_t height, int components, std::string* out) {
  // A progressive file (what LibreOffice writes photographs as) is decoded by jpeg_progressive.h
  // (in about two thirds of libjpeg-turbo 2.1.5's time here) and written byte for byte as libjpeg
  // would; every file it does not take in full goes through libjpeg below, as before.
  {
    JpegCoefficients coefficients;
    if (decodeProgressiveJpeg(bytes, width, height, components, &coefficients)) {
      return writeBaselineJpeg(coefficients, out);  // false: out of baseline's range, pixel path
    }
  }
  jpeg_decompress_struct src;
  jpeg_compress_struct dst;
  JpegError err;  // shared: either struct's fatal error lands at the same setjmp
  src.err = jpeg_std_error(&err.mgr);
  dst.err = &err.mgr;
  err.mgr.error_exit = jpegErrorExit;
  err.mgr.emit_message = jpegSilence;
  unsigned char* buffer = nullptr;
  unsigned char* volatile first = nullptr;  // our pre-sized output buffer; read after a longjmp
  unsigned long size = 0;
  volatile bool dstCreated = false;  // read after a longjmp
  if (setjmp(err.jump)) {
    if (dstCreated) jpeg_destroy_compress(&dst);
    jpeg_destroy_decompress(&src);
    // `buffer` is set by libjpeg only when the image is complete: here it is ours or unset. (A
    // buffer libjpeg grew into before failing is not reachable from here and leaks; only an
    // error inside the writer after growing past our guess can do that.)
    std::free(first);
    return false;
  }
  jpeg_create_decompress(&src);
  jpeg_mem_src(&src, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  // Only what every reader decodes the same way: 8-bit gray, or YCbCr with the luma sampled 1x1,
  // 2x1, 1x2 or 2x2 and the chroma 1x1. CMYK, RGB-coded (Adobe transform 0) and unusual sampling
  // take the pixel path, which writes them anew.
  bool fits = jpeg_read_header(&src, TRUE) == JPEG_HEADER_OK && src.image_width == width &&
              src.image_height == height && src.data_precision == 8 && src.num_components == components &&
              ((components == 1 && src.jpeg_color_space == JCS_GRAYSCALE) ||
               (components == 3 && src.jpeg_color_space == JCS_YCbCr));
  for (int c = 0; fits && c < src.num_components; ++c) {
    const jpeg_component_info& ci = src.comp_info[c];
    const bool luma = c == 0 && components == 3;
    fits = luma ? (ci.h_samp_factor == 1 || ci.h_samp_factor == 2) && (ci.v_samp_factor == 1 || ci.v_samp_factor == 2)
                : ci.h_samp_factor == 1 && ci.v_samp_factor == 1;
  }
  if (!fits) {
    jpeg_destroy_decompress(&src);
    return false;
  }
  // Every scan is entropy-decoded here (a progressive file included): what does not decode fails.
  jvirt_barray_ptr* coefficients = jpeg_read_coefficients(&src);
  if (coefficients == nullptr) {
    jpeg_destroy_decompress(&src);
    return false;
  }
  // Baseline needs 8-bit quantisation tables; a file with larger steps takes the pixel path.
  for (int c = 0; c < src.num_components; ++c) {
    const JQUANT_TBL* table = src.comp_info[c].quant_table;
    for (int k = 0; fits && k < DCTSIZE2; ++k) fits = table != nullptr && table->quantval[k] >= 1 && table->quantval[k] <= 255;
  }
  if (!fits || !coefficientsInRange(&src, coefficients)) {
    jpeg_destroy_decompress(&src);
    return false;
  }
  jpeg_create_compress(&dst);
  dstCreated = true;
  // libjpeg's memory destination starts at 4 KB and doubles (allocate, copy, free) as it fills;
  // handed a buffer of the likely size (standard Huffman tables make a progressive photograph
  // about a third larger), it writes the whole image into it. A larger output still grows into
  // buffers of libjpeg's (it frees each but the last, which `buffer` names at the end); ours is
  // never freed by libjpeg, so we free it, and `buffer` only if it is not ours.
  const unsigned long guess = static_cast<unsigned long>(bytes.size()) + bytes.size() / 2 + 65536;
  first = static_cast<unsigned char*>(std::malloc(guess));
  if (first == nullptr) std::longjmp(err.jump, 1);
  buffer = first;
  size = guess;
  jpeg_mem_dest(&dst, &buffer, &size);
  // Dimensions, colour space, sampling and quantisation tables only; defaults for the rest
  // (standard Huffman tables, sequential, no restart markers). No marker of the input is copied.
  jpeg_copy_critical_parameters(&src, &dst);
  dst.optimize_coding = FALSE;  // an optimising pass costs about 40 % more for 10 % less
  dst.write_JFIF_header = components == 3 ? TRUE : FALSE;
  dst.write_Adobe_marker = FALSE;
  jpeg_write_coefficients(&dst, coefficients);
  jpeg_finish_compress(&dst);
  jpeg_destroy_compress(&dst);
  jpeg_finish_decompress(&src);
  jpeg_destroy_decompress(&src);
  out->assign(reinterpret_cast<const char*>(buffer), size);
  if (buffer != first) std::free(buffer);
  std::free(first);
  return true;
}

namespace {

// One baseline JPEG into `out`, standard Huffman tables in one pass: `setup(cinfo)` after the
// defaults and the quality, `feed(cinfo)` writes every row after jpeg_start_compress. Both may
// only hold trivially destructible locals: a libjpeg error longjmps out through them.
template <typename Setup, typename Feed>
bool compressJpeg(uint32_t width, uint32_t height, int components, J_COLOR_SPACE space, int quality, Setup setup,
                  Feed feed, std::string* out) {
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
  cinfo.in_color_space = space;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = FALSE;  // one pass: standard Huffman tables
  setup(cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  if (!feed(cinfo)) std::longjmp(err.jump, 1);
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  out->assign(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return true;
}

// Quality of a photograph that is decoded to pixels and encoded again.
constexpr int kPhotographQuality = 90;

// Baseline JPEG from planes at their own sampling (libjpeg's raw data interface): what the
// planes' component sizes and padding are is jpeg_reduced.h's contract with this encoder.
bool encodePlanes(const ReducedPlanes& planes, int quality, std::string* out) {
  auto setup = [&](jpeg_compress_struct& cinfo) {
    for (int c = 0; c < planes.components; ++c) {
      cinfo.comp_info[c].h_samp_factor = planes.plane[c].h;
      cinfo.comp_info[c].v_samp_factor = planes.plane[c].v;
    }
    cinfo.raw_data_in = TRUE;
  };
  // Each call takes one MCU row: v * 8 rows of every component.
  auto feed = [&](jpeg_compress_struct& cinfo) {
    JSAMPROW rows[3][16];
    JSAMPARRAY components[3];
    const uint32_t step = 8u * planes.maxV;
    for (uint32_t mcuRow = 0; cinfo.next_scanline < cinfo.image_height; ++mcuRow) {
      for (int c = 0; c < planes.components; ++c) {
        const ReducedPlanes::Plane& p = planes.plane[c];
        for (uint32_t i = 0; i < 8u * p.v; ++i) rows[c][i] = p.samples + (size_t(mcuRow) * 8 * p.v + i) * p.stride;
        components[c] = rows[c];
      }
      if (jpeg_write_raw_data(&cinfo, components, step) != step) return false;
    }
    return true;
  };
  return compressJpeg(planes.width, planes.height, planes.components,
                      planes.components == 1 ? JCS_GRAYSCALE : JCS_YCbCr, quality, setup, feed, out);
}

}  // namespace

bool encodeJpegRows(const unsigned char* pixels, uint32_t width, uint32_t height, int components, size_t stride,
                    int quality, std::string* out, bool fastDct) {
  if (components != 1 && components != 3 && components != 4) return false;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr J_COLOR_SPACE kNativeXrgb = JCS_EXT_BGRX;
#else
  constexpr J_COLOR_SPACE kNativeXrgb = JCS_EXT_XRGB;
#endif
  const J_COLOR_SPACE space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : kNativeXrgb;
  auto setup = [&](jpeg_compress_struct& cinfo) {
    if (fastDct) cinfo.dct_method = JDCT_IFAST;
  };
  auto feed = [&](jpeg_compress_struct& cinfo) {
    while (cinfo.next_scanline < cinfo.image_height) {
      JSAMPROW row = const_cast<JSAMPROW>(pixels + stride * cinfo.next_scanline);
      jpeg_write_scanlines(&cinfo, &row, 1);
    }
    return true;
  };
  return compressJpeg(width, height, components, space, quality, setup, feed, out);
}

bool encodeJpeg(const JpegPixels& image, std::string* out) {
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.components) return false;
  return encodeJpegRows(reinterpret_cast<const unsigned char*>(image.pixels.data()), image.width, image.height,
                        image.components, static_cast<size_t>(image.width) * image.components, kPhotographQuality,
                        out);
}

bool reduceJpeg(std::string_view bytes, uint32_t width, uint32_t height, int eighths, ReducedJpeg* out) {
  if (eighths < 1 || eighths > 7 || width == 0 || height == 0) return false;
  for (int components : {3, 1}) {
    JpegCoefficients coefficients;
    ReducedPlanes planes;
    if (decodeProgressiveJpeg(bytes, width, height, components, &coefficients)) {
      if (!reduceCoefficients(coefficients, eighths, &planes) || !encodePlanes(planes, kPhotographQuality, &out->jpeg)) {
        return false;
      }
      out->width = planes.width;
      out->height = planes.height;
      out->components = planes.components;
      return true;
    }
  }
  JpegPixels pixels;
  if (!decodeJpegReduced(bytes, width, height, eighths, &pixels) || !encodeJpeg(pixels, &out->jpeg)) return false;
  out->width = pixels.width;
  out->height = pixels.height;
  out->components = pixels.components;
  return true;
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

bool inflateZlibExact(std::string_view data, size_t size, std::string* out) {
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  if (d == nullptr) return false;
  out->resize(size);
  size_t produced = 0;
  const libdeflate_result r = libdeflate_zlib_decompress(d, data.data(), data.size(), out->data(), size, &produced);
  libdeflate_free_decompressor(d);
  if (r != LIBDEFLATE_SUCCESS || produced != size) {
    out->clear();
    return false;
  }
  return true;
}

}  // namespace lbg::sanitizer::pdf
