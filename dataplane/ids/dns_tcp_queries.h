#pragma once

// The questions of DNS over TCP (RFC 7766 §8: every message preceded by its two-byte length), read
// from the client's in-order bytes however the segments cut them, so that `dns.query` rules see a
// query sent over TCP as they see one in a datagram. A message is handed out once its first
// kKeep bytes (header, the longest QNAME, QTYPE, QCLASS) or the whole of a shorter one are here:
// always before its last byte, so a drop stops the message before the server can read it whole.
//
// Fixed-size, trivially copyable state (it lives in the flow's IDS slot; its byte array is read
// only up to `have`, so default-initialising the scalars is enough); stepping never allocates.

#include <cstddef>
#include <cstdint>
#include <span>

namespace lbg::ids {

struct DnsTcpQueries {
  static constexpr uint16_t kKeep = 12 + 255 + 4;
  uint8_t lenHave = 0;     // bytes of the length prefix read (0..2)
  bool handedOut = false;  // the current message was handed out
  bool lost = false;       // the stream was not seen from its start, or had a gap: not read
  uint16_t length = 0;   // of the current message
  uint16_t left = 0;     // of its bytes not read yet
  uint16_t have = 0;     // of its bytes kept (≤ kKeep)
  uint8_t prefix[2];
  uint8_t msg[kKeep];
};

struct DnsTcpStep {
  size_t used = 0;                    // input bytes consumed
  std::span<const uint8_t> message;   // non-empty: a message's kept bytes, to read now
};

// One step over the next client bytes; call again with the rest (after `used`) until it has
// consumed everything. A step hands out at most one message. Once `lost`, every byte is consumed
// and nothing handed out (where the next length prefix lies is unknown).
DnsTcpStep stepDnsTcp(DnsTcpQueries& s, std::span<const uint8_t> in);

}  // namespace lbg::ids
