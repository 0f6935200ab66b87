#pragma once

// Generic per-flow state the flow table keeps beside the pipeline's own payload.

#include <cstdint>

namespace lbg::flow {

enum class TcpState : uint8_t {
  None,         // no TCP packet tracked yet
  SynSent,      // initiator's SYN seen
  SynReceived,  // responder's SYN-ACK acknowledging it seen
  Established,  // handshake completed, or picked up mid-stream
  FinWait,      // one side sent FIN
  Closing,      // both sides sent FIN
  Closed        // RST, or both FINs acknowledged
};
const char* toString(TcpState s);

// The owner's judgement of the flow. Kept here, beside the TCP state, because it is read on every
// packet and FlowMeta sits on the entry's first two cache lines (see FlowTable::Entry).
enum class Verdict : uint8_t { Pending, Allow, Deny };

// Field order is hot first: with the key and hash in front, everything an established flow's
// packet reads or writes (last seen, counters, TCP state, verdict) lies in the entry's first two
// cache lines. (When the flow started is the owner's to keep, off these lines.)
struct FlowMeta {
  uint64_t lastSeenNs;
  uint64_t pkts[2], bytes[2];  // [0] initiator → responder, [1] back
  bool initiatorIsLo;          // the canonical side that sent the first packet we saw
  bool sawSyn : 1;             // that packet was a SYN (not a mid-stream pick-up)
  bool initiatorInside : 1;    // the owner's: the initiator's packets enter on the inside port
  bool embryonic : 1;          // the table's: in the embryonic partition (see FlowTable::settle)
  bool punted : 1;             // the owner's: the flow goes through the exception port (proxy)
  // The owner's: the flow's state was sent to the HA peer (dataplane/ha): its end is sent too.
  bool synced : 1;
  // Installed from the HA peer's last sync (tcp_normalizer.h, "Adopted flows"): the client's
  // stream edge (adoptedClient) and the server's (adoptedServer) may lag what the old active
  // forwarded since, until the first packets after the takeover re-anchor them.
  bool adoptedClient : 1;
  bool adoptedServer : 1;
  TcpState tcpState;
  uint8_t seqKnown : 2;  // bit d: seqNext[d] is valid
  uint8_t finSeen : 2;   // bit d: direction d sent FIN
  uint8_t finAcked : 2;  // bit d: direction d's FIN was acknowledged
  Verdict verdict;
  // The owner's: nonzero while an allowed flow's later client bytes still need an inspector
  // (the pipeline's HTTP or TLS follow). On the hot line so that other flows pay one compare.
  uint8_t follow;
  // The owner's per-packet bits (the pipeline's kFlow* in dataplane/core/flow_state.h): what a
  // packet of an established or denied flow tests besides the fields above, so that it reads
  // nothing off the entry's two hot lines.
  uint8_t flags;
  uint32_t seqNext[2];  // highest sequence number + length seen per direction
  uint32_t finSeq[2];   // sequence number of each direction's FIN
  uint32_t isn[2];      // initial sequence numbers per direction (stream offsets)
  // The owner's stamp of its judgement, compared on every packet (the pipeline keeps the low 32
  // bits of the policy version that gave the verdict, to notice a reload).
  uint32_t epoch;
  // The stream normaliser's (tcp_normalizer.h): the responder acknowledged every initiator byte
  // before this offset from isn[0] (0: nothing yet; offset 0 is the SYN).
  uint32_t clientAcked;
};

}  // namespace lbg::flow
