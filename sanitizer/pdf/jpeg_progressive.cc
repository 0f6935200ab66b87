#include "sanitizer/pdf/jpeg_progressive.h"

#include <cstring>
#include <vector>


namespace lbg::sanitizer::pdf {

const uint8_t kJpegZigzagToNatural[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

namespace {

#define LBG_INLINE __attribute__((always_inline))

// Bytes of zeros after the unstuffed entropy data: a block reads at most about 256 bytes (63
// symbols of 16 bits plus 15 extra bits), and the overrun check runs before every block, so no
// read leaves the buffer however the data lies.
constexpr size_t kPadding = 1024;
// A DC predictor this far from zero is damaged data (8-bit JPEG DC values stay within +-2^11 after
// the shift): libjpeg would go on with it, we hand the file to libjpeg.
constexpr int kMaxDc = 1 << 16;

struct HuffSpec {
  bool defined = false;
  uint8_t bits[17] = {};
  uint8_t vals[256] = {};
};

struct HuffDecoder {
  uint16_t lut[512];     // the first 9 bits -> (code length << 8) | symbol; 0: a longer code
  int32_t maxcode[17];   // per length, -1 when the length has no code
  int32_t valoffset[17];
  uint8_t vals[256];
};

// libjpeg's jpeg_make_d_derived_tbl, with the same checks: no code may be all ones, and a table
// used for DC must not hold a category above 15.
bool buildDecoder(const HuffSpec& spec, bool dc, HuffDecoder* d) {
  uint8_t size[256];
  uint16_t code[256];
  const int count = jpegHuffmanCodes(spec.bits, size, code);
  if (count < 0) return false;
  int p = 0;
  for (int l = 1; l <= 16; ++l) {
    if (spec.bits[l] != 0) {
      d->valoffset[l] = p - code[p];
      p += spec.bits[l];
      d->maxcode[l] = code[p - 1];
    } else {
      d->valoffset[l] = 0;
      d->maxcode[l] = -1;
    }
  }
  std::memcpy(d->vals, spec.vals, sizeof d->vals);
  std::memset(d->lut, 0, sizeof d->lut);
  for (p = 0; p < count; ++p) {
    if (size[p] > 9) break;
    const int shift = 9 - size[p];
    for (int i = 0; i < (1 << shift); ++i) d->lut[(code[p] << shift) + i] = uint16_t(size[p] << 8 | spec.vals[p]);
  }
  if (dc) {
    for (p = 0; p < count; ++p) {
      if (spec.vals[p] > 15) return false;
    }
  }
  return true;
}

// Reads bits from unstuffed entropy data: a 64-bit big-endian window at any bit position, so a
// symbol and its extra bits come from one load.
struct BitReader {
  const uint8_t* buf;
  uint64_t pos;  // bits consumed
  uint64_t window() const {
    uint64_t v;
    std::memcpy(&v, buf + (pos >> 3), 8);
    return __builtin_bswap64(v) << (pos & 7);
  }
  uint32_t take(int n) {  // 0..16 bits
    if (n == 0) return 0;
    const uint32_t v = uint32_t(window() >> (64 - n));
    pos += unsigned(n);
    return v;
  }
  bool symbol(const HuffDecoder& d, int* sym) {
    const int len = decode(d, window(), sym);
    pos += unsigned(len);
    return len != 0;
  }
  // The symbol at the start of window `w` and its code length; 0 when no code matches (libjpeg
  // warns and decodes a 0 there; we hand the file over).
  static int decode(const HuffDecoder& d, uint64_t w, int* sym) {
    const uint32_t e = d.lut[w >> 55];
    if (e != 0) {
      *sym = int(e & 0xFF);
      return int(e >> 8);
    }
    for (int l = 10; l <= 16; ++l) {
      const int32_t code = int32_t(w >> (64 - l));
      if (code <= d.maxcode[l]) {
        const uint32_t index = uint32_t(d.valoffset[l] + code);
        if (index >= 256) return 0;
        *sym = d.vals[index];
        return l;
      }
    }
    return 0;
  }
};

inline int extend(uint32_t v, int s) { return v < (1u << (s - 1)) ? int(v) - (1 << s) + 1 : int(v); }

struct FrameComponent {
  bool latched = false;
  int16_t coefBits[64];  // libjpeg's coef_bits: the Al of the last scan of each coefficient, -1 before
};

struct Scan {
  int count = 0;
  int comp[4] = {};
  HuffDecoder* dc[4] = {};
  HuffDecoder* ac = nullptr;
  int ss = 0, se = 0, ah = 0, al = 0;
  uint32_t restartInterval = 0;
};

class Decoder {
 public:
  Decoder(std::string_view bytes, JpegCoefficients* out)
      : in_(reinterpret_cast<const uint8_t*>(bytes.data())), size_(bytes.size()), out_(out) {}

  bool run(uint32_t width, uint32_t height, int components);

 private:
  bool segmentLength(size_t* len) {
    if (pos_ + 2 > size_) return false;
    *len = size_t(in_[pos_]) << 8 | in_[pos_ + 1];
    return *len >= 2 && pos_ + *len <= size_;
  }
  bool readApp(uint8_t marker, size_t len);
  bool readDqt(size_t len);
  bool readDht(size_t len);
  bool readFrame(size_t len, uint32_t width, uint32_t height, int components);
  bool readScan(size_t len);
  bool unstuff();
  bool decodeScan(const Scan& scan);
  bool dcFirst(const Scan& scan, BitReader& br, uint64_t endBits, uint64_t first, uint64_t last, int* dcPred);
  bool dcRefine(const Scan& scan, BitReader& br, uint64_t endBits, uint64_t first, uint64_t last);
  bool acFirst(const Scan& scan, BitReader& br, uint64_t endBits, uint64_t first, uint64_t last);
  bool acRefine(const Scan& scan, BitReader& br, uint64_t endBits, uint64_t first, uint64_t last);

  const uint8_t* in_;
  size_t size_;
  size_t pos_ = 0;
  JpegCoefficients* out_;
  bool frame_ = false;
  bool scanSeen_ = false;
  uint32_t restartInterval_ = 0;
  HuffSpec dcSpec_[4], acSpec_[4];
  HuffDecoder dcDec_[4], acDec_[4];
  bool quantDefined_[4] = {};
  uint16_t quant_[4][64] = {};  // zigzag order, as in the file
  FrameComponent frameComp_[3];
  uint32_t mcusX_ = 0, mcusY_ = 0;
  // The scan's entropy data without stuffing, and where each restart interval starts in it.
  ScratchBuffer* clean_ = nullptr;  // this thread's JpegBuffer::Entropy
  struct Segment {
    size_t begin, end;
    int rst;  // the RSTn that began it, -1 for the first
  };
  std::vector<Segment> segments_;
};

bool Decoder::readApp(uint8_t marker, size_t len) {
  const uint8_t* d = in_ + pos_ + 2;
  const size_t n = len - 2;
  if (marker == 0xE0 && n >= 14 && std::memcmp(d, "JFIF\0", 5) == 0) {
    if (scanSeen_) return false;  // libjpeg would take it after the colour space was chosen
    out_->sawJfif = true;
    out_->jfifMajor = d[5];
    out_->jfifMinor = d[6];
    out_->densityUnit = d[7];
    out_->xDensity = uint16_t(d[8] << 8 | d[9]);
    out_->yDensity = uint16_t(d[10] << 8 | d[11]);
  }
  // An Adobe marker chooses the colour transform: left to libjpeg.
  if (marker == 0xEE && n >= 12 && std::memcmp(d, "Adobe", 5) == 0) return false;
  return true;
}

bool Decoder::readDqt(size_t len) {
  size_t p = pos_ + 2, end = pos_ + len;
  while (p < end) {
    const uint8_t pq = in_[p] >> 4, tq = in_[p] & 15;
    ++p;
    if (tq > 3 || pq > 1) return false;
    const size_t bytes = pq ? 128 : 64;
    if (p + bytes > end) return false;
    for (int i = 0; i < 64; ++i) quant_[tq][i] = pq ? uint16_t(in_[p + 2 * i] << 8 | in_[p + 2 * i + 1]) : in_[p + i];
    quantDefined_[tq] = true;
    p += bytes;
  }
  return true;
}

bool Decoder::readDht(size_t len) {
  size_t p = pos_ + 2, end = pos_ + len;
  while (p < end) {
    if (p + 17 > end) return false;
    const uint8_t index = in_[p];
    const int tc = index >> 4, th = index & 15;
    if (tc > 1 || th > 3) return false;
    HuffSpec& spec = tc ? acSpec_[th] : dcSpec_[th];
    int count = 0;
    spec.bits[0] = 0;
    for (int l = 1; l <= 16; ++l) count += spec.bits[l] = in_[p + l];
    p += 17;
    if (count > 256 || p + size_t(count) > end) return false;
    std::memset(spec.vals, 0, sizeof spec.vals);
    std::memcpy(spec.vals, in_ + p, size_t(count));
    spec.defined = true;
    p += size_t(count);
  }
  return true;
}

bool Decoder::readFrame(size_t len, uint32_t width, uint32_t height, int components) {
  const uint8_t* d = in_ + pos_ + 2;
  if (frame_ || len < 8) return false;
  const int nf = d[5];
  if (len != size_t(8 + 3 * nf) || d[0] != 8 || nf != components || (nf != 1 && nf != 3)) return false;
  out_->height = uint32_t(d[1] << 8 | d[2]);
  out_->width = uint32_t(d[3] << 8 | d[4]);
  // libjpeg refuses sides above JPEG_MAX_DIMENSION (65500), and a height of 0 (DNL).
  if (out_->width != width || out_->height != height || width == 0 || height == 0 || width > 65500 ||
      height > 65500) {
    return false;
  }
  out_->components = nf;
  uint8_t maxH = 1, maxV = 1;
  for (int c = 0; c < nf; ++c) {
    JpegCoefficients::Component& ci = out_->comp[c];
    ci.id = d[6 + 3 * c];
    ci.h = d[7 + 3 * c] >> 4;
    ci.v = d[7 + 3 * c] & 15;
    ci.quantSlot = d[8 + 3 * c];
    if (ci.quantSlot > 3) return false;
    for (int o = 0; o < c; ++o) {
      if (out_->comp[o].id == ci.id) return false;
    }
    // What transcodeJpeg takes: gray 1x1; luma 1x1, 2x1, 1x2 or 2x2 with chroma 1x1.
    const bool luma = c == 0 && nf == 3;
    if (luma ? (ci.h < 1 || ci.h > 2 || ci.v < 1 || ci.v > 2) : (ci.h != 1 || ci.v != 1)) return false;
    maxH = ci.h > maxH ? ci.h : maxH;
    maxV = ci.v > maxV ? ci.v : maxV;
  }
  // Colour: JFIF, or no marker and the component ids JFIF gives, are YCbCr to libjpeg; anything
  // else (RGB ids, other ids) is left to it.
  if (nf == 3 && !out_->sawJfif &&
      !(out_->comp[0].id == 1 && out_->comp[1].id == 2 && out_->comp[2].id == 3)) {
    return false;
  }
  out_->maxH = maxH;
  out_->maxV = maxV;
  mcusX_ = (width + 8u * maxH - 1) / (8u * maxH);
  mcusY_ = (height + 8u * maxV - 1) / (8u * maxV);
  size_t blocks = 0;
  for (int c = 0; c < nf; ++c) {
    JpegCoefficients::Component& ci = out_->comp[c];
    ci.widthInBlocks = uint32_t((uint64_t(width) * ci.h + 8u * maxH - 1) / (8u * maxH));
    ci.heightInBlocks = uint32_t((uint64_t(height) * ci.v + 8u * maxV - 1) / (8u * maxV));
    ci.stride = mcusX_ * ci.h;
    ci.rows = mcusY_ * ci.v;
    blocks += size_t(ci.stride) * ci.rows;
    for (int k = 0; k < 64; ++k) frameComp_[c].coefBits[k] = -1;
  }
  if (blocks > (size_t{1} << 21)) return false;  // 256 MB of coefficients: left to libjpeg
  ScratchBuffer& storage = jpegThreadBuffer(JpegBuffer::Coefficients, blocks * 128);
  storage.resize(blocks * 128);
  std::memset(storage.data(), 0, blocks * 128);
  int16_t* at = reinterpret_cast<int16_t*>(storage.data());
  for (int c = 0; c < nf; ++c) {
    out_->comp[c].blocks = at;
    at += size_t(out_->comp[c].stride) * out_->comp[c].rows * 64;
  }
  frame_ = true;
  return true;
}

// The checks of libjpeg's start_pass_phuff_decoder and latch_quant_tables, where libjpeg errors
// or warns: both give false here.
bool Decoder::readScan(size_t len) {
  const uint8_t* d = in_ + pos_ + 2;
  if (!frame_ || len < 3) return false;
  Scan scan;
  scan.count = d[0];
  if (scan.count < 1 || scan.count > out_->components || len != size_t(6 + 2 * scan.count)) return false;
  int td[4], ta[4];
  for (int i = 0; i < scan.count; ++i) {
    // libjpeg's get_sos takes frame component c for scan slot i only while slot c is free, i.e.
    // c >= i: a scan naming a component before its frame order is refused there.
    int found = -1;
    for (int c = i; c < out_->components; ++c) {
      if (out_->comp[c].id == d[1 + 2 * i]) found = c;
    }
    for (int o = 0; o < i; ++o) {
      if (scan.comp[o] == found) found = -1;
    }
    if (found < 0) return false;
    scan.comp[i] = found;
    td[i] = d[2 + 2 * i] >> 4;
    ta[i] = d[2 + 2 * i] & 15;
    if (td[i] > 3 || ta[i] > 3) return false;
  }
  const uint8_t* t = d + 1 + 2 * scan.count;
  scan.ss = t[0];
  scan.se = t[1];
  scan.ah = t[2] >> 4;
  scan.al = t[2] & 15;
  const bool dcBand = scan.ss == 0;
  if (dcBand ? scan.se != 0 : (scan.ss > scan.se || scan.se > 63 || scan.count != 1)) return false;
  if ((scan.ah != 0 && scan.al != scan.ah - 1) || scan.al > 13) return false;
  for (int i = 0; i < scan.count; ++i) {
    FrameComponent& fc = frameComp_[scan.comp[i]];
    if (!dcBand && fc.coefBits[0] < 0) return false;  // AC before any DC
    for (int k = scan.ss; k <= scan.se; ++k) {
      const int expected = fc.coefBits[k] < 0 ? 0 : fc.coefBits[k];
      if (scan.ah != expected) return false;
      fc.coefBits[k] = int16_t(scan.al);
    }
    if (!fc.latched) {
      JpegCoefficients::Component& ci = out_->comp[scan.comp[i]];
      if (!quantDefined_[ci.quantSlot]) return false;
      std::memcpy(ci.quant, quant_[ci.quantSlot], sizeof ci.quant);
      fc.latched = true;
    }
    if (dcBand && scan.ah == 0) {
      if (!dcSpec_[td[i]].defined || !buildDecoder(dcSpec_[td[i]], true, &dcDec_[i])) return false;
      scan.dc[i] = &dcDec_[i];
    }
  }
  if (!dcBand) {
    if (!acSpec_[ta[0]].defined || !buildDecoder(acSpec_[ta[0]], false, &acDec_[0])) return false;
    scan.ac = &acDec_[0];
  }
  scan.restartInterval = restartInterval_;
  scanSeen_ = true;
  pos_ += len;
  return unstuff() && decodeScan(scan);
}

// Copies the scan's entropy-coded bytes from pos_ up to the marker that ends the scan, without
// byte stuffing, splitting it where RSTn markers are, as libjpeg's bit reader sees them: 0xFF
// followed by fill bytes 0xFF and then 0x00 is one data byte 0xFF.
bool Decoder::unstuff() {
  if (clean_ == nullptr) clean_ = &jpegThreadBuffer(JpegBuffer::Entropy, size_ + kPadding);
  uint8_t* out = reinterpret_cast<uint8_t*>(clean_->data());
  size_t n = 0;
  segments_.clear();
  segments_.push_back({0, 0, -1});
  size_t p = pos_;
  while (p < size_) {
    const void* ff = std::memchr(in_ + p, 0xFF, size_ - p);
    const size_t at = ff == nullptr ? size_ : size_t(static_cast<const uint8_t*>(ff) - in_);
    std::memcpy(out + n, in_ + p, at - p);
    n += at - p;
    p = at;
    if (p >= size_) break;
    size_t q = p + 1;
    while (q < size_ && in_[q] == 0xFF) ++q;
    if (q >= size_) {
      p = size_;
      break;
    }
    if (in_[q] == 0x00) {
      out[n++] = 0xFF;
      p = q + 1;
      continue;
    }
    if (in_[q] >= 0xD0 && in_[q] <= 0xD7) {
      segments_.back().end = n;
      segments_.push_back({n, n, in_[q] & 7});
      p = q + 1;
      continue;
    }
    p = q - 1;  // the marker that ends the scan (its last fill byte)
    break;
  }
  segments_.back().end = n;
  std::memset(out + n, 0, kPadding);
  clean_->resize(n + kPadding);
  pos_ = p;
  return true;
}

bool Decoder::decodeScan(const Scan& scan) {
  const JpegCoefficients::Component& c0 = out_->comp[scan.comp[0]];
  const uint64_t mcus = scan.count == 1 ? uint64_t(c0.widthInBlocks) * c0.heightInBlocks
                                        : uint64_t(mcusX_) * mcusY_;
  const uint64_t interval = scan.restartInterval == 0 ? mcus : scan.restartInterval;
  int dcPred[4];
  for (uint64_t first = 0, s = 0; first < mcus; first += interval, ++s) {
    // Interval s lies in segment s, which RST((s - 1) mod 8) began.
    if (s >= segments_.size() || (s > 0 && segments_[s].rst != int((s - 1) & 7))) return false;
    const uint64_t last = first + interval < mcus ? first + interval : mcus;
    BitReader br{reinterpret_cast<const uint8_t*>(clean_->data()) + segments_[s].begin, 0};
    const uint64_t endBits = uint64_t(segments_[s].end - segments_[s].begin) * 8;
    for (int i = 0; i < 4; ++i) dcPred[i] = 0;
    bool ok;
    if (scan.ss == 0) {
      ok = scan.ah == 0 ? dcFirst(scan, br, endBits, first, last, dcPred) : dcRefine(scan, br, endBits, first, last);
    } else {
      ok = scan.ah == 0 ? acFirst(scan, br, endBits, first, last) : acRefine(scan, br, endBits, first, last);
    }
    // Bits past the interval's data: libjpeg would have read zeros in their place and warned.
    if (!ok || br.pos > endBits) return false;
  }
  return true;
}

// Calls fn(component index in scan, block) for each block of MCUs [first, last), in order.
template <typename Fn>
bool forEachBlock(const JpegCoefficients& out, const Scan& scan, uint32_t mcusX, uint64_t first, uint64_t last,
                  const BitReader& br, uint64_t endBits, Fn&& fn) {
  if (scan.count == 1) {
    const JpegCoefficients::Component& c = out.comp[scan.comp[0]];
    uint32_t row = uint32_t(first / c.widthInBlocks), col = uint32_t(first % c.widthInBlocks);
    int16_t* blk = c.blocks + (size_t(row) * c.stride + col) * 64;
    for (uint64_t m = first; m < last; ++m) {
      if (br.pos > endBits) return false;
      if (!fn(0, blk)) return false;
      blk += 64;
      if (++col == c.widthInBlocks) {
        col = 0;
        ++row;
        blk = c.blocks + size_t(row) * c.stride * 64;
      }
    }
    return true;
  }
  uint32_t mrow = uint32_t(first / mcusX), mcol = uint32_t(first % mcusX);
  for (uint64_t m = first; m < last; ++m) {
    if (br.pos > endBits) return false;
    for (int i = 0; i < scan.count; ++i) {
      const JpegCoefficients::Component& c = out.comp[scan.comp[i]];
      for (uint32_t y = 0; y < c.v; ++y) {
        int16_t* blk = c.blocks + ((size_t(mrow) * c.v + y) * c.stride + size_t(mcol) * c.h) * 64;
        for (uint32_t x = 0; x < c.h; ++x, blk += 64) {
          if (!fn(i, blk)) return false;
        }
      }
    }
    if (++mcol == mcusX) {
      mcol = 0;
      ++mrow;
    }
  }
  return true;
}

bool Decoder::dcFirst(const Scan& scan, BitReader& reader, uint64_t endBits, uint64_t first, uint64_t last,
                      int* dcPred) {
  BitReader br = reader;  // a local copy the compiler keeps in registers
  const int al = scan.al;
  const bool ok = forEachBlock(*out_, scan, mcusX_, first, last, br, endBits, [&](int i, int16_t* blk) LBG_INLINE {
    int s;
    if (!br.symbol(*scan.dc[i], &s)) return false;
    const int diff = s ? extend(br.take(s), s) : 0;
    dcPred[i] += diff;
    if (dcPred[i] > kMaxDc || dcPred[i] < -kMaxDc) return false;
    blk[0] = int16_t(uint16_t(unsigned(dcPred[i]) << al));
    return true;
  });
  reader = br;
  return ok;
}

bool Decoder::dcRefine(const Scan& scan, BitReader& reader, uint64_t endBits, uint64_t first, uint64_t last) {
  BitReader br = reader;  // a local copy the compiler keeps in registers
  const int16_t p1 = int16_t(1 << scan.al);
  const bool ok = forEachBlock(*out_, scan, mcusX_, first, last, br, endBits, [&](int, int16_t* blk) LBG_INLINE {
    if (br.take(1)) blk[0] = int16_t(blk[0] | p1);
    return true;
  });
  reader = br;
  return ok;
}

bool Decoder::acFirst(const Scan& scan, BitReader& reader, uint64_t endBits, uint64_t first, uint64_t last) {
  BitReader br = reader;  // a local copy the compiler keeps in registers
  const HuffDecoder& ac = *scan.ac;
  const int ss = scan.ss, se = scan.se, al = scan.al;
  uint32_t eobrun = 0;
  const bool ok = forEachBlock(*out_, scan, mcusX_, first, last, br, endBits, [&](int, int16_t* blk) LBG_INLINE {
    if (eobrun > 0) {
      --eobrun;
      return true;
    }
    for (int k = ss; k <= se;) {
      // The symbol and its extra bits (at most 16 + 15) from one window.
      const uint64_t w = br.window();
      int sym;
      const int len = BitReader::decode(ac, w, &sym);
      if (len == 0) return false;
      const int r = sym >> 4, s = sym & 15;
      if (s != 0) {
        k += r;
        if (k > se) return false;  // libjpeg writes past the band here
        const uint32_t bits = uint32_t((w << len) >> (64 - s));
        br.pos += unsigned(len + s);
        blk[k] = int16_t(uint16_t(unsigned(extend(bits, s)) << al));
        ++k;
      } else if (r == 15) {
        br.pos += unsigned(len);
        k += 16;
      } else {
        br.pos += unsigned(len);
        eobrun = (1u << r) - 1 + br.take(r);
        break;
      }
    }
    return true;
  });
  reader = br;
  return ok;
}

inline uint64_t atOrAbove(int k) { return ~uint64_t{0} << k; }           // k in 0..63
inline uint64_t below(int k) { return k >= 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1; }

// libjpeg's decode_mcu_AC_refine, in the same order of bits, with the block's nonzero
// coefficients as a bit mask: the correction bits of the nonzero coefficients a run passes are
// read together and the zeros it counts are found with bit operations, instead of a branch per
// coefficient (the refinement scans were two thirds of the decode).
bool Decoder::acRefine(const Scan& scan, BitReader& reader, uint64_t endBits, uint64_t first, uint64_t last) {
  BitReader br = reader;  // a local copy the compiler keeps in registers
  const HuffDecoder& ac = *scan.ac;
  const int ss = scan.ss, se = scan.se;
  const int p1 = 1 << scan.al, m1 = -(1 << scan.al);
  const uint64_t band = atOrAbove(ss) & below(se + 1);
  uint32_t eobrun = 0;
  // One correction bit per coefficient of `mask`, lowest position first.
  auto correct = [&](int16_t* blk, uint64_t mask) LBG_INLINE {
    if (mask == 0) return;
    uint64_t w = br.window();
    int used = 0;
    while (mask != 0) {
      if (used == 56) {
        br.pos += 56;
        w = br.window();
        used = 0;
      }
      int16_t& coef = blk[__builtin_ctzll(mask)];
      mask &= mask - 1;
      // Branch-free: the correction bits are as good as random to a branch predictor.
      const int c = coef;
      const int apply = int(w >> 63) & int((c & p1) == 0);
      coef = int16_t(c + ((c >= 0 ? p1 : m1) & -apply));
      w <<= 1;
      ++used;
    }
    br.pos += unsigned(used);
  };
  const bool ok = forEachBlock(*out_, scan, mcusX_, first, last, br, endBits, [&](int, int16_t* blk) LBG_INLINE {
    uint64_t nz = jpegNonzeroMask(blk);
    int k = ss;
    if (eobrun == 0) {
      for (; k <= se; ++k) {
        const uint64_t w = br.window();
        int sym;
        const int len = BitReader::decode(ac, w, &sym);
        if (len == 0) return false;
        const int r = sym >> 4;
        int s = sym & 15;
        if (s != 0) {
          if (s != 1) return false;  // libjpeg warns and goes on
          s = (w << len) >> 63 ? p1 : m1;
          br.pos += unsigned(len + 1);
        } else if (r != 15) {
          br.pos += unsigned(len);
          eobrun = (1u << r) + br.take(r);
          break;
        } else {
          br.pos += unsigned(len);
        }
        // Skip r zeros, correcting the nonzero coefficients passed: stop at the next zero after
        // them (where a new coefficient goes), or past the band.
        const uint64_t from = atOrAbove(k) & band;
        uint64_t zeros = ~nz & from;
        for (int i = 0; i < r && zeros != 0; ++i) zeros &= zeros - 1;
        const int target = zeros != 0 ? __builtin_ctzll(zeros) : se + 1;
        correct(blk, nz & from & below(target));
        k = target;
        if (s != 0) {
          if (k > se) return false;  // libjpeg writes past the band here
          blk[k] = int16_t(s);
          nz |= uint64_t{1} << k;
        }
      }
    }
    if (eobrun > 0) {
      if (k <= se) correct(blk, nz & band & atOrAbove(k));
      --eobrun;
    }
    return true;
  });
  reader = br;
  return ok;
}

bool Decoder::run(uint32_t width, uint32_t height, int components) {
  if (size_ < 4 || in_[0] != 0xFF || in_[1] != 0xD8) return false;
  pos_ = 2;
  for (;;) {
    if (pos_ >= size_) break;  // no EOI: libjpeg supplies one (and warns); the scans are whole
    if (in_[pos_] != 0xFF) return false;
    while (pos_ < size_ && in_[pos_] == 0xFF) ++pos_;
    if (pos_ >= size_) break;
    const uint8_t marker = in_[pos_++];
    if (marker == 0xD9) break;                                           // EOI
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;  // parameterless
    size_t len;
    if (!segmentLength(&len)) return false;
    bool ok;
    switch (marker) {
      case 0xC2: ok = readFrame(len, width, height, components); break;
      case 0xC4: ok = readDht(len); break;
      case 0xDB: ok = readDqt(len); break;
      case 0xDD:
        ok = len == 4;
        if (ok) restartInterval_ = uint32_t(in_[pos_ + 2] << 8 | in_[pos_ + 3]);
        break;
      case 0xDA:
        if (!readScan(len)) return false;
        continue;  // readScan moved pos_ to the marker after the scan
      case 0xFE: ok = true; break;
      default:
        // APPn only; any other frame type (baseline, lossless, arithmetic), DNL, DAC, JPG and
        // reserved markers are libjpeg's.
        ok = marker >= 0xE0 && marker <= 0xEF && readApp(marker, len);
        break;
    }
    if (!ok) return false;
    pos_ += len;
  }
  if (!frame_ || !scanSeen_) return false;
  // libjpeg's jpeg_copy_critical_parameters: the slot's final table must be the one the
  // component latched, and baseline needs 8-bit steps.
  for (int c = 0; c < out_->components; ++c) {
    const JpegCoefficients::Component& ci = out_->comp[c];
    if (!frameComp_[c].latched || std::memcmp(ci.quant, quant_[ci.quantSlot], sizeof ci.quant) != 0) return false;
    for (int k = 0; k < 64; ++k) {
      if (ci.quant[k] < 1 || ci.quant[k] > 255) return false;
    }
  }
  return true;
}

}  // namespace

int jpegHuffmanCodes(const uint8_t bits[17], uint8_t size[256], uint16_t code[256]) {
  int count = 0;
  uint32_t c = 0;
  for (int l = 1; l <= 16; ++l) {
    for (int i = 0; i < bits[l]; ++i) {
      size[count] = uint8_t(l);
      code[count++] = uint16_t(c++);
    }
    // libjpeg checks after each length that has codes (an empty one cannot fail it).
    if (bits[l] != 0 && c >= (1u << l)) return -1;
    c <<= 1;
  }
  return count;
}

ScratchBuffer& jpegThreadBuffer(JpegBuffer which, size_t bytes) {
  thread_local ScratchBuffer buffers[4];
  ScratchBuffer& b = buffers[static_cast<int>(which)];
  if (b.capacity() > kJpegBufferKeep && bytes <= kJpegBufferKeep) b = ScratchBuffer();
  b.clear();
  if (b.capacity() < bytes) b.resize(bytes);
  return b;
}

bool decodeProgressiveJpeg(std::string_view bytes, uint32_t width, uint32_t height, int components,
                           JpegCoefficients* out) {
  Decoder decoder(bytes, out);
  return decoder.run(width, height, components);
}

}  // namespace lbg::sanitizer::pdf
