#include "sanitizer/pdf/jpeg_baseline_writer.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>  // after <cstdio> and <cstddef>: it uses FILE and size_t


#include "sanitizer/common/scratch_buffer.h"

namespace lbg::sanitizer::pdf {
namespace {

struct HuffTable {
  uint8_t bits[17] = {};
  uint8_t vals[256] = {};
  int count = 0;
  uint16_t code[256] = {};
  uint8_t size[256] = {};
};

// The standard tables (T.81 K.3) as libjpeg's jpeg_set_defaults installs them: luminance DC and
// AC, chrominance DC and AC. Taken from libjpeg rather than typed again, so both writers agree.
struct StandardTables {
  HuffTable t[4];
};

const StandardTables& standardTables() {
  static const StandardTables tables = [] {
    StandardTables s;
    jpeg_compress_struct c;
    jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    c.in_color_space = JCS_RGB;
    c.input_components = 3;
    jpeg_set_defaults(&c);
    const JHUFF_TBL* from[4] = {c.dc_huff_tbl_ptrs[0], c.ac_huff_tbl_ptrs[0], c.dc_huff_tbl_ptrs[1],
                                c.ac_huff_tbl_ptrs[1]};
    for (int i = 0; i < 4; ++i) {
      HuffTable& h = s.t[i];
      for (int l = 1; l <= 16; ++l) h.count += h.bits[l] = from[i]->bits[l];
      std::memcpy(h.vals, from[i]->huffval, size_t(h.count));
      // Canonical codes, as jpeg_make_c_derived_tbl (the standard tables are valid).
      uint8_t size[256];
      uint16_t code[256];
      const int n = jpegHuffmanCodes(h.bits, size, code);
      for (int p = 0; p < n; ++p) {
        h.code[h.vals[p]] = code[p];
        h.size[h.vals[p]] = size[p];
      }
    }
    jpeg_destroy_compress(&c);
    return s;
  }();
  return tables;
}

// Entropy-coded bytes with 0xFF stuffed, as libjpeg's emit_bits.
class BitWriter {
 public:
  explicit BitWriter(ScratchBuffer& buffer) : buffer_(buffer), out_(reinterpret_cast<uint8_t*>(buffer.data())) {}
  // Room for `bytes` more bytes (called per row of MCUs with that row's worst case).
  void reserve(size_t bytes) {
    if (n_ + bytes <= buffer_.capacity()) return;
    buffer_.resize(n_);
    buffer_.resize(n_ + bytes);
    out_ = reinterpret_cast<uint8_t*>(buffer_.data());
  }
  void put(uint32_t value, int len) {  // len <= 27
    acc_ = (acc_ << len) | value;
    bits_ += len;
    if (bits_ >= 32) {
      bits_ -= 32;
      const uint32_t w = uint32_t(acc_ >> bits_);
      if ((((w & 0x7F7F7F7Fu) + 0x01010101u) & w & 0x80808080u) == 0) {
        const uint32_t bigEndian = __builtin_bswap32(w);
        std::memcpy(out_ + n_, &bigEndian, 4);
        n_ += 4;
      } else {
        for (int s = 24; s >= 0; s -= 8) byte(uint8_t(w >> s));
      }
    }
  }
  // Pads the last byte with ones, as libjpeg's flush_bits.
  size_t finish() {
    while (bits_ >= 8) {
      bits_ -= 8;
      byte(uint8_t(acc_ >> bits_));
    }
    if (bits_ > 0) byte(uint8_t((acc_ << (8 - bits_)) | (0xFFu >> bits_)));
    bits_ = 0;
    return n_;
  }

 private:
  void byte(uint8_t b) {
    out_[n_++] = b;
    if (b == 0xFF) out_[n_++] = 0;
  }
  ScratchBuffer& buffer_;
  uint8_t* out_;
  size_t n_ = 0;
  uint64_t acc_ = 0;
  int bits_ = 0;
};

inline int magnitudeBits(int v) { return v == 0 ? 0 : 32 - __builtin_clz(unsigned(v)); }

// libjpeg's encode_one_block.
inline bool encodeBlock(const int16_t* zz, int* lastDc, const HuffTable& dc, const HuffTable& ac, BitWriter& w) {
  const int v = zz[0];
  if (v < -1024 || v > 1023) return false;
  int diff = v - *lastDc;
  *lastDc = v;
  // A code and its extra bits go out together (at most 16 + 11 bits).
  int nbits = magnitudeBits(diff < 0 ? -diff : diff);
  w.put(uint32_t(dc.code[nbits]) << nbits | (uint32_t(diff < 0 ? diff - 1 : diff) & ((1u << nbits) - 1)),
        dc.size[nbits] + nbits);
  uint64_t mask = jpegNonzeroMask(zz) & ~uint64_t{1};
  int last = 0;
  while (mask != 0) {
    const int i = __builtin_ctzll(mask);
    mask &= mask - 1;
    int run = i - last - 1;
    last = i;
    while (run > 15) {
      w.put(ac.code[0xF0], ac.size[0xF0]);
      run -= 16;
    }
    const int a = zz[i];
    if (a < -1023 || a > 1023) return false;
    nbits = 32 - __builtin_clz(unsigned(a < 0 ? -a : a));  // a != 0
    const int symbol = run << 4 | nbits;
    w.put(uint32_t(ac.code[symbol]) << nbits | (uint32_t(a < 0 ? a - 1 : a) & ((1u << nbits) - 1)),
          ac.size[symbol] + nbits);
  }
  if (last != 63) w.put(ac.code[0], ac.size[0]);  // EOB
  return true;
}

void marker(std::string* out, uint8_t code, size_t length) {
  out->push_back(char(0xFF));
  out->push_back(char(code));
  out->push_back(char(length >> 8));
  out->push_back(char(length & 0xFF));
}

void huffmanSegment(std::string* out, const HuffTable& h, uint8_t index) {
  marker(out, 0xC4, size_t(2 + 1 + 16 + h.count));
  out->push_back(char(index));
  out->append(reinterpret_cast<const char*>(h.bits + 1), 16);
  out->append(reinterpret_cast<const char*>(h.vals), size_t(h.count));
}

}  // namespace

bool writeBaselineJpeg(const JpegCoefficients& image, std::string* out) {
  const StandardTables& std = standardTables();
  const int n = image.components;
  if (n != 1 && n != 3) return false;
  std::string head;
  head.append("\xFF\xD8", 2);
  if (n == 3) {
    // What libjpeg-turbo 2.1's jpeg_copy_critical_parameters keeps of the input's JFIF: its
    // version when 1.x, its density; else libjpeg's defaults (1.01, no unit, 1:1).
    const bool version = image.sawJfif && image.jfifMajor == 1;
    marker(&head, 0xE0, 16);
    head.append("JFIF\0", 5);
    head.push_back(char(version ? image.jfifMajor : 1));
    head.push_back(char(version ? image.jfifMinor : 1));
    head.push_back(char(image.sawJfif ? image.densityUnit : 0));
    const uint16_t x = image.sawJfif ? image.xDensity : 1, y = image.sawJfif ? image.yDensity : 1;
    head.push_back(char(x >> 8));
    head.push_back(char(x & 0xFF));
    head.push_back(char(y >> 8));
    head.push_back(char(y & 0xFF));
    head.append("\0\0", 2);
  }
  bool sent[4] = {};
  for (int c = 0; c < n; ++c) {
    const JpegCoefficients::Component& ci = image.comp[c];
    if (sent[ci.quantSlot]) continue;
    sent[ci.quantSlot] = true;
    marker(&head, 0xDB, 67);
    head.push_back(char(ci.quantSlot));
    for (int k = 0; k < 64; ++k) head.push_back(char(ci.quant[k]));
  }
  marker(&head, 0xC0, size_t(8 + 3 * n));
  head.push_back(8);
  head.push_back(char(image.height >> 8));
  head.push_back(char(image.height & 0xFF));
  head.push_back(char(image.width >> 8));
  head.push_back(char(image.width & 0xFF));
  head.push_back(char(n));
  for (int c = 0; c < n; ++c) {
    head.push_back(char(image.comp[c].id));
    head.push_back(char(image.comp[c].h << 4 | image.comp[c].v));
    head.push_back(char(image.comp[c].quantSlot));
  }
  huffmanSegment(&head, std.t[0], 0x00);
  huffmanSegment(&head, std.t[1], 0x10);
  if (n == 3) {
    huffmanSegment(&head, std.t[2], 0x01);
    huffmanSegment(&head, std.t[3], 0x11);
  }
  marker(&head, 0xDA, size_t(6 + 2 * n));
  head.push_back(char(n));
  for (int c = 0; c < n; ++c) {
    head.push_back(char(image.comp[c].id));
    head.push_back(char(c == 0 ? 0x00 : 0x11));
  }
  head.append("\x00\x3F\x00", 3);

  // At most 11 + 11 bits of DC and 63 x 26 bits of AC per block, doubled by stuffing: room for a
  // row of MCUs at that rate is made before each row (a photograph needs about its input's size).
  constexpr size_t kBlockBound = 420;
  ScratchBuffer& data = jpegThreadBuffer(JpegBuffer::Output, 0);
  BitWriter w(data);
  if (n == 1) {
    const JpegCoefficients::Component& c = image.comp[0];
    int lastDc = 0;
    for (uint32_t row = 0; row < c.heightInBlocks; ++row) {
      w.reserve(size_t(c.widthInBlocks) * kBlockBound + 64);
      for (uint32_t col = 0; col < c.widthInBlocks; ++col) {
        if (!encodeBlock(c.block(row, col), &lastDc, std.t[0], std.t[1], w)) return false;
      }
    }
  } else {
    // One interleaved scan over the MCU grid. A block of an edge MCU beyond the component's
    // blocks is a dummy (libjpeg's jctrans.c): zero AC and the previous block's DC, so it codes as
    // a DC difference of 0 and an EOB.
    int lastDc[3] = {};
    const uint32_t mcusX = image.comp[0].stride / image.comp[0].h, mcusY = image.comp[0].rows / image.comp[0].v;
    const size_t rowBound = size_t(mcusX) * (size_t(image.comp[0].h) * image.comp[0].v + 2) * kBlockBound + 64;
    for (uint32_t my = 0; my < mcusY; ++my) {
      w.reserve(rowBound);
      for (uint32_t mx = 0; mx < mcusX; ++mx) {
        for (int ci = 0; ci < 3; ++ci) {
          const JpegCoefficients::Component& c = image.comp[ci];
          const HuffTable& dc = std.t[ci == 0 ? 0 : 2];
          const HuffTable& ac = std.t[ci == 0 ? 1 : 3];
          for (uint32_t y = 0; y < c.v; ++y) {
            const uint32_t by = my * c.v + y;
            for (uint32_t x = 0; x < c.h; ++x) {
              const uint32_t bx = mx * c.h + x;
              if (by < c.heightInBlocks && bx < c.widthInBlocks) {
                if (!encodeBlock(c.block(by, bx), &lastDc[ci], dc, ac, w)) return false;
              } else {
                w.put(dc.code[0], dc.size[0]);
                w.put(ac.code[0], ac.size[0]);
              }
            }
          }
        }
      }
    }
  }
  w.reserve(16);
  const size_t bytes = w.finish();
  data.resize(bytes);
  out->clear();
  out->reserve(head.size() + bytes + 2);
  out->append(head);
  out->append(data.data(), bytes);
  out->append("\xFF\xD9", 2);
  return true;
}

}  // namespace lbg::sanitizer::pdf
