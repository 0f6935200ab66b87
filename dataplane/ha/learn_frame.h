#pragma once

// The frames a box that just became active sends so that the switches of both segments learn
// where the hosts are now reached (ARCHITECTURE.md "Redundancy", dataplane/ha/README.md).
//
// The box is a bump in the wire: it owns no address on the inside and outside segments, and the
// hosts' frames cross it with their own MACs. Before a takeover the switches learned every host
// of the far side on the old active's ports; after it, the router's frames to a client (and the
// client's to the router) still go to the dead box's port until the switch relearns, by traffic
// that crosses the new active or by ageing (300 s by default). So for each host the box knows on
// one side it sends, out of its port on the other side, a broadcast frame with that host's MAC as
// the source: a learning switch moves the MAC to the new active's port, and every switch on the
// way sees it (broadcast).
//
// The frame is a RARP request (ethertype 0x8035, "request reverse", sender and target hardware
// address the host's MAC, no protocol addresses), as VMware and QEMU announce a moved MAC: it
// names no IP address, so no host's ARP or neighbour cache changes. A gratuitous ARP or an
// unsolicited NA would need the host's own address (the flow's addresses are often not the MAC's:
// everything behind the router shares its MAC) and would rewrite the caches of the hosts that
// hear it; switch learning needs neither.

#include <cstddef>
#include <cstdint>

namespace lbg::ha {

// Where the host is: the frame that teaches the switches about it leaves by the other port.
enum class LearnSide : uint8_t { Inside = 0, Outside = 1 };

// The TPID of the outer tag of a double-tagged host (single tags are always 0x8100).
enum class LearnTpid : uint8_t { Dot1q = 0, Dot1ad = 1, Old9100 = 2 };
inline constexpr uint8_t kLearnTpidMax = 2;

// A host as the frames name it: its MAC and its VLANs (the flow key's encoding, flow_key.h).
struct LearnHost {
  uint8_t mac[6];
  uint8_t vlan[3];
  uint8_t tpid;  // LearnTpid
};

inline constexpr uint16_t kEtherRarp = 0x8035;
// 60 bytes (the Ethernet minimum without FCS) plus up to two tags.
inline constexpr size_t kLearnFrameMax = 68;

// A unicast, non-zero MAC: the only kind a host sends from and a switch learns.
inline bool learnableMac(const uint8_t* mac) {
  if (mac[0] & 1) return false;  // group (broadcast, multicast)
  for (int i = 0; i < 6; ++i) {
    if (mac[i] != 0) return true;
  }
  return false;
}

// Writes the learning frame for `h` into `out` (kLearnFrameMax bytes) and returns its length
// (60, 64 or 68: padded to the minimum, the VLAN tags of the host kept).
size_t buildLearnFrame(const LearnHost& h, uint8_t* out);

}  // namespace lbg::ha
