#pragma once

// Network-order loads and stores on unaligned bytes. The compiler turns these into one load and a
// bswap; no alignment is assumed because frames and headers can sit anywhere.

#include <bit>
#include <cstdint>
#include <cstring>

namespace lbg::packet {

inline uint16_t load16(const uint8_t* p) {
  return uint16_t(uint16_t(p[0]) << 8 | p[1]);
}
inline uint32_t load32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

// Ones'-complement sum (RFC 1071) accumulated in 32 bits; fold with foldChecksum(). Byte pairs in
// network order; sumWords() below gives the same on any host, faster.
inline uint32_t sumWordsBytewise(const uint8_t* data, uint32_t len, uint32_t acc) {
  uint32_t i = 0;
  for (; i + 1 < len; i += 2) acc += uint32_t(data[i]) << 8 | data[i + 1];
  if (len & 1) acc += uint32_t(data[len - 1]) << 8;
  // Fold early so that a 64 KiB datagram cannot overflow the 32-bit accumulator.
  return (acc & 0xffff) + (acc >> 16);
}

// The same sum, eight bytes a step: the ones'-complement sum does not depend on the byte order
// it is taken in (RFC 1071 §2 B), so on a little-endian host the bytes are summed as native
// 32-bit halves into 64 bits, folded, and the 16-bit result swapped once. The IDS checks every
// server segment it scans this way (a byte-pair loop was a tenth of its time).
inline uint32_t sumWords(const uint8_t* data, uint32_t len, uint32_t acc) {
  if constexpr (std::endian::native != std::endian::little) {
    return sumWordsBytewise(data, len, acc);
  } else {
    uint64_t s = 0;
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
      uint64_t w;
      std::memcpy(&w, data + i, 8);
      s += (w & 0xffffffffu) + (w >> 32);
    }
    for (; i + 2 <= len; i += 2) {
      uint16_t w;
      std::memcpy(&w, data + i, 2);
      s += w;
    }
    if (len & 1) s += data[len - 1];  // the odd byte is a pair's first: the native word's low
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    acc += uint32_t(uint16_t(s >> 8 | s << 8));
    return (acc & 0xffff) + (acc >> 16);
  }
}
inline uint16_t foldChecksum(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(~acc & 0xffff);
}

}  // namespace lbg::packet
