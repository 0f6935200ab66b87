#pragma once

// L2–L4 decoding of one Ethernet frame into a PacketView. Works on a byte span (no DPDK types) so
// that unit tests and fuzzers run without EAL; dataplane/core wraps it around rte_mbuf.
//
// Hot path: no allocation, no exceptions, no logging. Every read is bounds-checked against the
// length the caller gives; a frame that is malformed in any way is reported, never trusted.

#include <cstdint>

#include "policy/base/ip_addr.h"

namespace lbg::packet {

enum class DecodeStatus : uint8_t {
  Ok,        // IP packet, all fields set
  L2Only,    // not IP (ARP, LLDP, 802.3 LLC, other ethertypes): the caller decides at layer 2
  Fragment,  // IP fragment: L3 fields and fragment fields set; hand it to FragmentReassembler
  Malformed  // dropReason says why; drop and count
};

// Why a frame was Malformed. One list, so that counters can be declared from it once.
#define LBG_DECODE_DROP_REASONS(X)                                                           \
  X(Truncated, "frame ends inside a header")                                                 \
  X(TooManyVlans, "more than two VLAN tags")                                                 \
  X(BadIpVersion, "IP version does not match the ethertype")                                 \
  X(BadIpv4HeaderLength, "IPv4 IHL below 5 or beyond the packet")                            \
  X(BadIpv4TotalLength, "IPv4 total length below the header or beyond the frame")            \
  X(BadIpv4Checksum, "IPv4 header checksum wrong")                                           \
  X(BadIpv4Option, "IPv4 option with an impossible length")                                  \
  X(Ipv4SourceRoute, "IPv4 loose/strict source route option")                                \
  X(BadIpv6PayloadLength, "IPv6 payload length zero (jumbogram) or beyond the frame")        \
  X(TooManyIpv6ExtHeaders, "more IPv6 extension headers than the limit")                     \
  X(BadIpv6ExtHeader, "IPv6 extension header truncated or out of place")                     \
  X(Ipv6RoutingHeader, "IPv6 routing header with segments left, or type 0")                  \
  X(BadFragment, "fragment offset/length impossible or header chain split across fragments") \
  X(BadTcpHeaderLength, "TCP data offset below 5 or beyond the segment")                     \
  X(BadTcpFlags, "TCP flag combination no stack sends (SYN+FIN, SYN+RST, no SYN/ACK/RST)")   \
  X(BadPort, "TCP port 0 or UDP destination port 0")                                         \
  X(BadUdpLength, "UDP length below 8 or beyond the IP payload")

enum class DropReason : uint8_t {
  None,
#define LBG_DECODE_DROP_ENUM(name, help) name,
  LBG_DECODE_DROP_REASONS(LBG_DECODE_DROP_ENUM)
#undef LBG_DECODE_DROP_ENUM
};

// Stable lower-case name ("truncated", "bad-ipv4-checksum", …) for counters and logs.
const char* toString(DropReason r);
// One-line English help text from the X-macro.
const char* helpText(DropReason r);

constexpr uint8_t kMaxVlans = 2;
constexpr uint8_t kMaxIpv6ExtHeaders = 8;

struct PacketView {
  const uint8_t* frame;
  uint32_t frameLen;

  uint8_t vlanCount;  // 802.1Q / QinQ tags, kept untouched in the frame
  uint16_t vlanTci[kMaxVlans];
  uint16_t etherType;  // inner ethertype after the VLAN tags
  uint16_t l3Offset;   // from frame start
  uint16_t l4Offset;   // from frame start; for a non-first fragment the start of its data

  // L4 payload. For a fragment: the fragment's data (the fragmentable part, after the IPv4 header
  // or the IPv6 Fragment header). The length comes from the IP (or UDP) length: Ethernet padding
  // is excluded.
  uint32_t payloadOffset;
  uint32_t payloadLen;

  uint8_t ipVersion;  // 4 or 6, 0 if not IP
  uint8_t ipProto;    // final upper-layer protocol (after IPv6 extension headers)
  IpAddr src, dst;
  uint8_t ttl;  // IPv4 TTL or IPv6 hop limit

  uint16_t srcPort, dstPort;  // host order, 0 if none
  uint8_t tcpFlags;
  uint32_t seq, ack;  // host order
  uint16_t window;    // host order, unscaled
  uint8_t icmpType, icmpCode;

  // Fragments. An IPv6 atomic fragment (offset 0, M=0; RFC 6946) is not a fragment.
  bool isFragment;
  bool moreFragments;
  bool l4HeaderComplete;      // the whole L4 header (TCP incl. options, UDP, ICMP) is present
  uint32_t fragId;            // IPv4 identification or IPv6 fragment identification
  uint32_t fragOffset;        // bytes
  uint16_t fragHeaderOffset;  // IPv6: offset of the Fragment header (end of unfragmentable part)
  uint16_t
      fragPrevNextOffset;  // IPv6: offset of the Next Header byte that names the Fragment header
  uint8_t fragNextHeader;  // IPv6: Next Header inside the Fragment header

  DropReason dropReason;
};

struct DecodeOptions {
  // On the wire a bad IPv4 header checksum means the next hop drops the packet, so it must not
  // reach an inspector either (insertion evasion). Captures taken on a sending host with checksum
  // offload, or rewritten by anonymisers, carry wrong checksums although the packets were fine:
  // replaying such a capture is the one reason to turn this off (Suricata's `-k none`).
  bool verifyIpv4Checksum = true;
};

// Decodes one frame. `out` is fully overwritten. Never reads outside [frame, frame + len).
DecodeStatus decode(const uint8_t* frame, uint32_t len, PacketView& out,
                    const DecodeOptions& options);
inline DecodeStatus decode(const uint8_t* frame, uint32_t len, PacketView& out) {
  return decode(frame, len, out, DecodeOptions{});
}

// Verifies the TCP/UDP/ICMPv6 (or ICMPv4) checksum of a decoded, non-fragment packet. Costs one
// pass over the payload, so the caller runs it only where a bad checksum matters (bytes that feed
// an inspector: an end host drops such a segment, so accepting it would let a client "insert"
// data the inspector sees and the server never does) and only when the NIC did not verify it.
// UDP over IPv4 with checksum 0 (none) is accepted; over IPv6 it is not (RFC 8200).
bool l4ChecksumValid(const PacketView& v);

}  // namespace lbg::packet
