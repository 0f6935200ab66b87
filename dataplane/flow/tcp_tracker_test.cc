#include "dataplane/flow/tcp_tracker.h"

#include <gtest/gtest.h>

namespace lbg::flow {
namespace {

constexpr uint8_t F = 0x01, S = 0x02, R = 0x04, P = 0x08, A = 0x10;

packet::PacketView seg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len = 0) {
  packet::PacketView v{};
  v.ipVersion = 4;
  v.ipProto = 6;
  v.tcpFlags = flags;
  v.seq = seq;
  v.ack = ack;
  v.payloadLen = len;
  return v;
}

// Client ISN 1000, server ISN 5000.
void handshake(FlowMeta& m) {
  ASSERT_EQ(trackTcp(m, seg(S, 1000, 0), true), TcpEvent::Ok);
  ASSERT_EQ(m.tcpState, TcpState::SynSent);
  ASSERT_EQ(trackTcp(m, seg(S | A, 5000, 1001), false), TcpEvent::Ok);
  ASSERT_EQ(m.tcpState, TcpState::SynReceived);
  ASSERT_EQ(trackTcp(m, seg(A, 1001, 5001), true), TcpEvent::Ok);
  ASSERT_EQ(m.tcpState, TcpState::Established);
}

TEST(TcpTracker, HandshakeDataAndOrderlyClose) {
  FlowMeta m{};
  handshake(m);
  EXPECT_EQ(m.isn[0], 1000u);
  EXPECT_EQ(m.isn[1], 5000u);
  EXPECT_EQ(trackTcp(m, seg(P | A, 1001, 5001, 100), true), TcpEvent::Ok);
  EXPECT_EQ(trackTcp(m, seg(P | A, 5001, 1101, 300), false), TcpEvent::Ok);
  EXPECT_EQ(trackTcp(m, seg(F | A, 1101, 5301), true), TcpEvent::Ok);
  EXPECT_EQ(m.tcpState, TcpState::FinWait);
  EXPECT_EQ(trackTcp(m, seg(F | A, 5301, 1102), false),
            TcpEvent::Ok);  // acks client FIN, sends own
  EXPECT_EQ(m.tcpState, TcpState::Closing);
  EXPECT_EQ(trackTcp(m, seg(A, 1102, 5302), true), TcpEvent::Ok);  // last ACK
  EXPECT_EQ(m.tcpState, TcpState::Closed);
  EXPECT_EQ(trackTcp(m, seg(A, 1102, 5302), true), TcpEvent::Ok);  // retransmitted last ACK
  EXPECT_EQ(trackTcp(m, seg(P | A, 1102, 5302, 5), true), TcpEvent::AfterClose);
}

TEST(TcpTracker, FinWithoutAckOfItStaysClosing) {
  FlowMeta m{};
  handshake(m);
  trackTcp(m, seg(F | A, 1001, 5001), true);
  trackTcp(m, seg(F | A, 5001, 1001), false);  // does not acknowledge the client's FIN
  EXPECT_EQ(m.tcpState, TcpState::Closing);
  trackTcp(m, seg(A, 1002, 5002), true);  // acks the server FIN only
  EXPECT_EQ(m.tcpState, TcpState::Closing);
  trackTcp(m, seg(A, 5002, 1002), false);
  EXPECT_EQ(m.tcpState, TcpState::Closed);
}

TEST(TcpTracker, SynAckMustAcknowledgeTheSyn) {
  FlowMeta m{};
  trackTcp(m, seg(S, 1000, 0), true);
  EXPECT_EQ(trackTcp(m, seg(S | A, 5000, 777), false), TcpEvent::InvalidHandshake);
  EXPECT_EQ(m.tcpState, TcpState::SynSent);
  EXPECT_EQ(trackTcp(m, seg(S, 5000, 0), false), TcpEvent::InvalidHandshake);  // split handshake
  EXPECT_EQ(m.tcpState, TcpState::SynSent);
  EXPECT_EQ(trackTcp(m, seg(A, 1001, 1), true), TcpEvent::InvalidHandshake);
  EXPECT_EQ(trackTcp(m, seg(P | A, 1001, 1, 50), true), TcpEvent::DataBeforeHandshake);
  EXPECT_EQ(m.tcpState, TcpState::SynSent);
  // Third ACK with the wrong acknowledgment number.
  trackTcp(m, seg(S | A, 5000, 1001), false);
  EXPECT_EQ(trackTcp(m, seg(A, 1001, 9999), true), TcpEvent::InvalidHandshake);
  EXPECT_EQ(m.tcpState, TcpState::SynReceived);
  EXPECT_EQ(trackTcp(m, seg(P | A, 5001, 1001, 10), false), TcpEvent::DataBeforeHandshake);
}

TEST(TcpTracker, RetransmissionsInTheHandshake) {
  FlowMeta m{};
  trackTcp(m, seg(S, 1000, 0), true);
  EXPECT_EQ(trackTcp(m, seg(S, 1000, 0), true), TcpEvent::Ok);
  EXPECT_EQ(trackTcp(m, seg(S, 3000, 0), true), TcpEvent::Ok);  // new ISN after a client timeout
  EXPECT_EQ(m.isn[0], 3000u);
  EXPECT_EQ(trackTcp(m, seg(S | A, 5000, 1001), false), TcpEvent::InvalidHandshake);  // old one
  EXPECT_EQ(trackTcp(m, seg(S | A, 5000, 3001), false), TcpEvent::Ok);
  EXPECT_EQ(trackTcp(m, seg(S | A, 5000, 3001), false), TcpEvent::Ok);
  EXPECT_EQ(trackTcp(m, seg(A, 3001, 5001), true), TcpEvent::Ok);
  EXPECT_EQ(trackTcp(m, seg(S | A, 5000, 3001), false), TcpEvent::Ok);  // lost third ACK
  EXPECT_EQ(trackTcp(m, seg(S, 3000, 0), true), TcpEvent::SynOnEstablished);
  EXPECT_EQ(m.tcpState, TcpState::Established);
}

TEST(TcpTracker, MidstreamPickup) {
  FlowMeta m{};
  EXPECT_EQ(trackTcp(m, seg(P | A, 123, 456, 10), true), TcpEvent::Midstream);
  EXPECT_EQ(m.tcpState, TcpState::Established);
  FlowMeta m2{};
  EXPECT_EQ(trackTcp(m2, seg(S | A, 1, 2), true), TcpEvent::Midstream);  // SYN-ACK first
}

TEST(TcpTracker, RstNeedsTheExactSequence) {
  FlowMeta m{};
  handshake(m);
  trackTcp(m, seg(P | A, 1001, 5001, 100), true);  // client next seq 1101
  EXPECT_EQ(trackTcp(m, seg(R, 1101 + (1u << 21), 0), true), TcpEvent::InvalidRst);
  EXPECT_EQ(trackTcp(m, seg(R, 1101 - 200000, 0), true), TcpEvent::InvalidRst);
  // In the window but not exact: RFC 5961 servers answer with a challenge ACK and keep going.
  EXPECT_EQ(trackTcp(m, seg(R, 1102, 0), true), TcpEvent::InvalidRst);
  EXPECT_EQ(trackTcp(m, seg(R, 1100, 0), true), TcpEvent::InvalidRst);
  EXPECT_EQ(m.tcpState, TcpState::Established);
  EXPECT_EQ(trackTcp(m, seg(R | A, 5001, 1101), false), TcpEvent::Ok);
  EXPECT_EQ(m.tcpState, TcpState::Closed);
}

TEST(TcpTracker, RefusedConnection) {
  FlowMeta m{};
  trackTcp(m, seg(S, 1000, 0), true);
  EXPECT_EQ(trackTcp(m, seg(R | A, 0, 55), false), TcpEvent::InvalidRst);  // does not ack the SYN
  EXPECT_EQ(m.tcpState, TcpState::SynSent);
  EXPECT_EQ(trackTcp(m, seg(R | A, 0, 1001), false), TcpEvent::Ok);
  EXPECT_EQ(m.tcpState, TcpState::Closed);
}

TEST(TcpTracker, ReopenedAfterClose) {
  FlowMeta m{};
  handshake(m);
  trackTcp(m, seg(R, 1001, 0), true);
  ASSERT_EQ(m.tcpState, TcpState::Closed);
  EXPECT_EQ(trackTcp(m, seg(S, 90000, 0), true), TcpEvent::Reopened);
  EXPECT_EQ(m.tcpState, TcpState::SynSent);
  EXPECT_EQ(m.isn[0], 90000u);
  EXPECT_EQ(m.finSeen, 0);
}

TEST(TcpTracker, SequenceWrapAround) {
  FlowMeta m{};
  const uint32_t isn = 0xffffff00u;
  trackTcp(m, seg(S, isn, 0), true);
  trackTcp(m, seg(S | A, 7, isn + 1), false);
  trackTcp(m, seg(A, isn + 1, 8), true);
  ASSERT_EQ(m.tcpState, TcpState::Established);
  trackTcp(m, seg(P | A, isn + 1, 8, 0x200), true);  // crosses 2^32
  EXPECT_EQ(m.seqNext[0], isn + 1 + 0x200);
  EXPECT_EQ(trackTcp(m, seg(R, isn + 1 + 0x200, 0), true), TcpEvent::Ok);
}

TEST(TcpTracker, Timeouts) {
  const Timeouts t;
  FlowMeta m{};
  EXPECT_EQ(timeoutFor(m, 6, t), t.synNs);
  handshake(m);
  m.pkts[0] = 2;
  m.pkts[1] = 1;  // the flow table's caller counts packets
  EXPECT_EQ(timeoutFor(m, 6, t), t.establishedNs);
  trackTcp(m, seg(F | A, 1001, 5001), true);
  EXPECT_EQ(timeoutFor(m, 6, t), t.closingNs);
  trackTcp(m, seg(R, 5001, 0), false);
  EXPECT_EQ(timeoutFor(m, 6, t), t.closedNs);
  FlowMeta u{};
  EXPECT_EQ(timeoutFor(u, 17, t), t.udpUnrepliedNs);
  u.pkts[1] = 1;
  EXPECT_EQ(timeoutFor(u, 17, t), t.udpNs);
  EXPECT_EQ(timeoutFor(u, 47, t), t.otherNs);
  // A TCP flow nobody answered keeps the short timeout whatever its state (ACK-flood pick-ups).
  FlowMeta lone{};
  trackTcp(lone, seg(P | A, 1, 1, 10), true);
  ASSERT_EQ(lone.tcpState, TcpState::Established);
  EXPECT_EQ(timeoutFor(lone, 6, t), t.synNs);
  lone.pkts[1] = 1;
  EXPECT_EQ(timeoutFor(lone, 6, t), t.establishedNs);
  // The documented ordering the flow table's eviction relies on.
  EXPECT_LT(t.synNs, t.establishedNs);
  EXPECT_GT(t.establishedNs, 7200'000'000'000ull);  // above the 2 h keep-alive default
}

}  // namespace
}  // namespace lbg::flow
