#include "dataplane/flow/tcp_tracker.h"

namespace lbg::flow {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr uint8_t kTcp = 6, kUdp = 17;

// A RST is believed only when its sequence number is exactly what the sender sends next (RFC 5961
// 3.2: a receiver accepts only that one and answers any other in-window RST with a challenge ACK).
// A RST the server would ignore must not end the flow here: a new SYN on the same 5-tuple would
// then be judged afresh while the server still runs the old connection (or the reverse).

uint8_t bit(int d) {
  return uint8_t(1u << d);
}

void noteSequence(FlowMeta& m, const packet::PacketView& p, int d) {
  uint32_t next = p.seq + p.payloadLen;
  if (p.tcpFlags & kSyn) ++next;
  if (p.tcpFlags & kFin) ++next;
  if (!(m.seqKnown & bit(d)) || int32_t(next - m.seqNext[d]) > 0) m.seqNext[d] = next;
  m.seqKnown |= bit(d);
}

// FIN and the ACKs of FINs, once past the handshake.
void trackClose(FlowMeta& m, const packet::PacketView& p, int d) {
  const uint8_t f = p.tcpFlags;
  if ((f & kFin) && !(m.finSeen & bit(d))) {
    m.finSeen |= bit(d);
    m.finSeq[d] = p.seq + p.payloadLen;
  }
  const int o = 1 - d;
  if ((f & kAck) && (m.finSeen & bit(o)) && p.ack == m.finSeq[o] + 1) m.finAcked |= bit(o);
  if (m.finAcked == 3) {
    m.tcpState = TcpState::Closed;
  } else if (m.finSeen == 3) {
    m.tcpState = TcpState::Closing;
  } else if (m.finSeen != 0) {
    m.tcpState = TcpState::FinWait;
  }
}

void startHandshake(FlowMeta& m, const packet::PacketView& p) {
  m.tcpState = TcpState::SynSent;
  m.isn[0] = p.seq;
  m.isn[1] = 0;
  m.seqKnown = 0;
  m.finSeen = 0;
  m.finAcked = 0;
}

}  // namespace

TcpEvent trackTcp(FlowMeta& m, const packet::PacketView& p, bool fromInitiator) {
  const int d = fromInitiator ? 0 : 1;
  const uint8_t f = p.tcpFlags;
  const bool syn = f & kSyn, ack = f & kAck, rst = f & kRst;
  const bool data = p.payloadLen > 0;

  if (rst) {
    bool believed;
    if (m.tcpState == TcpState::SynSent && !fromInitiator) {
      // Refusal of our SYN: must acknowledge it (RFC 9293 3.10.7.3).
      believed = ack && p.ack == m.isn[0] + 1;
    } else if (m.seqKnown & bit(d)) {
      believed = p.seq == m.seqNext[d];
    } else {
      believed = true;
    }
    if (!believed) return TcpEvent::InvalidRst;
    m.tcpState = TcpState::Closed;
    return TcpEvent::Ok;
  }

  switch (m.tcpState) {
    case TcpState::None:
      if (syn && !ack && fromInitiator) {
        startHandshake(m, p);
        noteSequence(m, p, d);
        return TcpEvent::Ok;
      }
      // Picked up mid-stream (the entry aged out, or the box started during the connection).
      m.tcpState = TcpState::Established;
      noteSequence(m, p, d);
      trackClose(m, p, d);
      return TcpEvent::Midstream;

    case TcpState::SynSent:
      if (fromInitiator) {
        if (syn) {  // retransmitted SYN, possibly with a new ISN after a client-side timeout
          if (p.seq != m.isn[0]) startHandshake(m, p);
          noteSequence(m, p, d);
          return TcpEvent::Ok;
        }
        noteSequence(m, p, d);
        return data ? TcpEvent::DataBeforeHandshake : TcpEvent::InvalidHandshake;
      }
      if (syn && ack && p.ack == m.isn[0] + 1) {
        m.tcpState = TcpState::SynReceived;
        m.isn[1] = p.seq;
        noteSequence(m, p, d);
        return TcpEvent::Ok;
      }
      // A SYN without ACK from the responder is a simultaneous open or a split handshake (an
      // evasion where the server plays client); neither is followed.
      return TcpEvent::InvalidHandshake;

    case TcpState::SynReceived:
      if (fromInitiator) {
        if (syn) return p.seq == m.isn[0] ? TcpEvent::Ok : TcpEvent::InvalidHandshake;
        if (ack && p.ack == m.isn[1] + 1) {
          m.tcpState = TcpState::Established;
          noteSequence(m, p, d);
          trackClose(m, p, d);
          return TcpEvent::Ok;
        }
        noteSequence(m, p, d);
        return TcpEvent::InvalidHandshake;
      }
      if (syn) return p.seq == m.isn[1] ? TcpEvent::Ok : TcpEvent::InvalidHandshake;
      noteSequence(m, p, d);
      return data ? TcpEvent::DataBeforeHandshake : TcpEvent::Ok;

    case TcpState::Established:
    case TcpState::FinWait:
    case TcpState::Closing:
      if (syn) {
        // A SYN-ACK retransmitted because the handshake's last ACK was lost is harmless.
        if (!fromInitiator && ack && p.seq == m.isn[1]) return TcpEvent::Ok;
        return TcpEvent::SynOnEstablished;
      }
      noteSequence(m, p, d);
      trackClose(m, p, d);
      return TcpEvent::Ok;

    case TcpState::Closed:
      if (syn && !ack) {
        if (fromInitiator) {
          startHandshake(m, p);
          noteSequence(m, p, d);
        }
        return TcpEvent::Reopened;
      }
      return data ? TcpEvent::AfterClose : TcpEvent::Ok;
  }
  return TcpEvent::Ok;
}

uint64_t timeoutFor(const FlowMeta& m, uint8_t proto, const Timeouts& t) {
  if (proto == kTcp) {
    // Until the responder has sent anything, a flow is as cheap to fake as a SYN (an ACK flood
    // picked up "mid-stream" would otherwise hold entries for the established timeout).
    if (m.pkts[1] == 0) return t.synNs;
    switch (m.tcpState) {
      case TcpState::None:
      case TcpState::SynSent:
      case TcpState::SynReceived:
        return t.synNs;
      case TcpState::Established:
        return t.establishedNs;
      case TcpState::FinWait:
      case TcpState::Closing:
        return t.closingNs;
      case TcpState::Closed:
        return t.closedNs;
    }
    return t.synNs;
  }
  if (proto == kUdp) return m.pkts[1] == 0 ? t.udpUnrepliedNs : t.udpNs;
  return t.otherNs;
}

const char* toString(TcpState s) {
  switch (s) {
    case TcpState::None:
      return "none";
    case TcpState::SynSent:
      return "syn-sent";
    case TcpState::SynReceived:
      return "syn-received";
    case TcpState::Established:
      return "established";
    case TcpState::FinWait:
      return "fin-wait";
    case TcpState::Closing:
      return "closing";
    case TcpState::Closed:
      return "closed";
  }
  return "unknown";
}

const char* toString(TcpEvent e) {
  switch (e) {
    case TcpEvent::Ok:
      return "ok";
    case TcpEvent::Midstream:
      return "midstream";
    case TcpEvent::InvalidHandshake:
      return "invalid-handshake";
    case TcpEvent::DataBeforeHandshake:
      return "data-before-handshake";
    case TcpEvent::SynOnEstablished:
      return "syn-on-established";
    case TcpEvent::InvalidRst:
      return "invalid-rst";
    case TcpEvent::Reopened:
      return "reopened";
    case TcpEvent::AfterClose:
      return "after-close";
  }
  return "unknown";
}

}  // namespace lbg::flow
