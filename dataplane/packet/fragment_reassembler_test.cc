#include "dataplane/packet/fragment_reassembler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <deque>

#include "dataplane/packet/test_frame.h"

namespace lbg::packet {
namespace {

using namespace testing;  // NOLINT: the frame builders

Bytes payload(size_t n, uint8_t seed = 3) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 13);
  return b;
}

// Splits an IP payload (L4 header and data) into IPv4 fragment frames of `chunk` data bytes.
std::vector<Bytes> fragmentV4(const Bytes& ipPayload, size_t chunk, V4 h = {},
                              const std::vector<uint16_t>& vlans = {}) {
  std::vector<Bytes> out;
  for (size_t off = 0; off < ipPayload.size(); off += chunk) {
    const size_t n = std::min(chunk, ipPayload.size() - off);
    const bool more = off + n < ipPayload.size();
    h.fragField = uint16_t((more ? 0x2000 : 0) | (off / 8));
    out.push_back(cat(eth(0x0800, vlans), ipv4(h, Bytes(ipPayload.begin() + long(off),
                                                        ipPayload.begin() + long(off + n)))));
  }
  return out;
}

// The same for IPv6, with an optional destination-options header in the unfragmentable part.
std::vector<Bytes> fragmentV6(const Bytes& upper, uint8_t proto, size_t chunk, uint32_t id,
                              bool withDestOpts = false) {
  std::vector<Bytes> out;
  for (size_t off = 0; off < upper.size(); off += chunk) {
    const size_t n = std::min(chunk, upper.size() - off);
    const bool more = off + n < upper.size();
    Bytes rest = cat(fragHeader(proto, uint32_t(off), more, id),
                     Bytes(upper.begin() + long(off), upper.begin() + long(off + n)));
    if (withDestOpts) rest = cat(extHeader(44), rest);
    out.push_back(cat(eth(0x86dd, {42}), ipv6(withDestOpts ? 60 : 44, rest)));
  }
  return out;
}

class Reassembly : public ::testing::Test {
 protected:
  void SetUp() override { make(ReassemblerConfig{}); }
  void make(const ReassemblerConfig& c) {
    auto r = FragmentReassembler::create(c);
    ASSERT_TRUE(r.ok()) << r.error().message;
    re_ = std::move(r.value());
  }
  // Frames must outlive the reassembler's hold on them: keep every one in a deque.
  ReassemblyResult add(const Bytes& frame, uint64_t handle, uint64_t now = 0) {
    frames_.push_back(frame);
    const Bytes& f = frames_.back();
    PacketView v;
    EXPECT_EQ(decode(f.data(), uint32_t(f.size()), v), DecodeStatus::Fragment);
    return re_->add(v, handle, now);
  }
  std::vector<uint64_t> expire(uint64_t now) {
    std::vector<uint64_t> out;
    re_->expire(now, [&](uint64_t h) { out.push_back(h); });
    return out;
  }

  std::unique_ptr<FragmentReassembler> re_;
  std::deque<Bytes> frames_;
};

std::vector<uint64_t> vec(std::span<const uint64_t> s) {
  return {s.begin(), s.end()};
}

TEST_F(Reassembly, Ipv4InOrder) {
  Tcp t;
  t.flags = 0x18;
  const Bytes data = payload(100);
  const auto frags = fragmentV4(tcp(t, data), 24);
  ASSERT_EQ(frags.size(), 5u);
  for (size_t i = 0; i + 1 < frags.size(); ++i) {
    EXPECT_EQ(add(frags[i], 100 + i).status, ReassemblyStatus::Held);
  }
  const auto r = add(frags.back(), 104);
  ASSERT_EQ(r.status, ReassemblyStatus::Complete);
  EXPECT_EQ(vec(r.handles), (std::vector<uint64_t>{100, 101, 102, 103, 104}));
  EXPECT_FALSE(r.view.isFragment);
  EXPECT_EQ(r.view.ipVersion, 4);
  EXPECT_EQ(r.view.srcPort, 40000);
  EXPECT_EQ(r.view.dstPort, 443);
  EXPECT_EQ(r.view.tcpFlags, 0x18);
  ASSERT_EQ(r.view.payloadLen, 100u);
  EXPECT_EQ(0, std::memcmp(r.view.frame + r.view.payloadOffset, data.data(), 100));
  // The rebuilt header says "not a fragment" and carries the whole length.
  const uint8_t* ip = r.view.frame + r.view.l3Offset;
  EXPECT_EQ(load16(ip + 2), 20 + 120);
  EXPECT_EQ(load16(ip + 6) & 0x3fff, 0);
  EXPECT_EQ(re_->pending(), 0u);
  EXPECT_EQ(re_->counters().completed, 1u);
}

TEST_F(Reassembly, Ipv4ReverseOrderWithVlansAndDf) {
  V4 h;
  h.proto = 17;
  const Bytes data = payload(61);
  auto frags = fragmentV4(udp(5000, 53, data), 16, h, {100, 200});
  std::reverse(frags.begin(), frags.end());
  ReassemblyResult r{};
  for (size_t i = 0; i < frags.size(); ++i) r = add(frags[i], i);
  ASSERT_EQ(r.status, ReassemblyStatus::Complete);
  EXPECT_EQ(r.handles.size(), frags.size());
  EXPECT_EQ(r.handles[0], 0u);  // arrival order
  EXPECT_EQ(r.view.vlanCount, 2);
  EXPECT_EQ(r.view.vlanTci[1], 200);
  EXPECT_EQ(r.view.dstPort, 53);
  ASSERT_EQ(r.view.payloadLen, 61u);
  EXPECT_EQ(0, std::memcmp(r.view.frame + r.view.payloadOffset, data.data(), 61));
}

TEST_F(Reassembly, OverlapRejectsWholeDatagramAndLaterFragments) {
  const auto frags = fragmentV4(tcp(Tcp{}, payload(60)), 24);  // [0,24) … [72,80)
  EXPECT_EQ(add(frags[0], 1).status, ReassemblyStatus::Held);
  // A fragment at offset 16 rewriting bytes 16..39.
  V4 h;
  h.fragField = 0x2000 | 2;
  const auto r = add(cat(eth(0x0800), ipv4(h, payload(24, 99))), 2);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::Overlap);
  EXPECT_EQ(vec(r.handles), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(re_->counters().overlaps, 1u);
  // The rest of that datagram is refused, one by one, until its timeout.
  const auto late = add(frags[1], 3);
  ASSERT_EQ(late.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(late.reason, RejectReason::Late);
  EXPECT_EQ(vec(late.handles), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(expire(ReassemblerConfig{}.timeoutNs).empty());  // nothing left to hand back
  EXPECT_EQ(re_->pending(), 0u);
  // After the timeout the same id may start afresh.
  for (size_t i = 0; i + 1 < frags.size(); ++i)
    add(frags[i], 10 + i, ReassemblerConfig{}.timeoutNs);
  EXPECT_EQ(add(frags.back(), 19, ReassemblerConfig{}.timeoutNs).status,
            ReassemblyStatus::Complete);
}

TEST_F(Reassembly, IdenticalDuplicateIsAnOverlapToo) {
  const auto frags = fragmentV4(tcp(Tcp{}, payload(60)), 24);
  add(frags[1], 1);
  const auto r = add(frags[1], 2);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::Overlap);
  EXPECT_EQ(vec(r.handles), (std::vector<uint64_t>{1, 2}));
}

TEST_F(Reassembly, TinyFirstFragment) {
  const Bytes seg = tcp(Tcp{}, payload(40));
  add(fragmentV4(seg, 8)[1], 1);  // [8,16) arrives first
  V4 h;
  h.fragField = 0x2000;
  const auto r = add(cat(eth(0x0800), ipv4(h, Bytes(seg.begin(), seg.begin() + 8))), 2);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::TinyFirst);
  EXPECT_EQ(vec(r.handles), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(re_->counters().tiny_first, 1u);
}

TEST_F(Reassembly, InconsistentEnds) {
  const auto frags = fragmentV4(tcp(Tcp{}, payload(60)), 24);
  add(frags[3], 1);  // the last: ends at 80
  V4 h;
  h.fragField = 4;  // another "last" fragment ending at 40
  auto r = add(cat(eth(0x0800), ipv4(h, payload(8))), 2);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::Inconsistent);

  V4 h2;
  h2.id = 77;
  auto f2 = fragmentV4(tcp(Tcp{}, payload(60)), 24, h2);
  add(f2[3], 3);               // the last: ends at 80
  h2.fragField = 0x2000 | 10;  // MF fragment at [80, 88): past the end
  r = add(cat(eth(0x0800), ipv4(h2, payload(8))), 4);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::Inconsistent);
  EXPECT_EQ(re_->counters().inconsistent, 2u);
}

TEST_F(Reassembly, Timeout) {
  const auto frags = fragmentV4(tcp(Tcp{}, payload(60)), 24);
  add(frags[0], 7, 1000);
  add(frags[1], 8, 1500);
  const uint64_t t = ReassemblerConfig{}.timeoutNs;
  EXPECT_TRUE(expire(1000 + t - 1).empty());
  EXPECT_EQ(expire(1000 + t), (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(re_->counters().timeouts, 1u);
  EXPECT_EQ(re_->pending(), 0u);
  // The missing last fragment now starts a new, incomplete datagram.
  EXPECT_EQ(add(frags[2], 9, 1000 + t).status, ReassemblyStatus::Held);
}

TEST_F(Reassembly, TableFullEvictsOldest) {
  ReassemblerConfig c;
  c.maxDatagrams = 2;
  make(c);
  for (uint16_t id = 1; id <= 3; ++id) {
    V4 h;
    h.id = id;
    EXPECT_EQ(add(fragmentV4(tcp(Tcp{}, payload(60)), 24, h)[0], id, id).status,
              ReassemblyStatus::Held);
  }
  EXPECT_EQ(re_->pending(), 2u);
  EXPECT_EQ(re_->counters().evictions, 1u);
  EXPECT_EQ(expire(10), (std::vector<uint64_t>{1}));  // evicted handles come back first
  // Datagram 3 still completes.
  V4 h;
  h.id = 3;
  const auto frags = fragmentV4(tcp(Tcp{}, payload(60)), 24, h);
  ASSERT_EQ(frags.size(), 4u);
  add(frags[1], 31, 11);
  add(frags[2], 32, 11);
  EXPECT_EQ(add(frags[3], 33, 12).status, ReassemblyStatus::Complete);
}

TEST_F(Reassembly, TooManyFragmentsAndTooBig) {
  ReassemblerConfig c;
  c.maxFragmentsPerDatagram = 4;
  c.maxDatagramBytes = 200;
  make(c);
  const auto frags = fragmentV4(tcp(Tcp{}, payload(100)), 24);  // 5 fragments
  for (int i = 0; i < 4; ++i) EXPECT_EQ(add(frags[i], i).status, ReassemblyStatus::Held);
  auto r = add(frags[4], 4);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::TooManyFragments);
  EXPECT_EQ(r.handles.size(), 5u);

  V4 h;
  h.id = 5;
  h.fragField = 25;  // last fragment at offset 200
  r = add(cat(eth(0x0800), ipv4(h, payload(8))), 9);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::TooBig);
  EXPECT_EQ(re_->counters().too_big, 1u);
  EXPECT_EQ(re_->counters().too_many_fragments, 1u);
}

TEST_F(Reassembly, DifferentVlansAreDifferentDatagrams) {
  V4 h;
  const auto a = fragmentV4(tcp(Tcp{}, payload(40)), 32, h, {10});
  const auto b = fragmentV4(tcp(Tcp{}, payload(40)), 32, h, {11});
  EXPECT_EQ(add(a[0], 1).status, ReassemblyStatus::Held);
  EXPECT_EQ(add(b[1], 2).status, ReassemblyStatus::Held);
  EXPECT_EQ(re_->pending(), 2u);
  EXPECT_EQ(add(a[1], 3).status, ReassemblyStatus::Complete);
}

TEST_F(Reassembly, Ipv6WithUnfragmentableHeaders) {
  Tcp t;
  t.dport = 8443;
  const Bytes data = payload(150);
  auto frags = fragmentV6(tcp(t, data), 6, 48, 0xabcdef01, true);
  ASSERT_EQ(frags.size(), 4u);
  std::swap(frags[0], frags[2]);
  ReassemblyResult r{};
  for (size_t i = 0; i < frags.size(); ++i) r = add(frags[i], i);
  ASSERT_EQ(r.status, ReassemblyStatus::Complete);
  EXPECT_EQ(r.view.ipVersion, 6);
  EXPECT_EQ(r.view.ipProto, 6);
  EXPECT_EQ(r.view.dstPort, 8443);
  EXPECT_EQ(r.view.vlanCount, 1);
  ASSERT_EQ(r.view.payloadLen, 150u);
  EXPECT_EQ(0, std::memcmp(r.view.frame + r.view.payloadOffset, data.data(), 150));
  // The destination-options header now names TCP, and the Fragment header is gone.
  EXPECT_EQ(r.view.frame[r.view.l3Offset + 6], 60);
  EXPECT_EQ(r.view.frame[r.view.l3Offset + 40], 6);
  EXPECT_EQ(r.view.l4Offset, r.view.l3Offset + 48);
  EXPECT_EQ(load16(r.view.frame + r.view.l3Offset + 4), 8 + 170);
}

TEST_F(Reassembly, Ipv6OverlapRejected) {
  const auto frags = fragmentV6(tcp(Tcp{}, payload(60)), 6, 32, 5);
  add(frags[0], 1);
  Bytes evil = cat(eth(0x86dd, {42}), ipv6(44, cat(fragHeader(6, 24, false, 5), payload(56))));
  const auto r = add(evil, 2);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::Overlap);
}

TEST_F(Reassembly, ReassembledGarbageIsRejected) {
  // The UDP length claims more than the whole datagram holds: only visible after reassembly.
  Bytes dgram = udp(1000, 53, payload(40));
  store16(&dgram[4], 200);
  V4 h;
  h.proto = 17;
  const auto frags = fragmentV4(dgram, 24, h);
  ReassemblyResult r{};
  for (size_t i = 0; i < frags.size(); ++i) r = add(frags[i], i);
  ASSERT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::MalformedResult);
  EXPECT_EQ(vec(r.handles), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(re_->counters().malformed_result, 1u);
}

TEST_F(Reassembly, NotAFragment) {
  const Bytes f = cat(eth(0x0800), ipv4(V4{}, tcp(Tcp{}, {})));
  PacketView v;
  ASSERT_EQ(decode(f.data(), uint32_t(f.size()), v), DecodeStatus::Ok);
  const auto r = re_->add(v, 5, 0);
  EXPECT_EQ(r.status, ReassemblyStatus::Rejected);
  EXPECT_EQ(r.reason, RejectReason::NotFragment);
  EXPECT_EQ(vec(r.handles), (std::vector<uint64_t>{5}));
}

TEST(ReassemblerConfigTest, Validated) {
  ReassemblerConfig c;
  c.maxDatagrams = 0;
  EXPECT_FALSE(FragmentReassembler::create(c).ok());
  c = {};
  c.maxFragmentsPerDatagram = 0;
  EXPECT_FALSE(FragmentReassembler::create(c).ok());
  c = {};
  c.timeoutNs = 0;
  EXPECT_FALSE(FragmentReassembler::create(c).ok());
  c = {};
  c.maxDatagramBytes = 70000;
  EXPECT_FALSE(FragmentReassembler::create(c).ok());
}

}  // namespace
}  // namespace lbg::packet
