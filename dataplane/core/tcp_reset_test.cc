#include "dataplane/core/tcp_reset.h"

#include <gtest/gtest.h>

#include "dataplane/core/test_frames.h"

namespace lbg::dataplane {
namespace {

packet::PacketView decodeOk(const uint8_t* d, size_t n) {
  packet::PacketView v{};
  EXPECT_EQ(packet::decode(d, uint32_t(n), v), packet::DecodeStatus::Ok);
  return v;
}

bool checksumsValid(const uint8_t* f, size_t n, const packet::PacketView& v) {
  const uint8_t* ip = f + v.l3Offset;
  const uint8_t* tcp = f + v.l4Offset;
  const size_t tcpLen = n - v.l4Offset;
  if (v.ipVersion == 4 && testing::checksum(ip, 20) != 0) return false;
  uint32_t pseudo = 0;
  if (v.ipVersion == 4) {
    for (int i = 12; i < 20; i += 2) pseudo += uint32_t(ip[i]) << 8 | ip[i + 1];
  } else {
    for (int i = 8; i < 40; i += 2) pseudo += uint32_t(ip[i]) << 8 | ip[i + 1];
  }
  pseudo += 6 + uint32_t(tcpLen);
  return testing::checksum(tcp, tcpLen, pseudo) == 0;
}

class TcpResetTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TcpResetTest, BothDirectionsHaveExactSequenceNumbersAndValidChecksums) {
  testing::L4Spec s;
  s.src = *IpAddr::parse(GetParam());
  s.dst = *IpAddr::parse(s.src.isV4() ? "203.0.113.9" : "2001:db8::9");
  s.sport = 40000;
  s.dport = 443;
  s.seq = 1000;
  s.ack = 7000;
  s.vlans = {100, 200};
  const auto f = testing::frame(s, testing::Bytes(50, 'x'));
  const auto p = decodeOk(f.data(), f.size());

  uint8_t out[128];
  const size_t n1 = buildTcpReset(p, true, out, sizeof(out));
  ASSERT_GT(n1, 0u);
  auto r1 = decodeOk(out, n1);
  EXPECT_EQ(r1.src, s.dst);
  EXPECT_EQ(r1.dst, s.src);
  EXPECT_EQ(r1.srcPort, 443);
  EXPECT_EQ(r1.seq, 7000u);
  EXPECT_EQ(r1.ack, 1050u);
  EXPECT_EQ(r1.tcpFlags, 0x14);
  EXPECT_EQ(r1.vlanCount, 2);
  EXPECT_TRUE(checksumsValid(out, n1, r1));
  EXPECT_EQ(out[0], f[6]);  // MACs swapped toward the source

  const size_t n2 = buildTcpReset(p, false, out, sizeof(out));
  ASSERT_GT(n2, 0u);
  auto r2 = decodeOk(out, n2);
  EXPECT_EQ(r2.src, s.src);
  EXPECT_EQ(r2.seq, 1000u);
  EXPECT_TRUE(checksumsValid(out, n2, r2));
  EXPECT_EQ(out[0], f[0]);
}

INSTANTIATE_TEST_SUITE_P(Families, TcpResetTest, ::testing::Values("10.0.0.5", "fd00::5"));

TEST(TcpReset, RefusesNonTcpAndSmallBuffers) {
  testing::L4Spec s;
  s.src = *IpAddr::parse("10.0.0.5");
  s.dst = *IpAddr::parse("10.0.0.6");
  s.sport = 1234;
  s.dport = 53;
  s.proto = 17;
  const auto f = testing::frame(s, {});
  const auto p = decodeOk(f.data(), f.size());
  uint8_t out[128];
  EXPECT_EQ(buildTcpReset(p, true, out, sizeof(out)), 0u);
  s.proto = 6;
  const auto g = testing::frame(s, {});
  const auto q = decodeOk(g.data(), g.size());
  EXPECT_EQ(buildTcpReset(q, true, out, 40), 0u);
}

}  // namespace
}  // namespace lbg::dataplane
