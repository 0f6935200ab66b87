#include "dataplane/flow/tcp_normalizer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dataplane/flow/tcp_tracker.h"

namespace lbg::flow {
namespace {

constexpr uint8_t S = 0x02, R = 0x04, P = 0x08, A = 0x10, U = 0x20;

// A segment whose payload lives in `frame` (payloadOffset 0).
struct Seg {
  std::vector<uint8_t> frame;
  packet::PacketView v{};
};

Seg seg(uint8_t flags, uint32_t seq, uint32_t ack, const std::string& data = {}) {
  Seg s;
  s.frame.assign(data.begin(), data.end());
  s.frame.push_back(0);  // never empty
  s.v.frame = s.frame.data();
  s.v.frameLen = uint32_t(s.frame.size());
  s.v.ipVersion = 4;
  s.v.ipProto = 6;
  s.v.tcpFlags = flags;
  s.v.seq = seq;
  s.v.ack = ack;
  s.v.payloadLen = uint32_t(data.size());
  return s;
}

class Normalizer : public ::testing::Test {
 protected:
  void SetUp() override {
    rings_ = std::move(StreamBufferPool::create(2, 64).value());
    // Client ISN 1000, server ISN 5000.
    ASSERT_EQ(trackTcp(m_, seg(S, 1000, 0).v, true), TcpEvent::Ok);
    ASSERT_EQ(trackTcp(m_, seg(S | A, 5000, 1001).v, false), TcpEvent::Ok);
    ASSERT_EQ(trackTcp(m_, seg(A, 1001, 5001).v, true), TcpEvent::Ok);
  }
  // The pipeline's order: normalise, then track what passed.
  NormAction send(const Seg& s, bool client) {
    const auto a = normalizeTcp(*rings_, g_, m_, s.v, client);
    if (a == NormAction::Pass) trackTcp(m_, s.v, client);
    return a;
  }
  std::unique_ptr<StreamBufferPool> rings_;
  StreamGuard g_{};
  FlowMeta m_{};
};

TEST_F(Normalizer, RetransmissionMustRepeatTheForwardedBytes) {
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "GET / HTTP/1.1\r\n"), true), NormAction::Pass);
  EXPECT_NE(g_.ringPlus1, 0u);
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "GET / HTTP/1.1\r\n"), true), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1005, 5001, "/ HTTP"), true), NormAction::Pass);
  // Overlapping the edge: the old part must match, the new part is kept.
  EXPECT_EQ(send(seg(P | A, 1014, 5001, "1\r\nHost"), true), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "GET /evil HTTP/1.1"), true), NormAction::Conflict);
  EXPECT_EQ(send(seg(P | A, 1017, 5001, "Hxst"), true), NormAction::Conflict);
}

TEST_F(Normalizer, AcknowledgedBytesAreReleased) {
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "abcdefgh"), true), NormAction::Pass);
  EXPECT_EQ(rings_->available(), 1u);
  EXPECT_EQ(send(seg(A, 5001, 1005), false), NormAction::Pass);
  EXPECT_EQ(rings_->available(), 1u);  // half acknowledged: still kept
  EXPECT_EQ(send(seg(P | A, 1005, 5001, "efgX"), true), NormAction::Conflict);
  EXPECT_EQ(send(seg(A, 5001, 1009), false), NormAction::Pass);
  EXPECT_EQ(rings_->available(), 2u);  // all acknowledged: ring back in the pool
  EXPECT_EQ(g_.ringPlus1, 0u);
  // Bytes the server acknowledged are discarded by it: not compared.
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "zzzz"), true), NormAction::Pass);
  // An ACK beyond what was sent releases no more than the edge.
  EXPECT_EQ(send(seg(P | A, 1009, 5001, "ijkl"), true), NormAction::Pass);
  EXPECT_EQ(send(seg(A, 5001, 1100), false), NormAction::Pass);
  EXPECT_EQ(m_.clientAcked, 13u);
}

TEST_F(Normalizer, DataBeyondAGapIsDropped) {
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "abcd"), true), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1010, 5001, "late"), true), NormAction::DropAhead);
  EXPECT_EQ(send(seg(P | A, 1005, 5001, "efgh"), true), NormAction::Pass);
}

TEST_F(Normalizer, AllowanceIsTheRing) {
  const std::string k64(64, 'k');
  EXPECT_EQ(send(seg(P | A, 1001, 5001, k64), true), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1065, 5001, "x"), true), NormAction::DropFull);
  EXPECT_EQ(send(seg(A, 5001, 1033), false), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1065, 5001, "x"), true), NormAction::Pass);
  // The ring wrapped: bytes still compare at their own offsets.
  EXPECT_EQ(send(seg(P | A, 1033, 5001, std::string(32, 'k') + "x"), true), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1033, 5001, std::string(32, 'k') + "y"), true), NormAction::Conflict);
}

TEST_F(Normalizer, PoolExhaustedDropsNewData) {
  StreamGuard other{};
  FlowMeta om = m_;
  auto big = seg(P | A, 1001, 5001, "a");
  EXPECT_EQ(normalizeTcp(*rings_, other, om, big.v, true), NormAction::Pass);
  StreamGuard third{};
  FlowMeta tm = m_;
  EXPECT_EQ(normalizeTcp(*rings_, third, tm, big.v, true), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "abcd"), true), NormAction::DropFull);
}

TEST_F(Normalizer, BadAcksAreDropped) {
  EXPECT_EQ(send(seg(P | A, 1001, 9999, "abcd"), true), NormAction::DropBadAck);
  EXPECT_EQ(send(seg(P, 1001, 0, "abcd"), true), NormAction::DropBadAck);
  EXPECT_EQ(m_.seqNext[0], 1001u);  // nothing tracked
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "abcd"), true), NormAction::Pass);
  // RSTs are the tracker's: exact sequence.
  EXPECT_EQ(send(seg(R, 1003, 0), true), NormAction::Pass);
}

TEST_F(Normalizer, DataAfterTheClientsFinIsDropped) {
  EXPECT_EQ(send(seg(P | A | 0x01, 1001, 5001, "abcd"), true), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1005, 5001, "more"), true), NormAction::DropAfterFin);
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "abcd"), true), NormAction::Pass);
}

TEST_F(Normalizer, AdoptedBytesAreCompared) {
  // The verdict released "hello" (held while pending): the tracker saw it.
  trackTcp(m_, seg(P | A, 1001, 5001, "hello").v, true);
  ASSERT_TRUE(guardAdopt(*rings_, g_, m_, reinterpret_cast<const uint8_t*>("hello"), 5, 1));
  EXPECT_EQ(g_.blind, 0u);
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "hello"), true), NormAction::Pass);
  EXPECT_EQ(send(seg(P | A, 1001, 5001, "jello"), true), NormAction::Conflict);
}

TEST_F(Normalizer, AdoptionBeyondTheRingFails) {
  const std::string k(100, 'k');
  trackTcp(m_, seg(P | A, 1001, 5001, k).v, true);
  EXPECT_FALSE(guardAdopt(*rings_, g_, m_, reinterpret_cast<const uint8_t*>(k.data()), 100, 1));
}

TEST(NormalizerHeader, UrgentAndDiscardOptions) {
  auto s = seg(P | A | U, 1, 1, "x");
  EXPECT_EQ(checkTcpHeader(s.v), NormAction::DropUrgent);
  // IPv6 with a destination options header: type 0x80 (discard + ICMP) vs PadN.
  std::vector<uint8_t> f(14 + 40 + 8 + 20, 0);
  packet::PacketView v{};
  v.frame = f.data();
  v.frameLen = uint32_t(f.size());
  v.ipVersion = 6;
  v.ipProto = 6;
  v.l3Offset = 14;
  v.l4Offset = 14 + 48;
  f[14 + 6] = 60;      // next header: destination options
  f[54] = 6;           // then TCP
  f[55] = 0;           // 8 bytes
  f[56] = 1;           // PadN, 4 bytes of data
  f[57] = 4;
  EXPECT_EQ(checkTcpHeader(v), NormAction::Pass);
  f[56] = 0x80;  // unknown, "discard and send ICMP"
  EXPECT_EQ(checkTcpHeader(v), NormAction::DropDiscardOpt);
  f[56] = 0x1e;  // unknown, "skip over"
  EXPECT_EQ(checkTcpHeader(v), NormAction::Pass);
}

TEST(NormalizerTtl, RaiseFixesTheIpv4Checksum) {
  // 20-byte IPv4 header, TTL 3, valid checksum.
  std::vector<uint8_t> f = {0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 3, 6, 0, 0,
                            10,   1, 0, 10, 52,   96,   10,   10};
  auto sum = [&] {
    uint32_t s = 0;
    for (size_t i = 0; i < 20; i += 2) s += uint32_t(f[i] << 8 | f[i + 1]);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(s);
  };
  const uint16_t c = uint16_t(~sum());
  f[10] = uint8_t(c >> 8);
  f[11] = uint8_t(c);
  ASSERT_EQ(sum(), 0xffff);
  packet::PacketView v{};
  v.ipVersion = 4;
  v.ttl = 3;
  NormalizerConfig cfg;
  EXPECT_TRUE(ttlBelowFloor(v, cfg));
  raiseTtl(f.data(), v, cfg.minTtl);
  EXPECT_EQ(f[8], 64);
  EXPECT_EQ(sum(), 0xffff);
}

}  // namespace
}  // namespace lbg::flow

namespace lbg::flow {
namespace {

// A flow installed from the HA peer's last sync (tcp_normalizer.h, "Adopted flows").
class Adopted : public Normalizer {
 protected:
  void SetUp() override {
    Normalizer::SetUp();
    m_.adoptedClient = m_.adoptedServer = true;
  }
};

TEST_F(Adopted, TheFirstClientDataBeyondTheEdgeReAnchorsItOnce) {
  // The old active forwarded 1001..1501 after the last sync: this box never saw it.
  EXPECT_EQ(send(seg(P | A, 1501, 5001, "next"), true), NormAction::Pass);
  EXPECT_FALSE(m_.adoptedClient);
  EXPECT_EQ(m_.seqNext[0], 1505u);
  // From now on the usual rules: a gap is dropped, a retransmission must repeat.
  EXPECT_EQ(send(seg(P | A, 1600, 5001, "gap"), true), NormAction::DropAhead);
  EXPECT_EQ(send(seg(P | A, 1501, 5001, "nExt"), true), NormAction::Conflict);
}

TEST_F(Adopted, AJumpBeyondTheBoundIsNotTaken) {
  EXPECT_EQ(send(seg(P | A, 1001 + kAdoptMaxJump + 1, 5001, "far"), true), NormAction::DropAhead);
  EXPECT_FALSE(m_.adoptedClient);  // once: a later segment cannot try again
  EXPECT_EQ(send(seg(P | A, 1001 + 1000, 5001, "near"), true), NormAction::DropAhead);
}

TEST_F(Adopted, AServerAckBeyondTheEdgeMovesIt) {
  EXPECT_EQ(send(seg(A, 5001, 1801), false), NormAction::Pass);
  EXPECT_EQ(m_.clientAcked, 801u);
  EXPECT_FALSE(m_.adoptedClient);
  EXPECT_EQ(send(seg(P | A, 1801, 5001, "more"), true), NormAction::Pass);
}

TEST_F(Adopted, TheClientsFirstAckOfUnseenServerBytesPassesOnce) {
  EXPECT_EQ(send(seg(A, 1001, 5001 + 3000), true), NormAction::Pass);
  EXPECT_FALSE(m_.adoptedServer);
  EXPECT_EQ(send(seg(A, 1001, 5001 + 6000), true), NormAction::DropBadAck);
  // Beyond the bound even the first time: dropped.
  m_.adoptedServer = true;
  EXPECT_EQ(send(seg(A, 1001, 5001 + 3000 + kAdoptMaxJump + 1), true), NormAction::DropBadAck);
}

TEST_F(Adopted, AFlowThatIsNotAdoptedKeepsTheStrictRules) {
  m_.adoptedClient = m_.adoptedServer = false;
  EXPECT_EQ(send(seg(P | A, 1501, 5001, "next"), true), NormAction::DropAhead);
  EXPECT_EQ(send(seg(A, 1001, 5001 + 3000), true), NormAction::DropBadAck);
}

}  // namespace
}  // namespace lbg::flow
