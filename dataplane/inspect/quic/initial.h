#pragma once

// QUIC Initial detection (RFC 8999 invariants, RFC 9000 §17.2, RFC 9369 QUIC v2).
//
// The gateway does not decrypt QUIC: UDP/443 is denied or allowed by address, and clients fall back
// to TCP/TLS. This check only lets the log say "quic" precisely instead of "udp/443".

#include <cstdint>
#include <span>

namespace lbg::inspect {

// True for a long-header packet whose invariant fields are consistent (connection ID lengths
// within the datagram) and that is either a Version Negotiation packet (version 0) or an Initial
// packet: of v1 and its drafts (type 0), of v2 (type 1), or of any other version with the fixed
// bit set in a datagram of at least 1200 bytes (their type bits are not ours to interpret). For
// v1/v2 the token and length fields must fit in the datagram as well. Meant for the first datagram
// a client sends.
bool looksLikeQuicInitial(std::span<const uint8_t> udpPayload);

}  // namespace lbg::inspect
