#pragma once

// The DCT coefficients of a progressive (SOF2, Huffman) JPEG, entropy-decoded by our own decoder,
// for the lossless transcode of pdf/image_codec.h (transcodeJpeg).
//
// Why our own: libjpeg-turbo 2.1.5 (Debian 12) decodes progressive scans bit by bit in jdphuff.c,
// without the fast Huffman path its baseline decoder has: the 27 progressive photographs of a
// 10 MB LibreOffice PDF cost 300 ms there against 88 ms for the same coefficients stored as
// baseline, which alone put the sanitizer's p99 over its 500 ms target (issue 15,
// tools/bench/sanitize/README.md). This decoder reads the same syntax (ITU-T T.81 Annex G) with a
// 64-bit window and 9-bit Huffman lookup tables.
//
// It is deliberately strict and never guesses: whatever libjpeg would only warn about and decode
// somehow (a bad Huffman code, a missing or misnumbered restart marker, data running into a
// marker, a bogus successive-approximation order, a run past the band), and whatever it does not
// need to handle (baseline, arithmetic coding, 12-bit, Adobe or late APP markers, unusual sampling),
// gives false, and the caller decodes the file with libjpeg as before. So for every file this
// decoder accepts, the coefficients are the ones libjpeg's jpeg_read_coefficients gives (checked
// by a unit test and by a differential fuzz target, fuzz/jpeg_progressive_fuzz.cc).

#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sanitizer/common/scratch_buffer.h"

namespace lbg::sanitizer::pdf {

struct JpegCoefficients {
  struct Component {
    uint8_t id = 0;
    uint8_t h = 1, v = 1;            // sampling factors
    uint8_t quantSlot = 0;           // the frame's Tq
    uint16_t quant[64] = {};         // its table as latched at the component's first scan, zigzag order
    uint32_t widthInBlocks = 0;      // ceil(width * h / (maxH * 8)), libjpeg's width_in_blocks
    uint32_t heightInBlocks = 0;
    uint32_t stride = 0;             // blocks per stored row (the MCU grid's, >= widthInBlocks)
    uint32_t rows = 0;               // stored block rows (the MCU grid's, >= heightInBlocks)
    int16_t* blocks = nullptr;       // stride * rows blocks of 64 coefficients, zigzag order
    const int16_t* block(uint32_t row, uint32_t col) const { return blocks + (size_t(row) * stride + col) * 64; }
  };
  uint32_t width = 0, height = 0;
  int components = 0;  // 1 (gray) or 3 (YCbCr)
  uint8_t maxH = 1, maxV = 1;
  Component comp[3];
  // JFIF APP0 as libjpeg's jpeg_copy_critical_parameters carries it into the output.
  bool sawJfif = false;
  uint8_t jfifMajor = 1, jfifMinor = 1, densityUnit = 0;
  uint16_t xDensity = 1, yDensity = 1;
  // The blocks live in this thread's jpegThreadBuffer(JpegBuffer::Coefficients): valid until the
  // next decode on the same thread.
};

// Working memory of the transcode, one buffer of each kind per thread, kept between photographs
// and outside the ScratchBuffer pool: a PDF's photographs would otherwise take pooled buffers
// from the OOXML rebuilders and each side would fault its memory in again (measured: the 10 MB
// .docm of the sanitizer bench slowed by a third when the photographs' buffers came from the
// pool). At least `bytes` bytes, contents undefined; a buffer grown beyond kJpegBufferKeep is
// given back at the next smaller request, so a thread keeps at most that much per kind.
enum class JpegBuffer { Coefficients, Entropy, Output, Planes };
inline constexpr size_t kJpegBufferKeep = size_t{64} << 20;
ScratchBuffer& jpegThreadBuffer(JpegBuffer which, size_t bytes);

// True when `bytes` is a progressive JPEG this decoder reads in full, 8-bit, gray (1x1) or YCbCr
// (luma 1x1, 2x1, 1x2 or 2x2, chroma 1x1), of exactly width x height and `components`; false for
// anything else (the caller then takes libjpeg). Throws std::bad_alloc only.
bool decodeProgressiveJpeg(std::string_view bytes, uint32_t width, uint32_t height, int components,
                           JpegCoefficients* out);

// Zigzag index -> natural (row-major) index, as libjpeg's jpeg_natural_order.
extern const uint8_t kJpegZigzagToNatural[64];

// The canonical Huffman codes of a table given as its counts per length (bits[1..16], T.81
// Figures C.1 and C.2, as libjpeg's derived tables): size[p] and code[p] of the p-th symbol in the
// table's order. The number of symbols, or -1 when the counts overflow a length (a code would be
// all ones; libjpeg refuses the table); the caller has checked that they sum to at most 256.
int jpegHuffmanCodes(const uint8_t bits[17], uint8_t size[256], uint16_t code[256]);

// Bit i set when coefficient i of a block (64 in zigzag order) is not zero: the decoder's
// refinement scans and the writer's run lengths walk these bits instead of the coefficients.
inline uint64_t jpegNonzeroMask(const int16_t* zz) {
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  uint64_t mask = 0;
  for (int i = 0; i < 64; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(zz + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(zz + i + 8));
    const __m128i zeros = _mm_packs_epi16(_mm_cmpeq_epi16(a, zero), _mm_cmpeq_epi16(b, zero));
    mask |= uint64_t(uint16_t(~_mm_movemask_epi8(zeros))) << i;
  }
  return mask;
#else
  uint64_t mask = 0;
  for (int i = 0; i < 64; ++i) mask |= uint64_t(zz[i] != 0) << i;
  return mask;
#endif
}

}  // namespace lbg::sanitizer::pdf
