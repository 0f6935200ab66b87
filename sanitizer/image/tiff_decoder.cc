// TIFF through libtiff, reading from memory with its errors silenced per handle (TIFFOpenOptions,
// never the process-wide handlers). Only single-image files are read: a multi-page TIFF (a fax,
// a scan batch) is refused rather than silently cut to its first page. Compression is allow-listed
// to the schemes office scanners and fax software write; old-style JPEG, JBIG, LERC, WebP, ZSTD,
// LZMA and vendor codecs are refused before any strip is read. Tags, EXIF/GPS/XMP/ICC, private
// IFDs and the bytes between strips are never carried over: only the RGBA pixels are.

#include <tiffio.h>

#include <cstring>

#include "sanitizer/image/raster.h"

namespace lbg::sanitizer::image {
namespace {

struct Memory {
  std::string_view bytes;
  uint64_t pos = 0;
};

tmsize_t readProc(thandle_t h, void* buffer, tmsize_t size) {
  auto* m = static_cast<Memory*>(h);
  if (size <= 0 || m->pos >= m->bytes.size()) return 0;
  uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(size), m->bytes.size() - m->pos);
  std::memcpy(buffer, m->bytes.data() + m->pos, n);
  m->pos += n;
  return static_cast<tmsize_t>(n);
}
tmsize_t writeProc(thandle_t, void*, tmsize_t) { return -1; }
toff_t seekProc(thandle_t h, toff_t offset, int whence) {
  auto* m = static_cast<Memory*>(h);
  uint64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->bytes.size();
  if (offset > UINT64_MAX - base) return static_cast<toff_t>(-1);
  m->pos = base + offset;  // past the end is allowed (reads then return 0)
  return m->pos;
}
int closeProc(thandle_t) { return 0; }
toff_t sizeProc(thandle_t h) { return static_cast<Memory*>(h)->bytes.size(); }
int mapProc(thandle_t, void**, toff_t*) { return 0; }  // no mapping: every read goes through readProc
void unmapProc(thandle_t, void*, toff_t) {}
int silent(TIFF*, void*, const char*, const char*, va_list) { return 1; }

bool compressionAllowed(uint16_t c) {
  switch (c) {
    case COMPRESSION_NONE:
    case COMPRESSION_CCITTRLE:
    case COMPRESSION_CCITTFAX3:
    case COMPRESSION_CCITTFAX4:
    case COMPRESSION_LZW:
    case COMPRESSION_JPEG:
    case COMPRESSION_ADOBE_DEFLATE:
    case COMPRESSION_DEFLATE:
    case COMPRESSION_PACKBITS:
      return true;
    default:
      return false;
  }
}

struct TiffCloser {
  TIFF* tif;
  ~TiffCloser() {
    if (tif != nullptr) TIFFClose(tif);
  }
};

}  // namespace

DecodeError decodeTiff(std::string_view bytes, uint32_t maxPixels, Raster* out) {
  Memory memory{bytes, 0};
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  if (options == nullptr) return "limit:memory";
  TIFFOpenOptionsSetErrorHandlerExtR(options, silent, nullptr);
  TIFFOpenOptionsSetWarningHandlerExtR(options, silent, nullptr);
  // No single allocation larger than the biggest legitimate pixel buffer (RGBA at the cap).
  TIFFOpenOptionsSetMaxSingleMemAlloc(options, static_cast<tmsize_t>(maxPixels) * 4 + (1 << 20));
  TiffCloser closer{TIFFClientOpenExt("input", "rm", &memory, readProc, writeProc, seekProc, closeProc, sizeProc,
                                      mapProc, unmapProc, options)};
  TIFFOpenOptionsFree(options);
  TIFF* tif = closer.tif;
  if (tif == nullptr) return "parse-error";
  if (TIFFNumberOfDirectories(tif) != 1) return "unsupported:tiff-multipage";
  if (!TIFFSetDirectory(tif, 0)) return "parse-error";
  uint32_t width = 0, height = 0;
  uint16_t compression = COMPRESSION_NONE;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height)) {
    return "parse-error";
  }
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  if (!compressionAllowed(compression)) return "unsupported:tiff-compression";
  if (!pixelsWithin(width, height, maxPixels)) return "limit:image-pixels";
  char message[1024];
  if (!TIFFRGBAImageOK(tif, message)) return "unsupported:tiff-photometric";
  std::vector<uint32_t> abgr(static_cast<size_t>(width) * height);
  if (!TIFFReadRGBAImageOriented(tif, width, height, abgr.data(), ORIENTATION_TOPLEFT, 1)) return "parse-error";
  out->width = width;
  out->height = height;
  out->rgba.resize(abgr.size() * 4);
  for (size_t i = 0; i < abgr.size(); ++i) {
    out->rgba[i * 4] = static_cast<uint8_t>(TIFFGetR(abgr[i]));
    out->rgba[i * 4 + 1] = static_cast<uint8_t>(TIFFGetG(abgr[i]));
    out->rgba[i * 4 + 2] = static_cast<uint8_t>(TIFFGetB(abgr[i]));
    out->rgba[i * 4 + 3] = static_cast<uint8_t>(TIFFGetA(abgr[i]));
  }
  return "";
}

}  // namespace lbg::sanitizer::image
