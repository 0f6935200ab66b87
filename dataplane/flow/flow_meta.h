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

struct FlowMeta {
  uint64_t firstSeenNs, lastSeenNs;
  uint64_t pkts[2], bytes[2];  // [0] initiator → responder, [1] back
  bool initiatorIsLo;          // the canonical side that sent the first packet we saw
  bool sawSyn;                 // that packet was a SYN (not a mid-stream pick-up)
  TcpState tcpState;
  uint8_t seqKnown;     // bit d: seqNext[d] is valid
  uint8_t finSeen;      // bit d: direction d sent FIN
  uint8_t finAcked;     // bit d: direction d's FIN was acknowledged
  uint32_t isn[2];      // initial sequence numbers per direction (stream offsets)
  uint32_t seqNext[2];  // highest sequence number + length seen per direction
  uint32_t finSeq[2];   // sequence number of each direction's FIN
};

}  // namespace lbg::flow
