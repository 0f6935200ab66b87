#include "dataplane/packet/icmp_quote.h"

#include <gtest/gtest.h>

#include "dataplane/core/test_frames.h"

namespace lbg::packet {
namespace {

using lbg::testing::Bytes;
using lbg::testing::L4Spec;

const IpAddr kClient = *IpAddr::parse("10.0.0.5");
const IpAddr kServer = *IpAddr::parse("52.96.1.1");
const IpAddr kRouter = *IpAddr::parse("198.51.100.1");

Bytes clientSegment(const IpAddr& src, const IpAddr& dst, uint8_t proto = 6) {
  L4Spec s;
  s.src = src;
  s.dst = dst;
  s.sport = 40000;
  s.dport = 443;
  s.proto = proto;
  return lbg::testing::frame(s, Bytes(1400, 0x41));
}

bool parse(const Bytes& f, IcmpQuote& q) {
  PacketView v{};
  if (decode(f.data(), uint32_t(f.size()), v) != DecodeStatus::Ok) return false;
  return parseIcmpErrorQuote(v, q);
}

TEST(IcmpQuote, FragmentationNeededQuotesTheClientsSegment) {
  const Bytes e =
      lbg::testing::icmpError(clientSegment(kClient, kServer), kRouter, kClient, 3, 4, 1280);
  IcmpQuote q;
  ASSERT_TRUE(parse(e, q));
  EXPECT_EQ(q.src, kClient);
  EXPECT_EQ(q.dst, kServer);
  EXPECT_EQ(q.srcPort, 40000);
  EXPECT_EQ(q.dstPort, 443);
  EXPECT_EQ(q.proto, 6);
}

TEST(IcmpQuote, PacketTooBigOverIpv6) {
  const IpAddr c = *IpAddr::parse("2001:db8::5"), s = *IpAddr::parse("2603:1006::1");
  const IpAddr r = *IpAddr::parse("2001:db8:ffff::1");
  IcmpQuote q;
  ASSERT_TRUE(parse(lbg::testing::icmpError(clientSegment(c, s, 17), r, c, 2, 0, 1280), q));
  EXPECT_EQ(q.src, c);
  EXPECT_EQ(q.proto, 17);
  EXPECT_EQ(q.dstPort, 443);
}

TEST(IcmpQuote, NotErrorsOrInconsistentQuotesAreRejected) {
  const Bytes seg = clientSegment(kClient, kServer);
  IcmpQuote q;
  // Redirect (5), echo request (8), source quench (4): not errors we pass.
  for (uint8_t type : {4, 5, 8, 0}) {
    EXPECT_FALSE(parse(lbg::testing::icmpError(seg, kRouter, kClient, type, 0), q)) << int(type);
  }
  // Sent to someone other than the quoted packet's sender: forged or reflected.
  EXPECT_FALSE(parse(lbg::testing::icmpError(seg, kRouter, *IpAddr::parse("10.0.0.9"), 3, 4), q));
  // Truncated quotes: the ports are missing.
  Bytes cut = lbg::testing::icmpError(seg, kRouter, kClient, 3, 4);
  for (size_t keep = cut.size() - 8; keep < cut.size(); keep += 2) {
    Bytes f(cut.begin(), cut.begin() + keep);
    lbg::testing::set16(&f[16], uint16_t(keep - 14));  // IPv4 total length of the shorter frame
    lbg::testing::set16(&f[24], 0);
    lbg::testing::set16(&f[24], lbg::testing::checksum(&f[14], 20));
    PacketView v{};
    if (decode(f.data(), uint32_t(f.size()), v) == DecodeStatus::Ok) {
      EXPECT_EQ(parseIcmpErrorQuote(v, q), keep - 14 - 20 - 8 - 20 >= 4) << keep;
    }
  }
  // A quoted non-first fragment carries no ports.
  Bytes frag = seg;
  lbg::testing::set16(&frag[14 + 6], 0x0010);
  EXPECT_FALSE(parse(lbg::testing::icmpError(frag, kRouter, kClient, 3, 4), q));
  // A quoted ICMP packet is not a flow of ours.
  Bytes icmpInner = seg;
  icmpInner[14 + 9] = 1;
  EXPECT_FALSE(parse(lbg::testing::icmpError(icmpInner, kRouter, kClient, 11, 0), q));
}

}  // namespace
}  // namespace lbg::packet
