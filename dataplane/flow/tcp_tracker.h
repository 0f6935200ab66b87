#pragma once

// TCP connection tracking (state only; no payload) and the idle timeouts that follow from it.

#include <cstdint>

#include "dataplane/flow/flow_meta.h"
#include "dataplane/packet/packet_view.h"

namespace lbg::flow {

// What a packet did to the tracked connection. Anything but Ok is worth a counter; none of them
// is a verdict by itself (the pipeline decides).
enum class TcpEvent : uint8_t {
  Ok,
  Midstream,            // first packet of the flow is not a SYN: picked up as Established
  InvalidHandshake,     // SYN-ACK with a wrong ack, ACK of no SYN-ACK, SYN from the responder …
  DataBeforeHandshake,  // payload before the three-way handshake completed (TFO SYN data is Ok)
  SynOnEstablished,     // a new SYN inside an established connection
  InvalidRst,           // RST whose sequence number is far from the expected one: ignored
  Reopened,             // a fresh SYN on a Closed flow: the 5-tuple is reused by a new
                        // connection; the caller ends the old flow and starts a new one
  AfterClose            // payload after the connection was closed
};
const char* toString(TcpEvent e);

// Updates meta's TCP fields from one TCP packet travelling initiator → responder when
// `fromInitiator`. The first call for a flow must come with the flow's first packet.
TcpEvent trackTcp(FlowMeta& meta, const packet::PacketView& pkt, bool fromInitiator);

// Idle timeouts. The defaults follow common conntrack practice, adjusted for this appliance:
//  - synNs 30 s: a handshake that takes longer is dead; short, because half-open entries are what
//    a SYN flood fills the table with. It also applies to any TCP flow whose responder has not
//    sent a packet yet (pkts[1] == 0), whatever its state: a mid-stream pick-up by a lone ACK;
//  - establishedNs 7440 s (2 h 4 min): just above the 2 h TCP keep-alive default of Windows and
//    Linux, so an idle but kept-alive Outlook/Teams connection is not aged out (its next packet
//    would be a mid-stream pick-up, which policy denies);
//  - closingNs 60 s: FIN_WAIT/CLOSE_WAIT/LAST_ACK;
//  - closedNs 10 s: after RST or the last ACK, long enough to absorb retransmitted FINs/RSTs;
//  - udpNs 120 s once both directions were seen, udpUnrepliedNs 30 s before that (a DNS query
//    is answered in well under a second; unanswered datagrams should not hold entries);
//  - otherNs 30 s for any other protocol.
struct Timeouts {
  uint64_t synNs = 30'000'000'000ull;
  uint64_t establishedNs = 7'440'000'000'000ull;
  uint64_t closingNs = 60'000'000'000ull;
  uint64_t closedNs = 10'000'000'000ull;
  uint64_t udpNs = 120'000'000'000ull;
  uint64_t udpUnrepliedNs = 30'000'000'000ull;
  uint64_t otherNs = 30'000'000'000ull;
};

uint64_t timeoutFor(const FlowMeta& meta, uint8_t proto, const Timeouts& t);

}  // namespace lbg::flow
