#include "sanitizer/pdf/jpeg_reduced.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace lbg::sanitizer::pdf {
namespace {

// basis[N][u][x] = C(u)/2 * cos((2x + 1) u pi / 2N), C(0) = 1/sqrt(2), else 1: the N-point inverse
// DCT of the first N coefficients of an 8-point JPEG DCT (T.81 A.3.3 with 2N in place of 16). The
// same continuous cosines sampled at N points, so DC keeps the block's mean and each frequency its
// amplitude. Lanes x >= N are 0 so that every row is 8 floats wide and the loops vectorise.
using Basis = std::array<std::array<std::array<float, 8>, 8>, 8>;

const Basis& basis() {
  static const Basis table = [] {
    Basis b{};
    for (int n = 1; n <= 7; ++n) {
      for (int u = 0; u < n; ++u) {
        const double c = u == 0 ? std::sqrt(0.5) : 1.0;
        for (int x = 0; x < n; ++x) b[n][u][x] = static_cast<float>(c / 2 * std::cos((2 * x + 1) * u * M_PI / (2 * n)));
      }
    }
    return b;
  }();
  return table;
}

// Zigzag positions of the top-left N x N coefficients, per N: the only ones an N-point transform
// reads.
std::array<uint64_t, 8> bandMasks() {
  std::array<uint64_t, 8> masks{};
  for (int n = 1; n < 8; ++n) {
    for (int k = 0; k < 64; ++k) {
      const int natural = kJpegZigzagToNatural[k];
      if ((natural >> 3) < n && (natural & 7) < n) masks[n] |= uint64_t{1} << k;
    }
  }
  return masks;
}

uint8_t toSample(float value) {
  return static_cast<uint8_t>(std::clamp(value + 128.0f, 0.0f, 255.0f) + 0.5f);
}

// One block: N x N samples (level-shifted, rounded and clamped) at `out`, rows `stride` apart, of
// which only the first `columns` x `rows` are stored (a block on the component's edge).
void inverseBlock(const int16_t* zz, const uint16_t* quant, int n, const Basis& b, uint64_t band, uint8_t* out,
                  uint32_t stride, int columns, int rows) {
  // Dequantised coefficients in natural order, found through the nonzero bits: most of a
  // photograph's blocks hold a few, and many only their DC.
  uint64_t bits = jpegNonzeroMask(zz) & band;
  if ((bits & ~uint64_t{1}) == 0) {
    const uint8_t flat = toSample(static_cast<float>(zz[0]) * quant[0] * b[n][0][0] * b[n][0][0]);
    for (int y = 0; y < rows; ++y) std::memset(out + size_t(y) * stride, flat, size_t(columns));
    return;
  }
  float f[8][8];
  unsigned usedRows = 0;  // bit v: row v of the coefficients holds a nonzero one
  for (int r = 0; r < n; ++r) std::fill(f[r], f[r] + 8, 0.0f);
  while (bits != 0) {
    const int k = __builtin_ctzll(bits);
    bits &= bits - 1;
    const int natural = kJpegZigzagToNatural[k];
    f[natural >> 3][natural & 7] = static_cast<float>(zz[k]) * quant[k];
    usedRows |= 1u << (natural >> 3);
  }
  // Rows, then columns; each step is 8 lanes wide, and rows of zeros are left out of both.
  float t[8][8];
  for (int v = 0; v < n; ++v) {
    if ((usedRows >> v & 1) == 0) continue;
    float acc[8] = {};
    for (int u = 0; u < n; ++u) {
      const float c = f[v][u];
      for (int x = 0; x < 8; ++x) acc[x] += c * b[n][u][x];
    }
    std::memcpy(t[v], acc, sizeof acc);
  }
  for (int y = 0; y < rows; ++y) {
    float acc[8] = {};
    for (int v = 0; v < n; ++v) {
      if ((usedRows >> v & 1) == 0) continue;
      const float c = b[n][v][y];
      for (int x = 0; x < 8; ++x) acc[x] += c * t[v][x];
    }
    uint8_t* row = out + size_t(y) * stride;
    for (int x = 0; x < columns; ++x) row[x] = toSample(acc[x]);
  }
}

uint32_t divideRoundUp(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

}  // namespace

bool reduceCoefficients(const JpegCoefficients& image, int eighths, ReducedPlanes* out) {
  if (eighths < 1 || eighths > 7 || (image.components != 1 && image.components != 3)) return false;
  const int n = eighths;
  ReducedPlanes& r = *out;
  r.width = divideRoundUp(uint64_t(image.width) * n, 8);
  r.height = divideRoundUp(uint64_t(image.height) * n, 8);
  r.components = image.components;
  r.maxH = image.maxH;
  r.maxV = image.maxV;
  const uint32_t mcuColumns = divideRoundUp(r.width, 8u * r.maxH);
  const uint32_t mcuRows = divideRoundUp(r.height, 8u * r.maxV);
  size_t total = 0;
  for (int c = 0; c < image.components; ++c) {
    ReducedPlanes::Plane& p = r.plane[c];
    p.h = image.comp[c].h;
    p.v = image.comp[c].v;
    p.stride = mcuColumns * p.h * 8;
    p.rows = mcuRows * p.v * 8;
    total += size_t(p.stride) * p.rows;
  }
  ScratchBuffer& storage = jpegThreadBuffer(JpegBuffer::Planes, total);
  uint8_t* next = reinterpret_cast<uint8_t*>(storage.data());
  const Basis& b = basis();
  static const std::array<uint64_t, 8> bands = bandMasks();
  for (int c = 0; c < image.components; ++c) {
    const JpegCoefficients::Component& in = image.comp[c];
    ReducedPlanes::Plane& p = r.plane[c];
    p.samples = next;
    next += size_t(p.stride) * p.rows;
    // The component's own size in the reduced image (libjpeg's downsampled_width/height), and
    // what its blocks give: never more than the plane, and the rest is padding.
    const uint32_t width = std::min(divideRoundUp(uint64_t(r.width) * p.h, r.maxH), p.stride);
    const uint32_t height = std::min(divideRoundUp(uint64_t(r.height) * p.v, r.maxV), p.rows);
    const uint32_t columns = std::min(in.widthInBlocks, divideRoundUp(width, n));
    const uint32_t blockRows = std::min(in.heightInBlocks, divideRoundUp(height, n));
    for (uint32_t row = 0; row < blockRows; ++row) {
      const int rowsHere = static_cast<int>(std::min<uint32_t>(n, height - row * n));
      for (uint32_t col = 0; col < columns; ++col) {
        const int columnsHere = static_cast<int>(std::min<uint32_t>(n, width - col * n));
        inverseBlock(in.block(row, col), in.quant, n, b, bands[n], p.samples + size_t(row) * n * p.stride + size_t(col) * n,
                     p.stride, columnsHere, rowsHere);
      }
    }
    const uint32_t filledWidth = std::min(width, columns * n), filledHeight = std::min(height, blockRows * n);
    if (filledWidth == 0 || filledHeight == 0) return false;
    for (uint32_t y = 0; y < filledHeight; ++y) {
      uint8_t* line = p.samples + size_t(y) * p.stride;
      std::fill(line + filledWidth, line + p.stride, line[filledWidth - 1]);
    }
    for (uint32_t y = filledHeight; y < p.rows; ++y) {
      std::memcpy(p.samples + size_t(y) * p.stride, p.samples + size_t(filledHeight - 1) * p.stride, p.stride);
    }
  }
  storage.resize(total);
  return true;
}

}  // namespace lbg::sanitizer::pdf
