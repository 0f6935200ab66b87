#pragma once

// The canonical, direction-free flow key and its hash. Both directions of a connection map to the
// same key by construction: the endpoint that orders first is "lo".

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

  bool operator==(const FlowKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(FlowKey) == 40, "FlowKey is hashed and compared as 40 plain bytes");

// Builds the canonical key; `reversed` is set when the packet goes hi → lo.
inline FlowKey makeKey(const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport,
                       uint8_t proto, bool& reversed) {
  const int c = std::memcmp(src.bytes.data(), dst.bytes.data(), 16);
  reversed = c > 0 || (c == 0 && sport > dport);
  FlowKey k{};  // value-initialised: the pad bytes are zero
  k.lo = reversed ? dst : src;
  k.hi = reversed ? src : dst;
  k.loPort = reversed ? dport : sport;
  k.hiPort = reversed ? sport : dport;
  k.proto = proto;
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
