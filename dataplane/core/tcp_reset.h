#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/packet/packet_view.h"

namespace lbg::dataplane {

// Builds the TCP resets a deny sends for a TCP packet P that travelled X → Y:
//  - towardSource: RST|ACK from Y to X, seq = P.ack, ack = P.seq + len(P) — tears down X's side
//    at once (the client "fails fast" instead of waiting for a timeout);
//  - otherwise:   RST from X to Y with seq = P.seq — the server sees the exact next sequence number,
//    because P itself (and its payload) was dropped, and frees its half of the connection.
// The L2 header (with its VLAN tags) is copied from P, MACs swapped for towardSource, so that the
// reset leaves on the right port as a normal frame of that link. Returns the frame length, or 0 if
// `cap` is too small or P is not TCP.
size_t buildTcpReset(const packet::PacketView& p, bool towardSource, uint8_t* out, size_t cap);

// Internet checksum helpers (RFC 1071), exposed for tests.
uint16_t ipv4HeaderChecksum(const uint8_t* hdr, size_t len);
uint16_t tcpChecksum(const packet::PacketView& p, const uint8_t* ipHeader, const uint8_t* tcp,
                     size_t tcpLen, bool v6);

}  // namespace lbg::dataplane
