#pragma once

// Stream ownership after the verdict: what the server receives of a TCP flow is exactly what the
// gateway judged. Runs on every TCP packet of a known flow, before the tracker sees it, so that a
// dropped packet leaves no trace in the tracked state. The normalisations and their limits are
// listed in dataplane/flow/README.md ("Normaliser").
//
// Per flow: 8 bytes on the entry's hot lines, in the two 4-byte holes they had: the ring word
// (FlowTable::Entry::guard) and FlowMeta::clientAcked. Per worker: the ring buffers of a
// StreamBufferPool whose size is a power of two; a flow borrows one while the server has not
// acknowledged all the client bytes it was sent, and gives it back as soon as it has.

#include <cstdint>

#include "dataplane/flow/flow_meta.h"
#include "dataplane/flow/stream_buffer.h"
#include "dataplane/packet/packet_view.h"

namespace lbg::flow {

// The client's forwarded-but-unacknowledged bytes of one flow: stream offsets (from isn[0])
// [meta.clientAcked, edge) are kept in a ring at offset & (bytesEach - 1), where edge is one past
// the last client data byte forwarded (FlowMeta::seqNext[0], or the client's FIN).
struct StreamGuard {
  uint32_t ringPlus1 : 31;  // ring buffer index + 1; 0 = none held (nothing unacknowledged kept)
  // Some bytes before the edge are not in the ring (out-of-order islands released with the
  // verdict): overlaps are not compared until the server has acknowledged up to the edge.
  uint32_t blind : 1;
};
static_assert(sizeof(StreamGuard) == 4);

// What to do with the packet. Anything but Pass is counted by the caller (one counter each).
enum class NormAction : uint8_t {
  Pass,
  Conflict,       // client bytes differ from bytes already forwarded: deny `stream-conflict`
  DropAhead,      // client data beyond the forwarded edge (a gap before it): the client resends
  DropFull,       // the flow's ring (allowance) or the pool is full: the client resends later
  DropBadAck,     // acknowledges bytes the other side never sent, or no ACK flag on data
  DropUrgent,     // URG: the server's application may not see the urgent byte in the stream
  DropDiscardOpt, // IPv6 destination/hop-by-hop option the receiver must discard the packet for
  DropAfterFin,   // client data at or past its own FIN, or after the connection closed
};
const char* toString(NormAction a);

struct NormalizerConfig {
  // Client segments with a lower IPv4 TTL / IPv6 hop limit may expire between the gateway and the
  // server (insertion): the caller raises them to this value. 0 turns it off.
  uint8_t minTtl = 64;
};

// Adopted flows: a flow the standby installed from the HA peer's last sync carries the sequence
// state of that moment; the old active may have forwarded up to one sync interval (~200 ms) more
// since. Its first packets after the takeover re-anchor what lags, by at most kAdoptMaxJump:
//  - a server ACK beyond the client's edge: the server holds those client bytes (the old active
//    forwarded them), so the edge and clientAcked move there (a retransmission of them is
//    dropped by the server, whatever it carries);
//  - the first client data segment beyond the edge: the edge moves to where it starts. The bytes
//    skipped are the client's last sync interval of upload, never seen here: the one insertion
//    hole adoption opens, at most kAdoptMaxJump bytes, once per flow and takeover;
//  - the first client ACK beyond the server's edge (seqNext[1]): it moves there, so that the
//    client's ACKs of the server's last interval are not dropped as acknowledging unsent data.
// Bytes unacknowledged at the sync (clientAcked..edge) were never in this box's ring: the flow
// starts blind (StreamGuard::blind) until the server acknowledged up to the edge.
// 4 MiB: what one flow sends in a 200 ms interval at 160 Mbit/s. A flow that moved more since
// its last sync is not continued (its segments are dropped as ahead; the client reconnects).
inline constexpr uint32_t kAdoptMaxJump = 4u << 20;

// Judges one TCP packet of a known, established-or-later flow whose verdict is Allow (the pending
// stage has its own stream buffer). `meta` is the state before this packet is tracked. Client data
// that passes is copied into the ring; a server ACK releases what it acknowledges.
NormAction normalizeTcp(StreamBufferPool& rings, StreamGuard& g, FlowMeta& meta,
                        const packet::PacketView& p, bool fromInitiator);

// Checks done on every TCP packet whatever the verdict (header-only, no state).
NormAction checkTcpHeader(const packet::PacketView& p);

// Starts the guard of a flow just allowed: `judged` are the client bytes from stream offset
// `judgedOff` (from isn[0]) that the verdict released; the ring keeps those still needed.
// Returns false when no ring was free (counted by the pool; later data is dropped until one is).
bool guardAdopt(StreamBufferPool& rings, StreamGuard& g, FlowMeta& meta,
                const uint8_t* judged, uint32_t len, uint32_t judgedOff);

void guardRelease(StreamBufferPool& rings, StreamGuard& g);

// True when a TTL / hop limit must be raised to `minTtl` (the caller rewrites the header).
inline bool ttlBelowFloor(const packet::PacketView& p, const NormalizerConfig& c) {
  return c.minTtl != 0 && p.ttl < c.minTtl;
}

// Raises the TTL / hop limit of a linear frame in place and fixes the IPv4 header checksum
// incrementally (RFC 1624). The TCP checksum does not cover it.
void raiseTtl(uint8_t* frame, const packet::PacketView& p, uint8_t ttl);

}  // namespace lbg::flow
