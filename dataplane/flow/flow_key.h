#pragma once

// The canonical, direction-free flow key and its hash. Both directions of a connection map to the
// same key by construction: the endpoint that orders first is "lo".

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "policy/base/ip_addr.h"

namespace lbg::flow {

struct FlowKey {
  IpAddr lo, hi;
  uint16_t loPort, hiPort;
  uint8_t proto;
  // 802.1Q VLAN ids, 12 bits each: outer in vlan[0] and the high nibble of vlan[2], inner in
  // vlan[1] and its low nibble; zero when untagged. The same 5-tuple on two VLANs (or QinQ
  // pairs) is two flows. Like the rest, compared and hashed as plain bytes.
  uint8_t vlan[3];

  // As memcmp() of the 40 bytes, inline: five word compares instead of a call per lookup.
  bool operator==(const FlowKey& o) const {
    uint64_t a[5], b[5];
    std::memcpy(a, this, sizeof(a));
    std::memcpy(b, &o, sizeof(b));
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
  }
};
static_assert(sizeof(FlowKey) == 40, "FlowKey is hashed and compared as 40 plain bytes");
static_assert(std::endian::native == std::endian::little && offsetof(FlowKey, loPort) == 32,
              "makeKey() writes the key's last eight bytes as one word");

namespace detail {

// memcmp() order of two addresses (bytes unsigned, first byte most significant), as two word
// compares.
inline int compareAddr(const IpAddr& a, const IpAddr& b) {
  uint64_t x[2], y[2];
  std::memcpy(x, a.bytes.data(), 16);
  std::memcpy(y, b.bytes.data(), 16);
  for (int i = 0; i < 2; ++i) {
    const uint64_t p = __builtin_bswap64(x[i]), q = __builtin_bswap64(y[i]);
    if (p != q) return p < q ? -1 : 1;
  }
  return 0;
}

// The key's last eight bytes (ports, protocol, VLAN ids as setVlans() puts them) as one word:
// written with one store, so that hashKey() reading it back is forwarded from that store instead
// of waiting for five narrow ones to retire.
inline uint64_t keyTail(uint16_t loPort, uint16_t hiPort, uint8_t proto, uint8_t vlanCount,
                        const uint16_t* tci) {
  const uint64_t outer = vlanCount > 0 ? tci[0] & 0x0fffu : 0;
  const uint64_t inner = vlanCount > 1 ? tci[1] & 0x0fffu : 0;
  return uint64_t(loPort) | uint64_t(hiPort) << 16 | uint64_t(proto) << 32 | (outer & 0xff) << 40 |
         (inner & 0xff) << 48 | ((outer >> 8) << 4 | (inner >> 8)) << 56;
}

}  // namespace detail

// Builds the canonical key; `reversed` is set when the packet goes hi → lo.
inline FlowKey makeKey(const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport,
                       uint8_t proto, bool& reversed) {
  const int c = detail::compareAddr(src, dst);
  reversed = c > 0 || (c == 0 && sport > dport);
  FlowKey k{};  // value-initialised: the pad bytes are zero
  k.lo = reversed ? dst : src;
  k.hi = reversed ? src : dst;
  k.loPort = reversed ? dport : sport;
  k.hiPort = reversed ? sport : dport;
  k.proto = proto;
  return k;
}

// makeKey() then setVlans(), with the key's last eight bytes written at once (the decode pass:
// its hash is computed right after).
inline FlowKey makeKey(const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport,
                       uint8_t proto, uint8_t vlanCount, const uint16_t* tci, bool& reversed) {
  const int c = detail::compareAddr(src, dst);
  reversed = c > 0 || (c == 0 && sport > dport);
  FlowKey k;
  k.lo = reversed ? dst : src;
  k.hi = reversed ? src : dst;
  const uint64_t tail =
      detail::keyTail(reversed ? dport : sport, reversed ? sport : dport, proto, vlanCount, tci);
  std::memcpy(&k.loPort, &tail, sizeof(tail));
  return k;
}

// Puts the frame's VLAN ids (up to two tags; the decoder drops deeper stacks) into the key.
inline void setVlans(FlowKey& k, uint8_t vlanCount, const uint16_t* tci) {
  const uint16_t outer = vlanCount > 0 ? uint16_t(tci[0] & 0x0fff) : 0;
  const uint16_t inner = vlanCount > 1 ? uint16_t(tci[1] & 0x0fff) : 0;
  k.vlan[0] = uint8_t(outer);
  k.vlan[1] = uint8_t(inner);
  k.vlan[2] = uint8_t((outer >> 8) << 4 | (inner >> 8));
}

namespace detail {

inline uint64_t mum(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return uint64_t(r) ^ uint64_t(r >> 64);
}

// Chosen once per process, before main(). A keyed, non-linear hash: with a linear one (CRC32C)
// colliding keys can be computed offline whatever the seed, and an inside host could aim its
// connections at one bucket pair to evict a victim's flows.
uint64_t processHashSeed();
inline const uint64_t kHashSeed = processHashSeed();

}  // namespace detail

// Five 64-bit multiply-folds (wyhash-style); about as fast as five CRC32C steps.
inline uint32_t hashKey(const FlowKey& k) {
  uint64_t w[5];
  std::memcpy(w, &k, sizeof(w));
  const uint64_t s = detail::kHashSeed;
  uint64_t h = detail::mum(w[0] ^ s, w[1] ^ 0xa0761d6478bd642full);
  h = detail::mum(h ^ w[2] ^ 0xe7037ed1a0b428dbull, w[3] ^ s);
  h = detail::mum(h ^ w[4] ^ 0x8ebc6af09c88c6e3ull, s ^ 0x589965cc75374cc3ull);
  return uint32_t(h ^ (h >> 32));
}

}  // namespace lbg::flow
