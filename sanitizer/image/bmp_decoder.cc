// A small, strict BMP (Windows/OS2 DIB) decoder of our own. No BMP decoder in Debian is both small
// and maintained for untrusted input (the big image libraries carry hundreds of other coders), and
// the format is simple enough to read with every bound checked. Accepted: BITMAPCOREHEADER (12),
// BITMAPINFOHEADER (40) and its V2-V5 extensions (52, 56, 108, 124); uncompressed 1/4/8/16/24/32
// bits per pixel and BI_BITFIELDS 16/32. Refused ("unsupported:bmp-*"): RLE, embedded JPEG/PNG,
// other header sizes. Colour profiles (V5) and everything past the pixel rows are never read.

#include <cstring>

#include "sanitizer/image/raster.h"

namespace lbg::sanitizer::image {
namespace {

uint32_t le16(std::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]) | (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8);
}
uint32_t le32(std::string_view b, size_t at) { return le16(b, at) | (le16(b, at + 2) << 16); }

// A colour channel given by a bit mask: where it sits and how to scale it to 8 bits.
struct Channel {
  uint32_t mask = 0;
  int shift = 0;
  uint32_t max = 0;

  static bool from(uint32_t mask, Channel* c) {
    c->mask = mask;
    if (mask == 0) return true;
    while (((mask >> c->shift) & 1) == 0) ++c->shift;
    uint32_t bits = mask >> c->shift;
    if ((bits & (bits + 1)) != 0) return false;  // not contiguous
    c->max = bits;
    return true;
  }
  uint8_t get(uint32_t px, uint8_t absent) const {
    if (mask == 0) return absent;
    return static_cast<uint8_t>((static_cast<uint64_t>((px & mask) >> shift) * 255 + max / 2) / max);
  }
};

}  // namespace

DecodeError decodeBmp(std::string_view b, uint32_t maxPixels, Raster* out) {
  if (b.size() < 26 || b.substr(0, 2) != "BM") return "parse-error";
  uint32_t pixelOffset = le32(b, 10);
  uint32_t headerSize = le32(b, 14);
  int64_t width = 0, height = 0;
  uint32_t planes = 0, bpp = 0, compression = 0, colorsUsed = 0;
  bool core = headerSize == 12;
  if (core) {
    width = le16(b, 18);
    height = le16(b, 20);
    planes = le16(b, 22);
    bpp = le16(b, 24);
  } else if (headerSize == 40 || headerSize == 52 || headerSize == 56 || headerSize == 108 || headerSize == 124) {
    if (b.size() < 14 + static_cast<size_t>(headerSize)) return "parse-error";
    width = static_cast<int32_t>(le32(b, 18));
    height = static_cast<int32_t>(le32(b, 22));
    planes = le16(b, 26);
    bpp = le16(b, 28);
    compression = le32(b, 30);
    colorsUsed = le32(b, 46);
  } else {
    return "unsupported:bmp-header";
  }
  bool topDown = height < 0;
  if (topDown) height = -height;
  if (planes != 1 || width <= 0 || height <= 0) return "parse-error";
  if (compression == 1 || compression == 2) return "unsupported:bmp-rle";
  if (compression == 4 || compression == 5) return "unsupported:bmp-embedded";
  bool bitfields = compression == 3;
  if (compression != 0 && !bitfields) return "unsupported:bmp-compression";
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) return "parse-error";
  if (bitfields && bpp != 16 && bpp != 32) return "parse-error";
  if (!pixelsWithin(static_cast<uint64_t>(width), static_cast<uint64_t>(height), maxPixels)) {
    return "limit:image-pixels";
  }

  size_t afterHeader = 14 + headerSize;
  Channel red, green, blue, alpha;
  if (bitfields) {
    // Masks follow a 40-byte header, or are the first fields of a larger one.
    size_t at = 14 + 40;
    if (b.size() < at + 12) return "parse-error";
    if (!Channel::from(le32(b, at), &red) || !Channel::from(le32(b, at + 4), &green) ||
        !Channel::from(le32(b, at + 8), &blue)) {
      return "parse-error";
    }
    if (headerSize >= 56 && !Channel::from(le32(b, at + 12), &alpha)) return "parse-error";
    if (headerSize == 40) afterHeader += 12;
  } else if (bpp == 16) {
    Channel::from(0x7C00, &red);
    Channel::from(0x03E0, &green);
    Channel::from(0x001F, &blue);
  }

  std::vector<uint8_t> palette;  // RGB triples
  if (bpp <= 8) {
    uint32_t entries = colorsUsed == 0 ? (1u << bpp) : colorsUsed;
    if (entries > (1u << bpp)) return "parse-error";
    size_t entrySize = core ? 3 : 4;
    if (afterHeader + entries * entrySize > b.size() || afterHeader + entries * entrySize > pixelOffset) {
      return "parse-error";
    }
    for (uint32_t i = 0; i < entries; ++i) {
      size_t at = afterHeader + i * entrySize;
      palette.push_back(static_cast<uint8_t>(b[at + 2]));
      palette.push_back(static_cast<uint8_t>(b[at + 1]));
      palette.push_back(static_cast<uint8_t>(b[at]));
    }
  }

  uint64_t stride = ((static_cast<uint64_t>(width) * bpp + 31) / 32) * 4;
  if (pixelOffset < afterHeader || pixelOffset > b.size() ||
      stride * static_cast<uint64_t>(height) > b.size() - pixelOffset) {
    return "parse-error";  // truncated
  }
  out->width = static_cast<uint32_t>(width);
  out->height = static_cast<uint32_t>(height);
  out->rgba.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * 4, 0);
  uint32_t paletteSize = static_cast<uint32_t>(palette.size() / 3);
  for (int64_t row = 0; row < height; ++row) {
    const auto* src = reinterpret_cast<const uint8_t*>(b.data()) + pixelOffset + stride * static_cast<uint64_t>(row);
    int64_t y = topDown ? row : height - 1 - row;
    uint8_t* dst = &out->rgba[static_cast<size_t>(y) * static_cast<size_t>(width) * 4];
    for (int64_t x = 0; x < width; ++x, dst += 4) {
      dst[3] = 255;
      if (bpp <= 8) {
        uint64_t bit = static_cast<uint64_t>(x) * bpp;
        uint32_t index = (src[bit / 8] >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
        if (index >= paletteSize) return "parse-error";
        std::memcpy(dst, &palette[index * 3], 3);
      } else if (bpp == 24) {
        dst[0] = src[x * 3 + 2];
        dst[1] = src[x * 3 + 1];
        dst[2] = src[x * 3];
      } else if (bpp == 16) {
        uint32_t px = src[x * 2] | (static_cast<uint32_t>(src[x * 2 + 1]) << 8);
        dst[0] = red.get(px, 0);
        dst[1] = green.get(px, 0);
        dst[2] = blue.get(px, 0);
        dst[3] = alpha.get(px, 255);
      } else if (!bitfields) {  // 32-bit BI_RGB: BGRX, the fourth byte is not alpha
        dst[0] = src[x * 4 + 2];
        dst[1] = src[x * 4 + 1];
        dst[2] = src[x * 4];
      } else {
        const uint8_t* p = src + x * 4;
        uint32_t px = p[0] | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
                      (static_cast<uint32_t>(p[3]) << 24);
        dst[0] = red.get(px, 0);
        dst[1] = green.get(px, 0);
        dst[2] = blue.get(px, 0);
        dst[3] = alpha.get(px, 255);
      }
    }
  }
  return "";
}

}  // namespace lbg::sanitizer::image
