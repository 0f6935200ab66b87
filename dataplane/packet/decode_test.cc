#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dataplane/packet/packet_view.h"
#include "dataplane/packet/test_frame.h"

namespace lbg::packet {
namespace {

using namespace testing;  // NOLINT: the frame builders

Bytes payload(size_t n, uint8_t seed = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 7);
  return b;
}

// Decodes from an exactly-sized heap copy, so that ASan reports any read past the end.
DecodeStatus decodeCopy(const Bytes& f, size_t len, PacketView& v) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[len ? len : 1]);
  if (len) std::memcpy(copy.get(), f.data(), len);
  const DecodeStatus s = decode(copy.get(), uint32_t(len), v);
  v.frame = nullptr;  // the copy dies here
  return s;
}

DecodeStatus decodeAll(const Bytes& f, PacketView& v) {
  return decode(f.data(), uint32_t(f.size()), v);
}

Bytes v4Tcp(const Tcp& t = {}, const Bytes& data = {}, V4 h = {}) {
  h.proto = 6;
  return cat(eth(0x0800), ipv4(h, tcp(t, data)));
}

TEST(Decode, Ipv4TcpFields) {
  Tcp t;
  t.sport = 51000;
  t.dport = 443;
  t.seq = 0x01020304;
  t.ack = 0xa0b0c0d0;
  t.flags = 0x18;
  t.window = 29200;
  t.options = {1, 1, 1, 0};  // NOP NOP NOP EOL
  const Bytes data = payload(37);
  const Bytes f = v4Tcp(t, data);
  PacketView v;
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_EQ(v.dropReason, DropReason::None);
  EXPECT_EQ(v.ipVersion, 4);
  EXPECT_EQ(v.ipProto, 6);
  EXPECT_EQ(v.etherType, 0x0800);
  EXPECT_EQ(v.vlanCount, 0);
  EXPECT_EQ(v.l3Offset, 14);
  EXPECT_EQ(v.l4Offset, 34);
  EXPECT_EQ(v.payloadOffset, 34u + 24u);
  EXPECT_EQ(v.payloadLen, 37u);
  EXPECT_EQ(0, std::memcmp(v.frame + v.payloadOffset, data.data(), data.size()));
  EXPECT_EQ(v.src, IpAddr::fromV4(0x0a000001));
  EXPECT_EQ(v.dst, IpAddr::fromV4(0xc0000201));
  EXPECT_EQ(v.ttl, 64);
  EXPECT_EQ(v.srcPort, 51000);
  EXPECT_EQ(v.dstPort, 443);
  EXPECT_EQ(v.seq, 0x01020304u);
  EXPECT_EQ(v.ack, 0xa0b0c0d0u);
  EXPECT_EQ(v.tcpFlags, 0x18);
  EXPECT_EQ(v.window, 29200);
  EXPECT_FALSE(v.isFragment);
  EXPECT_TRUE(v.l4HeaderComplete);
}

TEST(Decode, VlanAndQinQ) {
  const Bytes ip = ipv4(V4{}, tcp(Tcp{}, {}));
  PacketView v;
  Bytes f = cat(eth(0x0800, {0x0064}), ip);
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_EQ(v.vlanCount, 1);
  EXPECT_EQ(v.vlanTci[0], 0x0064);
  EXPECT_EQ(v.l3Offset, 18);

  f = cat(eth(0x0800, {0x00c8, 0x2064}, {0x88a8, 0x8100}), ip);
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_EQ(v.vlanCount, 2);
  EXPECT_EQ(v.vlanTci[0], 0x00c8);
  EXPECT_EQ(v.vlanTci[1], 0x2064);
  EXPECT_EQ(v.l3Offset, 22);
  EXPECT_EQ(v.srcPort, 40000);

  f = cat(eth(0x0800, {1, 2}, {0x8100, 0x8100}), ip);
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  f = cat(eth(0x0800, {1, 2}, {0x9100, 0x8100}), ip);
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Ok);

  f = cat(eth(0x0800, {1, 2, 3}, {0x88a8, 0x8100, 0x8100}), ip);
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::TooManyVlans);
}

TEST(Decode, NonIpIsL2Only) {
  PacketView v;
  Bytes arp = cat(eth(0x0806), Bytes(28, 0));
  EXPECT_EQ(decodeAll(arp, v), DecodeStatus::L2Only);
  EXPECT_EQ(v.etherType, 0x0806);
  EXPECT_EQ(v.ipVersion, 0);
  Bytes llc = cat(eth(0x0026), Bytes(38, 0x42));  // 802.3 length field
  EXPECT_EQ(decodeAll(llc, v), DecodeStatus::L2Only);
  Bytes taggedLldp = cat(eth(0x88cc, {5}), Bytes(20, 0));
  EXPECT_EQ(decodeAll(taggedLldp, v), DecodeStatus::L2Only);
  EXPECT_EQ(v.vlanCount, 1);
  Bytes pppoe = cat(eth(0x8864), ipv4(V4{}, tcp(Tcp{}, {})));  // IP inside PPPoE stays L2 here
  EXPECT_EQ(decodeAll(pppoe, v), DecodeStatus::L2Only);
}

TEST(Decode, EthernetPaddingIsNotPayload) {
  V4 h;
  h.proto = 17;
  Bytes f = cat(eth(0x0800), ipv4(h, udp(5353, 53, payload(4))));
  f.resize(60, 0);  // minimum Ethernet frame
  PacketView v;
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_EQ(v.payloadLen, 4u);
  EXPECT_EQ(v.srcPort, 5353);
  EXPECT_EQ(v.dstPort, 53);
}

TEST(Decode, Ipv4HeaderErrors) {
  PacketView v;
  Bytes f = v4Tcp();
  f[14 + 10] ^= 0x01;  // checksum
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv4Checksum);

  DecodeOptions replay;
  replay.verifyIpv4Checksum = false;  // capture replay: offload artefacts are not drops
  EXPECT_EQ(decode(f.data(), uint32_t(f.size()), v, replay), DecodeStatus::Ok);

  f = v4Tcp();
  f[14] = 0x65;  // version 6 under ethertype IPv4
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpVersion);

  f = v4Tcp();
  f[14] = 0x44;  // IHL 4
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv4HeaderLength);

  f = v4Tcp();
  f[14 + 2] = 0x01;  // total length 256+ > frame
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv4TotalLength);

  V4 h;
  h.proto = 6;
  f = cat(eth(0x0800), ipv4(h, tcp(Tcp{}, {})));
  store16(&f[14 + 2], 19);  // below the header
  store16(&f[14 + 10], 0);
  store16(&f[14 + 10], foldChecksum(sumWords(&f[14], 20, 0)));
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv4TotalLength);
}

TEST(Decode, Ipv4Options) {
  PacketView v;
  V4 h;
  h.options = {7, 7, 4, 0, 0, 0, 0, 1};  // record route (len 7) + NOP
  ASSERT_EQ(decodeAll(v4Tcp(Tcp{}, {}, h), v), DecodeStatus::Ok);
  EXPECT_EQ(v.l4Offset, 14 + 28);

  h.options = {0x83, 7, 4, 1, 2, 3, 4, 0};  // loose source route
  EXPECT_EQ(decodeAll(v4Tcp(Tcp{}, {}, h), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::Ipv4SourceRoute);
  h.options = {0x89, 7, 4, 1, 2, 3, 4, 0};  // strict source route
  EXPECT_EQ(decodeAll(v4Tcp(Tcp{}, {}, h), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::Ipv4SourceRoute);

  h.options = {7, 9, 4, 0};  // length past the header
  EXPECT_EQ(decodeAll(v4Tcp(Tcp{}, {}, h), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv4Option);
  h.options = {7, 1, 0, 0};  // length below 2
  EXPECT_EQ(decodeAll(v4Tcp(Tcp{}, {}, h), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv4Option);
  h.options = {1, 1, 1, 7};  // type with no room for its length byte
  EXPECT_EQ(decodeAll(v4Tcp(Tcp{}, {}, h), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv4Option);
  h.options = {0, 0x83, 0, 0};  // after EOL nothing is read
  EXPECT_EQ(decodeAll(v4Tcp(Tcp{}, {}, h), v), DecodeStatus::Ok);
}

TEST(Decode, TcpErrors) {
  PacketView v;
  Bytes f = v4Tcp();
  f[34 + 12] = 0x40;  // data offset 4
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadTcpHeaderLength);
  f[34 + 12] = 0x60;  // 24 bytes, segment has 20
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadTcpHeaderLength);

  const uint8_t badFlags[] = {0x03 /*SYN FIN*/, 0x06 /*SYN RST*/,           0x00 /*null*/,
                              0x01 /*FIN*/,     0x29 /*xmas: URG PSH FIN*/, 0x13 /*SYN ACK FIN*/};
  for (uint8_t fl : badFlags) {
    Tcp t;
    t.flags = fl;
    EXPECT_EQ(decodeAll(v4Tcp(t), v), DecodeStatus::Malformed) << int(fl);
    EXPECT_EQ(v.dropReason, DropReason::BadTcpFlags) << int(fl);
  }
  const uint8_t goodFlags[] = {0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0xc2 /*SYN ECE CWR*/};
  for (uint8_t fl : goodFlags) {
    Tcp t;
    t.flags = fl;
    EXPECT_EQ(decodeAll(v4Tcp(t), v), DecodeStatus::Ok) << int(fl);
  }
  Tcp t;
  t.sport = 0;
  EXPECT_EQ(decodeAll(v4Tcp(t), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadPort);
}

TEST(Decode, Udp) {
  PacketView v;
  V4 h;
  h.proto = 17;
  Bytes f = cat(eth(0x0800), ipv4(h, udp(0, 53, payload(12))));  // source port 0 is legal
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_EQ(v.payloadLen, 12u);
  EXPECT_EQ(v.payloadOffset, 14u + 20u + 8u);

  Bytes u = udp(1000, 53, payload(12));
  store16(&u[4], 7);
  EXPECT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, u)), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadUdpLength);
  store16(&u[4], 21);
  EXPECT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, u)), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadUdpLength);
  store16(&u[4], 10);  // shorter than the IP payload: the host uses the UDP length
  ASSERT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, u)), v), DecodeStatus::Ok);
  EXPECT_EQ(v.payloadLen, 2u);

  EXPECT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, udp(1000, 0, {}))), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadPort);
}

TEST(Decode, Icmp) {
  PacketView v;
  V4 h;
  h.proto = 1;
  ASSERT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, icmp(8, 0, payload(16)))), v), DecodeStatus::Ok);
  EXPECT_EQ(v.icmpType, 8);
  EXPECT_EQ(v.icmpCode, 0);
  EXPECT_EQ(v.payloadLen, 16u);
  EXPECT_EQ(v.srcPort, 0);

  ASSERT_EQ(decodeAll(cat(eth(0x86dd), ipv6(58, icmp(135, 0, payload(16)))), v), DecodeStatus::Ok);
  EXPECT_EQ(v.ipProto, 58);
  EXPECT_EQ(v.icmpType, 135);
}

TEST(Decode, OtherProtocolsCarryNoPorts) {
  PacketView v;
  V4 h;
  h.proto = 47;  // GRE
  ASSERT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, payload(24))), v), DecodeStatus::Ok);
  EXPECT_EQ(v.ipProto, 47);
  EXPECT_EQ(v.srcPort, 0);
  EXPECT_EQ(v.payloadLen, 24u);
}

TEST(Decode, Ipv4Fragments) {
  PacketView v;
  V4 h;
  h.fragField = 0x2000;  // MF, offset 0
  h.id = 0xbeef;
  Bytes f = cat(eth(0x0800), ipv4(h, tcp(Tcp{}, payload(20))));  // 40 bytes of data
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Fragment);
  EXPECT_TRUE(v.isFragment);
  EXPECT_TRUE(v.moreFragments);
  EXPECT_TRUE(v.l4HeaderComplete);
  EXPECT_EQ(v.fragId, 0xbeefu);
  EXPECT_EQ(v.fragOffset, 0u);
  EXPECT_EQ(v.srcPort, 40000);  // first fragment keeps its ports
  EXPECT_EQ(v.dstPort, 443);
  EXPECT_EQ(v.payloadOffset, 34u);  // the fragment's data is the whole IP payload
  EXPECT_EQ(v.payloadLen, 40u);

  h.fragField = 0x2000 | 5;  // MF, offset 40
  f = cat(eth(0x0800), ipv4(h, payload(16)));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Fragment);
  EXPECT_EQ(v.fragOffset, 40u);
  EXPECT_EQ(v.srcPort, 0);
  EXPECT_EQ(v.payloadLen, 16u);

  h.fragField = 7;  // last, offset 56
  f = cat(eth(0x0800), ipv4(h, payload(3)));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Fragment);
  EXPECT_FALSE(v.moreFragments);
  EXPECT_EQ(v.fragOffset, 56u);

  h.fragField = 0x2000 | 5;  // non-last with 12 bytes: not a multiple of 8
  EXPECT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, payload(12))), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadFragment);

  h.fragField = 0x1fff;  // offset 65528 + 16 bytes > 65535
  EXPECT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, payload(16))), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadFragment);

  h.fragField = 0x2000;  // tiny first fragment: 8 bytes of a TCP header
  const Bytes seg = tcp(Tcp{}, {});
  ASSERT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, Bytes(seg.begin(), seg.begin() + 8))), v),
            DecodeStatus::Fragment);
  EXPECT_FALSE(v.l4HeaderComplete);
  EXPECT_EQ(v.srcPort, 40000);

  h.fragField = 0x4000;  // DF only: not a fragment
  ASSERT_EQ(decodeAll(cat(eth(0x0800), ipv4(h, tcp(Tcp{}, {}))), v), DecodeStatus::Ok);
  EXPECT_FALSE(v.isFragment);
}

TEST(Decode, Ipv6Tcp) {
  PacketView v;
  Tcp t;
  t.dport = 80;
  const Bytes data = payload(10);
  Bytes f = cat(eth(0x86dd, {7}), ipv6(6, tcp(t, data), 1, 2, 33));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_EQ(v.ipVersion, 6);
  EXPECT_EQ(v.ipProto, 6);
  EXPECT_EQ(v.ttl, 33);
  EXPECT_EQ(v.l3Offset, 18);
  EXPECT_EQ(v.l4Offset, 58);
  EXPECT_EQ(v.dstPort, 80);
  EXPECT_EQ(v.payloadLen, 10u);
  const Bytes a1 = v6addr(1), a2 = v6addr(2);
  EXPECT_EQ(v.src, IpAddr::fromV6(a1.data()));
  EXPECT_EQ(v.dst, IpAddr::fromV6(a2.data()));
  EXPECT_FALSE(v.src.isV4());
}

TEST(Decode, Ipv6ExtensionHeaders) {
  PacketView v;
  const Bytes l4 = tcp(Tcp{}, payload(5));
  // hop-by-hop, destination options, routing type 4 with no segments left, destination options
  Bytes chain =
      cat(cat(extHeader(60), extHeader(43, 1)), cat(extHeader(60, 0, 4, 0), extHeader(6)));
  chain[8 + 2] = 4;  // routing type 4 (SRv6), segments left 0
  chain[8 + 3] = 0;
  Bytes f = cat(eth(0x86dd), ipv6(0, cat(chain, l4)));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_EQ(v.ipProto, 6);
  EXPECT_EQ(v.l4Offset, 14u + 40u + uint32_t(chain.size()));
  EXPECT_EQ(v.payloadLen, 5u);

  // Hop-by-hop anywhere but first.
  f = cat(eth(0x86dd), ipv6(60, cat(cat(extHeader(0), extHeader(6)), l4)));
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv6ExtHeader);

  // Nine destination-options headers.
  Bytes many;
  for (int i = 0; i < 9; ++i) many = cat(many, extHeader(i == 8 ? 6 : 60));
  f = cat(eth(0x86dd), ipv6(60, cat(many, l4)));
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::TooManyIpv6ExtHeaders);
  // Eight are fine.
  Bytes eight;
  for (int i = 0; i < 8; ++i) eight = cat(eight, extHeader(i == 7 ? 6 : 60));
  EXPECT_EQ(decodeAll(cat(eth(0x86dd), ipv6(60, cat(eight, l4))), v), DecodeStatus::Ok);

  // Routing header type 0, and any routing header with segments left.
  Bytes rh(24, 0);
  rh[0] = 6;
  rh[1] = 2;
  rh[2] = 0;
  rh[3] = 0;
  EXPECT_EQ(decodeAll(cat(eth(0x86dd), ipv6(43, cat(rh, l4))), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::Ipv6RoutingHeader);
  rh[2] = 4;
  rh[3] = 1;
  EXPECT_EQ(decodeAll(cat(eth(0x86dd), ipv6(43, cat(rh, l4))), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::Ipv6RoutingHeader);

  // Extension header longer than the packet.
  Bytes longDo = extHeader(6);
  longDo[1] = 10;
  EXPECT_EQ(decodeAll(cat(eth(0x86dd), ipv6(60, cat(longDo, l4))), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv6ExtHeader);

  // AH (length in 4-byte units, +2) is skipped.
  Bytes ah(16, 0);
  ah[0] = 6;
  ah[1] = 2;
  ASSERT_EQ(decodeAll(cat(eth(0x86dd), ipv6(51, cat(ah, l4))), v), DecodeStatus::Ok);
  EXPECT_EQ(v.ipProto, 6);
  EXPECT_EQ(v.l4Offset, 14 + 40 + 16);

  // ESP and No Next Header: no L4 header.
  ASSERT_EQ(decodeAll(cat(eth(0x86dd), ipv6(50, payload(32))), v), DecodeStatus::Ok);
  EXPECT_EQ(v.ipProto, 50);
  EXPECT_EQ(v.srcPort, 0);
  EXPECT_EQ(v.payloadLen, 32u);
  ASSERT_EQ(decodeAll(cat(eth(0x86dd), ipv6(60, extHeader(59))), v), DecodeStatus::Ok);
  EXPECT_EQ(v.ipProto, 59);
  EXPECT_EQ(v.payloadLen, 0u);
}

TEST(Decode, Ipv6LengthErrors) {
  PacketView v;
  Bytes f = cat(eth(0x86dd), ipv6(6, tcp(Tcp{}, {})));
  store16(&f[14 + 4], 0);  // jumbogram marker
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv6PayloadLength);
  store16(&f[14 + 4], 21);  // one byte past the frame
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpv6PayloadLength);
  f[14] = 0x40;
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadIpVersion);
}

TEST(Decode, Ipv6Fragments) {
  PacketView v;
  const Bytes l4 = tcp(Tcp{}, payload(20));  // 40 bytes
  // First fragment behind a destination-options header.
  Bytes f =
      cat(eth(0x86dd), ipv6(60, cat(cat(extHeader(44), fragHeader(6, 0, true, 0xdeadbeef)), l4)));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Fragment);
  EXPECT_TRUE(v.isFragment);
  EXPECT_TRUE(v.moreFragments);
  EXPECT_TRUE(v.l4HeaderComplete);
  EXPECT_EQ(v.fragId, 0xdeadbeefu);
  EXPECT_EQ(v.ipProto, 6);
  EXPECT_EQ(v.srcPort, 40000);
  EXPECT_EQ(v.fragHeaderOffset, 14 + 40 + 8);
  EXPECT_EQ(v.fragPrevNextOffset, 14 + 40);  // the destination-options header names it
  EXPECT_EQ(v.fragNextHeader, 6);
  EXPECT_EQ(v.payloadOffset, 14u + 40u + 16u);
  EXPECT_EQ(v.payloadLen, 40u);

  f = cat(eth(0x86dd), ipv6(44, cat(fragHeader(6, 48, false, 7), payload(9))));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Fragment);
  EXPECT_EQ(v.fragOffset, 48u);
  EXPECT_FALSE(v.moreFragments);
  EXPECT_EQ(v.fragPrevNextOffset, 14 + 6);
  EXPECT_EQ(v.srcPort, 0);
  EXPECT_EQ(v.payloadLen, 9u);

  // Atomic fragment: processed as a whole packet.
  f = cat(eth(0x86dd), ipv6(44, cat(fragHeader(6, 0, false, 9), l4)));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_FALSE(v.isFragment);
  EXPECT_EQ(v.ipProto, 6);
  EXPECT_EQ(v.payloadLen, 20u);

  // First fragment whose header chain does not fit in it (RFC 7112).
  Bytes bigDo = extHeader(6, 8);  // 72 bytes
  Bytes first = cat(fragHeader(60, 0, true, 1), Bytes(bigDo.begin(), bigDo.begin() + 16));
  EXPECT_EQ(decodeAll(cat(eth(0x86dd), ipv6(44, first)), v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadFragment);

  // Two fragment headers.
  f = cat(eth(0x86dd),
          ipv6(44, cat(cat(fragHeader(44, 0, true, 1), fragHeader(6, 0, true, 1)), l4)));
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadFragment);

  // Non-last fragment with a length that is not a multiple of 8.
  f = cat(eth(0x86dd), ipv6(44, cat(fragHeader(6, 8, true, 1), payload(12))));
  EXPECT_EQ(decodeAll(f, v), DecodeStatus::Malformed);
  EXPECT_EQ(v.dropReason, DropReason::BadFragment);
}

// The word-at-a-time ones'-complement sum equals the byte-pair one for every length, offset
// (alignment) and starting accumulator, so checksums verified with it mean what they did.
TEST(Checksum, WideSumEqualsBytePairSum) {
  std::vector<uint8_t> data(1700);
  uint32_t x = 12345;
  for (auto& b : data) b = uint8_t((x = x * 1103515245u + 12345u) >> 16);
  for (uint32_t offset = 0; offset < 8; ++offset) {
    for (uint32_t len = 0; len + offset <= data.size(); len += (len < 64 ? 1 : 37)) {
      for (uint32_t acc : {0u, 0xffffu, 0x1fffeu, 0x12345u}) {
        ASSERT_EQ(foldChecksum(sumWords(data.data() + offset, len, acc)),
                  foldChecksum(sumWordsBytewise(data.data() + offset, len, acc)))
            << "offset " << offset << " len " << len << " acc " << acc;
      }
    }
  }
  std::vector<uint8_t> ones(65535, 0xff);  // the largest datagram cannot overflow it
  EXPECT_EQ(foldChecksum(sumWords(ones.data(), 65535, 0)),
            foldChecksum(sumWordsBytewise(ones.data(), 65535, 0)));
}

TEST(Decode, L4ChecksumVerification) {
  V4 h;
  Bytes f = v4Tcp(Tcp{}, payload(33));
  fixL4Checksum(f);
  PacketView v;
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_TRUE(l4ChecksumValid(v));
  f.back() ^= 0x40;
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_FALSE(l4ChecksumValid(v));

  h.proto = 17;
  f = cat(eth(0x0800), ipv4(h, udp(1, 53, payload(7))));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_TRUE(l4ChecksumValid(v));  // zero checksum: none, allowed over IPv4
  fixL4Checksum(f);
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_TRUE(l4ChecksumValid(v));

  f = cat(eth(0x86dd), ipv6(17, udp(1, 53, payload(7))));
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_FALSE(l4ChecksumValid(v));  // zero checksum forbidden over IPv6
  fixL4Checksum(f);
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_TRUE(l4ChecksumValid(v));

  f = cat(eth(0x86dd), ipv6(6, tcp(Tcp{}, payload(64))));
  fixL4Checksum(f);
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_TRUE(l4ChecksumValid(v));
  f[f.size() - 10] ^= 1;
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_FALSE(l4ChecksumValid(v));

  h.proto = 1;
  f = cat(eth(0x0800), ipv4(h, icmp(8, 0, payload(5))));
  fixL4Checksum(f);
  ASSERT_EQ(decodeAll(f, v), DecodeStatus::Ok);
  EXPECT_TRUE(l4ChecksumValid(v));
}

// Every prefix of a valid frame must decode as Malformed: never Ok, never a read out of bounds
// (the copy is exactly as long as the prefix, so ASan sees any overread).
TEST(Decode, EveryTruncationIsMalformed) {
  V4 frag;
  frag.fragField = 0x2000;
  V4 opts;
  opts.options = {7, 7, 4, 0, 0, 0, 0, 1};
  Tcp withOpts;
  withOpts.options = {2, 4, 5, 0xb4};
  V4 u;
  u.proto = 17;
  V4 ic;
  ic.proto = 1;
  Bytes rh(24, 0);
  rh[0] = 6;
  rh[1] = 2;
  rh[2] = 4;
  Bytes ah(16, 0);
  ah[0] = 17;
  ah[1] = 2;
  const std::vector<Bytes> frames = {
      v4Tcp(withOpts, payload(9), opts),
      cat(eth(0x0800, {1, 2}), ipv4(u, udp(1, 53, payload(5)))),
      cat(eth(0x0800), ipv4(ic, icmp(3, 4, payload(28)))),
      cat(eth(0x0800, {9}), ipv4(frag, tcp(Tcp{}, payload(20)))),
      cat(eth(0x86dd),
          ipv6(0, cat(cat(extHeader(60), extHeader(43)), cat(rh, tcp(Tcp{}, payload(3)))))),
      cat(eth(0x86dd), ipv6(51, cat(ah, udp(5, 6, payload(2))))),
      cat(eth(0x86dd, {3, 4}), ipv6(44, cat(fragHeader(6, 0, true, 5), tcp(Tcp{}, payload(4))))),
      cat(eth(0x86dd), ipv6(58, icmp(128, 0, payload(4)))),
  };
  for (size_t k = 0; k < frames.size(); ++k) {
    PacketView v;
    const DecodeStatus full = decodeCopy(frames[k], frames[k].size(), v);
    ASSERT_NE(full, DecodeStatus::Malformed) << "frame " << k << " " << toString(v.dropReason);
    for (size_t len = 0; len < frames[k].size(); ++len) {
      const DecodeStatus s = decodeCopy(frames[k], len, v);
      EXPECT_EQ(s, DecodeStatus::Malformed) << "frame " << k << " len " << len;
      EXPECT_NE(v.dropReason, DropReason::None);
    }
  }
}

TEST(Decode, DropReasonNamesAreDistinct) {
  std::set<std::string> names;
  int n = 0;
#define LBG_COUNT_REASON(name, help)                                      \
  names.insert(toString(DropReason::name));                               \
  EXPECT_STRNE(toString(DropReason::name), "unknown");                    \
  EXPECT_GT(std::string(helpText(DropReason::name)).size(), 5u) << #name; \
  ++n;
  LBG_DECODE_DROP_REASONS(LBG_COUNT_REASON)
#undef LBG_COUNT_REASON
  EXPECT_EQ(names.size(), size_t(n));
}

}  // namespace
}  // namespace lbg::packet
