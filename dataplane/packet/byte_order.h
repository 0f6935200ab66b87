#pragma once

// Network-order loads and stores on unaligned bytes. The compiler turns these into one load and a
// bswap; no alignment is assumed because frames and headers can sit anywhere.

#include <cstdint>

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

// Ones'-complement sum (RFC 1071) accumulated in 32 bits; fold with foldChecksum().
inline uint32_t sumWords(const uint8_t* data, uint32_t len, uint32_t acc) {
  uint32_t i = 0;
  for (; i + 1 < len; i += 2) acc += uint32_t(data[i]) << 8 | data[i + 1];
  if (len & 1) acc += uint32_t(data[len - 1]) << 8;
  // Fold early so that a 64 KiB datagram cannot overflow the 32-bit accumulator.
  return (acc & 0xffff) + (acc >> 16);
}
inline uint16_t foldChecksum(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(~acc & 0xffff);
}

}  // namespace lbg::packet
