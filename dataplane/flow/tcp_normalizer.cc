#include "dataplane/flow/tcp_normalizer.h"

#include <algorithm>
#include <cstring>

namespace lbg::flow {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10, kUrg = 0x20;
constexpr uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kDestOpts = 60;

int32_t diff(uint32_t a, uint32_t b) {
  return int32_t(a - b);
}

// Offset (from isn[0]) one past the last client data byte the flow may carry: its FIN's sequence
// number once a FIN was seen, else everything seen so far.
uint32_t dataEdge(const FlowMeta& m) {
  if (m.finSeen & 1) return m.finSeq[0] - m.isn[0];
  // seqNext counts the SYN (offset 0): data starts at offset 1.
  return std::max<uint32_t>(m.seqNext[0] - m.isn[0], 1);
}

// Any option of a hop-by-hop or destination options header whose type tells the receiver to
// discard the packet when it does not know it (RFC 8200 4.2: the two high bits are not 00).
// The gateway cannot know which options the server implements, so any such option is treated as
// "the server may drop it". Pad1 and PadN are the only options known everywhere.
bool hasDiscardOption(const packet::PacketView& p) {
  if (p.ipVersion != 6) return false;
  const uint8_t* f = p.frame;
  uint32_t off = p.l3Offset + 40u;
  uint8_t next = f[p.l3Offset + 6];
  while (off < p.l4Offset && (next == kHopByHop || next == kDestOpts || next == kRouting ||
                              next == kFragment)) {
    if (off + 2 > p.frameLen) return true;  // the decoder accepted it; be safe anyway
    const uint32_t len = next == kFragment ? 8u : (uint32_t(f[off + 1]) + 1) * 8;
    if (off + len > p.frameLen) return true;
    if (next == kHopByHop || next == kDestOpts) {
      uint32_t o = off + 2;
      while (o < off + len) {
        const uint8_t type = f[o];
        if (type == 0) {  // Pad1
          ++o;
          continue;
        }
        if (o + 2 > off + len) return true;
        if (type != 1 && (type & 0xc0) != 0) return true;
        o += 2u + f[o + 1];
      }
    }
    next = f[off];
    off += len;
  }
  return false;
}

uint8_t* ring(StreamBufferPool& rings, const StreamGuard& g) {
  return rings.data(int32_t(g.ringPlus1) - 1);
}

// Stream offsets [from, from + n) of a ring of `size` bytes (n <= size): at most two runs.
bool ringEquals(const uint8_t* r, uint32_t size, uint32_t from, const uint8_t* data, uint32_t n) {
  const uint32_t at = from & (size - 1);
  const uint32_t first = std::min(n, size - at);
  return std::memcmp(r + at, data, first) == 0 && std::memcmp(r, data + first, n - first) == 0;
}

void ringStore(uint8_t* r, uint32_t size, uint32_t from, const uint8_t* data, uint32_t n) {
  const uint32_t at = from & (size - 1);
  const uint32_t first = std::min(n, size - at);
  std::memcpy(r + at, data, first);
  std::memcpy(r, data + first, n - first);
}

// Adopted flows (tcp_normalizer.h): re-anchors the client's edge at a server ACK beyond it.
void adoptServerAck(FlowMeta& m, const packet::PacketView& p, uint32_t& edge) {
  if (!(p.tcpFlags & kAck) || (p.tcpFlags & kRst) || (m.finSeen & 1)) return;
  const uint32_t a = p.ack - m.isn[0];
  if (diff(a, edge) <= 0 || a - edge > kAdoptMaxJump) return;
  m.seqNext[0] = m.isn[0] + a;
  m.seqKnown |= 1;
  m.clientAcked = a;
  edge = a;
  m.adoptedClient = false;
}

// ... and the server's edge at the first client ACK beyond it.
void adoptClientAck(FlowMeta& m, const packet::PacketView& p) {
  if (!(p.tcpFlags & kAck)) return;
  m.adoptedServer = false;
  if ((m.seqKnown & 2) && diff(p.ack, m.seqNext[1]) > 0 && p.ack - m.seqNext[1] <= kAdoptMaxJump) {
    m.seqNext[1] = p.ack;
  }
}

}  // namespace

const char* toString(NormAction a) {
  switch (a) {
    case NormAction::Pass:
      return "pass";
    case NormAction::Conflict:
      return "conflict";
    case NormAction::DropAhead:
      return "ahead";
    case NormAction::DropFull:
      return "full";
    case NormAction::DropBadAck:
      return "bad-ack";
    case NormAction::DropUrgent:
      return "urgent";
    case NormAction::DropDiscardOpt:
      return "discard-option";
    case NormAction::DropAfterFin:
      return "after-fin";
  }
  return "unknown";
}

NormAction checkTcpHeader(const packet::PacketView& p) {
  if (p.tcpFlags & kUrg) return NormAction::DropUrgent;
  if (p.l4Offset > p.l3Offset + 40u && hasDiscardOption(p)) return NormAction::DropDiscardOpt;
  return NormAction::Pass;
}

void guardRelease(StreamBufferPool& rings, StreamGuard& g) {
  if (g.ringPlus1 != 0) rings.release(int32_t(g.ringPlus1) - 1);
  g.ringPlus1 = 0;
  g.blind = 0;
}

bool guardAdopt(StreamBufferPool& rings, StreamGuard& g, FlowMeta& m,
                const uint8_t* judged, uint32_t len, uint32_t judgedOff) {
  const uint32_t edge = dataEdge(m);
  const uint32_t size = rings.bytesEach();
  if (m.clientAcked == 0) m.clientAcked = 1;
  // Bytes the server acknowledged already are not kept; more than a ring's worth cannot be.
  if (diff(edge, m.clientAcked) <= 0) return true;
  if (uint32_t(edge - m.clientAcked) > size) return false;
  if (g.ringPlus1 == 0) {
    const int32_t idx = rings.acquire();
    if (idx < 0) return false;
    g.ringPlus1 = uint32_t(idx) + 1;
  }
  uint8_t* r = ring(rings, g);
  uint32_t from = judgedOff;
  uint32_t skip = 0;
  if (diff(m.clientAcked, from) > 0) {
    skip = std::min<uint32_t>(m.clientAcked - from, len);
    from = m.clientAcked;
  }
  uint32_t n = len - skip;
  if (diff(edge, from + n) < 0) n = edge - from;
  if (n > 0) ringStore(r, size, from, judged + skip, n);
  // What the verdict released but is not in `judged` (islands beyond a gap) cannot be compared.
  if (from != m.clientAcked || from + n != edge) g.blind = 1;
  return true;
}

NormAction normalizeTcp(StreamBufferPool& rings, StreamGuard& g, FlowMeta& m,
                        const packet::PacketView& p, bool fromInitiator) {
  const uint8_t f = p.tcpFlags;
  if (m.tcpState == TcpState::None || m.tcpState == TcpState::SynSent) {
    // SYN data (TCP Fast Open) of a flow allowed by its address alone: not kept, and not needed
    // (no content was judged); a flow judged by content holds it in its stream buffer instead.
    if (!fromInitiator || p.payloadLen == 0) return NormAction::Pass;
    if (g.ringPlus1 == 0) {
      g.blind = 1;
      return NormAction::Pass;
    }
    // A SYN retransmitted with data after its data was judged: the same ISN, the same bytes.
    if (p.seq != m.isn[0]) return NormAction::Conflict;
    const uint32_t edge = dataEdge(m);
    const uint8_t* r = ring(rings, g);
    const uint8_t* data = p.frame + p.payloadOffset;
    const uint32_t mask = rings.bytesEach() - 1;
    for (uint32_t o = 1; o <= p.payloadLen && diff(o, edge) < 0; ++o) {
      if (diff(o, m.clientAcked) >= 0 && r[o & mask] != data[o - 1]) return NormAction::Conflict;
    }
    return NormAction::Pass;
  }
  // After an exact RST (or both FINs acknowledged) the connection is over: client data now is
  // not a retransmission the ring can vouch for.
  if (m.tcpState == TcpState::Closed) {
    return fromInitiator && p.payloadLen > 0 ? NormAction::DropAfterFin : NormAction::Pass;
  }
  const uint32_t size = rings.bytesEach();
  uint32_t edge = dataEdge(m);
  if (m.clientAcked == 0) m.clientAcked = 1;  // offset 0 is the SYN

  if (!fromInitiator) {
    if (m.adoptedClient) adoptServerAck(m, p, edge);
    // The server's ACK releases what it acknowledges (a FIN's sequence number included).
    if ((f & kAck) && !(f & kRst)) {
      uint32_t a = p.ack - m.isn[0];
      if (diff(a, edge) > 0) a = edge;
      if (diff(a, m.clientAcked) > 0) {
        m.clientAcked = a;
        if (a == edge) guardRelease(rings, g);
      }
    }
    return NormAction::Pass;
  }

  if (f & (kRst | kSyn)) return NormAction::Pass;  // judged by the tracker's rules
  // RFC 9293 3.10.7.4: in a synchronised state a segment without ACK is dropped, and one that
  // acknowledges something not yet sent is answered with an ACK and dropped, data and all.
  if (!(f & kAck)) return NormAction::DropBadAck;
  if (m.adoptedServer) adoptClientAck(m, p);
  if ((m.seqKnown & 2) && diff(p.ack, m.seqNext[1]) > 0) return NormAction::DropBadAck;
  if (p.payloadLen == 0) return NormAction::Pass;

  const uint32_t begin = p.seq - m.isn[0];
  const uint32_t end = begin + p.payloadLen;
  if (m.adoptedClient && !(m.finSeen & 1)) {
    // The first client data after a takeover: it continues the stream here (tcp_normalizer.h).
    m.adoptedClient = false;
    if (diff(begin, edge) > 0 && begin - edge <= kAdoptMaxJump) {
      m.seqNext[0] = m.isn[0] + begin;
      m.clientAcked = begin;
      edge = begin;
      guardRelease(rings, g);
    }
  }
  if ((m.finSeen & 1) && diff(end, edge) > 0) return NormAction::DropAfterFin;
  if (diff(end, m.clientAcked) <= 0) return NormAction::Pass;  // all acknowledged: the server drops it
  if (diff(begin, edge) > 0) return NormAction::DropAhead;
  const uint8_t* data = p.frame + p.payloadOffset;
  // [cmpFrom, cmpTo): bytes forwarded before and not yet acknowledged.
  const uint32_t cmpFrom = diff(begin, m.clientAcked) > 0 ? begin : m.clientAcked;
  const uint32_t cmpTo = diff(end, edge) < 0 ? end : edge;
  const bool grows = diff(end, edge) > 0;
  if (grows && uint32_t(end - m.clientAcked) > size) return NormAction::DropFull;
  if (diff(cmpTo, cmpFrom) > 0 && !g.blind) {
    if (g.ringPlus1 == 0) {
      // Unacknowledged bytes that were never kept (the flow was allowed before its guard could
      // hold them): nothing to compare with, so nothing may pass.
      return NormAction::DropFull;
    }
    if (!ringEquals(ring(rings, g), size, cmpFrom, data + (cmpFrom - begin), cmpTo - cmpFrom)) {
      return NormAction::Conflict;
    }
  }
  if (!grows) return NormAction::Pass;
  if (g.ringPlus1 == 0) {
    const int32_t idx = rings.acquire();
    if (idx < 0) return NormAction::DropFull;
    g.ringPlus1 = uint32_t(idx) + 1;
    // Unacknowledged bytes before the edge that were never kept are not in the fresh ring.
    if (diff(edge, m.clientAcked) > 0) g.blind = 1;
  }
  ringStore(ring(rings, g), size, edge, data + (edge - begin), end - edge);
  return NormAction::Pass;
}

void raiseTtl(uint8_t* frame, const packet::PacketView& p, uint8_t ttl) {
  uint8_t* ip = frame + p.l3Offset;
  if (p.ipVersion == 6) {
    ip[7] = ttl;
    return;
  }
  // TTL is the high byte of the 16-bit word at offset 8 (with the protocol): HC' = ~(~HC + ~m + m').
  const uint16_t oldWord = uint16_t(ip[8] << 8 | ip[9]);
  const uint16_t newWord = uint16_t(ttl << 8 | ip[9]);
  uint32_t sum = uint16_t(~(ip[10] << 8 | ip[11])) + uint32_t(uint16_t(~oldWord)) + newWord;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  const uint16_t hc = uint16_t(~sum);
  ip[8] = ttl;
  ip[10] = uint8_t(hc >> 8);
  ip[11] = uint8_t(hc);
}

}  // namespace lbg::flow
