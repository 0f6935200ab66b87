// libFuzzer target: the decoder and the fragment reassembler fed with a sequence of frames.
//
// Input: records of [len lo][len hi][control][len bytes of frame]. Control bit 0 asks the harness
// to fix the IPv4 header checksum (so that mutations reach the layers behind it); bits 1–7 advance
// the clock. Invariants checked: every handle given to the reassembler comes back exactly once;
// completed datagrams decode to views that lie inside their frame. ICMP errors' quotes are parsed
// too (parseIcmpErrorQuote reads the quoted headers inside the payload).

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/packet/byte_order.h"
#include "dataplane/packet/fragment_reassembler.h"
#include "dataplane/packet/icmp_quote.h"
#include "dataplane/packet/packet_view.h"

namespace {

using lbg::packet::DecodeStatus;
using lbg::packet::PacketView;

void check(bool ok) {
  if (!ok) std::abort();
}

void checkView(const PacketView& v) {
  check(v.payloadOffset <= v.frameLen);
  check(v.payloadLen <= v.frameLen - v.payloadOffset);
  check(v.l3Offset <= v.frameLen && v.l4Offset <= v.frameLen);
  // Touch every payload byte so that ASan checks the range.
  uint8_t sum = 0;
  for (uint32_t i = 0; i < v.payloadLen; ++i) sum = uint8_t(sum ^ v.frame[v.payloadOffset + i]);
  const volatile uint8_t sink = sum;
  (void)sink;
}

void fixIpv4Checksum(uint8_t* f, size_t n) {
  size_t off = 12;
  while (off + 2 <= n) {
    const uint16_t t = lbg::packet::load16(f + off);
    if (t == 0x8100 || t == 0x88a8 || t == 0x9100) {
      off += 4;
      continue;
    }
    if (t != 0x0800) return;
    off += 2;
    break;
  }
  if (off + 20 > n) return;
  const size_t ihl = size_t(f[off] & 0x0f) * 4;
  if (ihl < 20 || off + ihl > n) return;
  f[off + 10] = f[off + 11] = 0;
  lbg::packet::store16(f + off + 10,
                       lbg::packet::foldChecksum(lbg::packet::sumWords(f + off, uint32_t(ihl), 0)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<lbg::packet::FragmentReassembler> re = [] {
    lbg::packet::ReassemblerConfig c;
    c.maxDatagrams = 8;  // small, so that eviction paths run
    c.maxFragmentsPerDatagram = 6;
    c.timeoutNs = 1000;
    return std::move(lbg::packet::FragmentReassembler::create(c).value());
  }();

  // Each frame gets its own exactly-sized allocation, alive until its handle comes back.
  std::unordered_map<uint64_t, std::unique_ptr<uint8_t[]>> held;
  auto release = [&](uint64_t h) {
    check(held.erase(h) == 1);  // returned exactly once
  };

  uint64_t now = 0, next = 1;
  size_t pos = 0;
  while (size - pos >= 3) {
    size_t len = size_t(data[pos]) | size_t(data[pos + 1]) << 8;
    const uint8_t control = data[pos + 2];
    pos += 3;
    len = len > size - pos ? size - pos : len;
    std::unique_ptr<uint8_t[]> frame(new uint8_t[len ? len : 1]);
    if (len) std::memcpy(frame.get(), data + pos, len);
    pos += len;
    if (control & 1) fixIpv4Checksum(frame.get(), len);
    now += control >> 1;

    PacketView v;
    const DecodeStatus s = lbg::packet::decode(frame.get(), uint32_t(len), v);
    if (s == DecodeStatus::Ok || s == DecodeStatus::Fragment) checkView(v);
    if (s == DecodeStatus::Ok) {
      (void)lbg::packet::l4ChecksumValid(v);
      lbg::packet::IcmpQuote q;
      if (lbg::packet::parseIcmpErrorQuote(v, q)) check(q.srcPort != 0 && q.dstPort != 0);
    }
    if (s != DecodeStatus::Fragment) continue;

    const uint64_t h = next++;
    held.emplace(h, std::move(frame));
    const auto r = re->add(v, h, now);
    if (r.status == lbg::packet::ReassemblyStatus::Complete) {
      check(r.view.frameLen > 0);
      checkView(r.view);
      check(!r.view.isFragment);
      (void)lbg::packet::l4ChecksumValid(r.view);
    }
    if (r.status != lbg::packet::ReassemblyStatus::Held) {
      check(!r.handles.empty());
      for (uint64_t x : r.handles) release(x);
    }
    if (control & 0x80) re->expire(now, release);
  }
  re->expire(UINT64_MAX, release);
  check(held.empty());
  check(re->pending() == 0);
  return 0;
}
