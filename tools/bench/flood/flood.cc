// tools/bench/flood: the guard under attack, on one worker core.
//
// Allowed traffic: established TLS flows to Microsoft 365 (set up and judged first), their bulk
// packets in both directions. Flood, interleaved with it at 1x, 3x and 10x the allowed packets:
// spoofed SYNs from outside (random sources, to inside hosts), a new-flow storm from one inside
// host (SYNs to an allowed service, every one a new source port) and a UDP flood from another
// inside host to one destination. All frames are pre-built mbufs handed out by reference count
// (tools/bench/README.md). Time is the wall clock, so the guard's buckets see the real rates.
// One line per flood level; the last one (10x):
//   flood: allowed goodput <P>% at <R> Mpps flood, table <T>% full, log <L> records/s
// P = allowed packets forwarded / allowed packets offered, relative to the same loop without flood; T = flow table occupancy at the end;
// L = log events the worker produced per second during the run.
//
// Usage: flood [--flows N] [--seconds S]

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dataplane/core/eal.h"
#include "dataplane/core/mbuf_pool.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/test_frames.h"
#include "policy/parser.h"
#include "tools/bench/common/null_port.h"

using namespace lbg;
using lbg::testing::Bytes;
using lbg::testing::L4Spec;
using lbg::bench::nowNs;

namespace {

constexpr const char* kPolicy = R"(version: 1
segment: {inside: [10.0.0.0/8]}
defaults: {deny: drop, quic: block, ech: block, sni_dns: "off"}
services:
  - name: microsoft365
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2099-12-31}
    fqdn: [outlook.office365.com]
    ports: [tcp/443]
)";

constexpr uint16_t kAllowedMark = 1, kFloodMark = 2;  // in mbuf->port: who sent it

struct Frame {
  Bytes bytes;
  bool fromInside;
};

// Counts what leaves by mark and frees it (a reference drop for the pre-built frames).
class CountingSink : public dataplane::TxSink {
 public:
  void send(dataplane::PortRole, rte_mbuf* m) override {
    if (m->port == kAllowedMark) ++allowed;
    rte_pktmbuf_free(m);
  }
  uint64_t allowed = 0;
};

// Pre-built frames handed out again with one more reference each.
struct RefFrames {
  std::vector<rte_mbuf*> m;
  std::vector<bool> inside;
  size_t next = 0;
  bool add(const Frame& f, rte_mempool* pool, uint16_t mark) {
    rte_mbuf* b = rte_pktmbuf_alloc(pool);
    if (b == nullptr) return false;
    std::memcpy(rte_pktmbuf_append(b, uint16_t(f.bytes.size())), f.bytes.data(), f.bytes.size());
    b->port = mark;
    m.push_back(b);
    inside.push_back(f.fromInside);
    return true;
  }
  rte_mbuf* take(bool& fromInside) {
    rte_mbuf* b = m[next];
    fromInside = inside[next];
    rte_mbuf_refcnt_update(b, 1);
    if (++next == m.size()) next = 0;
    return b;
  }
};

}  // namespace

int main(int argc, char** argv) {
  uint32_t flows = 16384;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--flows") flows = uint32_t(std::stoul(argv[i + 1]));
    if (std::string(argv[i]) == "--seconds") seconds = std::stod(argv[i + 1]);
  }
  std::mt19937 rng(4242);
  std::uniform_int_distribution<int> size(0, 1446);
  std::vector<Frame> setup, allowed, flood;
  for (uint32_t i = 0; i < flows; ++i) {
    L4Spec c;
    c.src = IpAddr::fromV4(0x0a000000u | (i & 0xffffff));
    c.dst = IpAddr::fromV4(0x34600000u | (i % 4096));
    c.sport = uint16_t(10000 + (i % 50000));
    c.dport = 443;
    L4Spec s = c;
    std::swap(s.src, s.dst);
    std::swap(s.sport, s.dport);
    c.flags = 0x02, c.seq = 100;
    setup.push_back({testing::frame(c, {}), true});
    s.flags = 0x12, s.seq = 9000, s.ack = 101;
    setup.push_back({testing::frame(s, {}), false});
    c.flags = 0x10, c.seq = 101, c.ack = 9001;
    setup.push_back({testing::frame(c, {}), true});
    const Bytes hello = testing::clientHello({.names = {"outlook.office365.com"}});
    c.flags = 0x18;
    setup.push_back({testing::frame(c, hello), true});
    uint32_t cseq = 101 + uint32_t(hello.size()), sseq = 9001;
    s.flags = 0x10, s.seq = sseq, s.ack = cseq;
    setup.push_back({testing::frame(s, {}), false});
    for (int k = 0; k < 4; ++k) {
      const bool down = k != 0;
      const int payload = size(rng);
      L4Spec& d = down ? s : c;
      d.flags = 0x18;
      d.seq = down ? sseq : cseq;
      d.ack = down ? cseq : sseq;
      (down ? sseq : cseq) += uint32_t(payload);
      allowed.push_back({testing::frame(d, Bytes(size_t(payload), 0x5a)), !down});
    }
  }
  std::shuffle(allowed.begin(), allowed.end(), rng);
  // The flood: a third each of spoofed outside SYNs, an inside host's SYN storm, a UDP flood.
  for (uint32_t i = 0; i < 3 * 65536; ++i) {
    L4Spec f;
    const int kind = int(i % 3);
    if (kind == 0) {
      f.src = IpAddr::fromV4(0xc6120000u + uint32_t(rng() % 0x1fffe) + 1);  // 198.18/15
      f.dst = IpAddr::fromV4(0x0a000000u | (rng() & 0xffff));
      f.sport = uint16_t(1024 + rng() % 60000);
      f.dport = 80;
      f.flags = 0x02;
      flood.push_back({testing::frame(f, {}), false});
    } else if (kind == 1) {
      f.src = *IpAddr::parse("10.99.0.66");
      f.dst = IpAddr::fromV4(0x34600000u | (i % 4096));
      f.sport = uint16_t(1024 + (i / 3) % 60000);
      f.dport = 443;
      f.flags = 0x02;
      flood.push_back({testing::frame(f, {}), true});
    } else {
      f.src = *IpAddr::parse("10.99.0.77");
      f.dst = *IpAddr::parse("203.0.113.9");
      f.proto = 17;
      f.sport = uint16_t(1024 + (i / 3) % 60000);
      f.dport = 9999;
      flood.push_back({testing::frame(f, Bytes(64, 'f')), true});
    }
  }

  auto eal = dataplane::offlineEalArgs();
  if (auto ok = dataplane::initEal(eal); !ok) {
    std::fprintf(stderr, "flood: %s\n", ok.error().toString().c_str());
    return 1;
  }
  const uint32_t mbufs = uint32_t(setup.size() + allowed.size() + flood.size()) + 65536;
  auto packetPool = dataplane::PacketPool::create("flood_pool", mbufs, 512,
                                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!packetPool) {
    std::fprintf(stderr, "flood: %s\n", packetPool.error().toString().c_str());
    return 1;
  }
  rte_mempool* pool = packetPool.value()->get();
  auto doc = policy::parsePolicyText(
      kPolicy, "bench.yaml",
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  if (!doc) {
    std::fprintf(stderr, "flood: %s\n", doc.error().toString().c_str());
    return 1;
  }
  auto snap = policy::Snapshot::create(std::move(doc.value()), 1);
  dataplane::SnapshotSlot slot(snap.value());
  slot.setWorkerCount(1);
  auto dns = inspect::DnsBindingTable::create(1u << 16);
  dataplane::PipelineConfig pc;
  pc.flowCapacity = 1u << 16;
  while (pc.flowCapacity < flows * 2) pc.flowCapacity <<= 1;
  // Every flow has its own client address: the guard must track them all (its default of 16384
  // sources would refuse the rest, fail closed).
  pc.guardSources = flows * 2;
  auto pipeline = dataplane::Pipeline::create(pc, 0, slot, *dns.value(), pool);
  if (!pipeline) {
    std::fprintf(stderr, "flood: %s\n", pipeline.error().toString().c_str());
    return 1;
  }
  dataplane::Pipeline& p = *pipeline.value();
  CountingSink sink;
  uint64_t records = 0;
  auto drainEvents = [&] {
    telemetry::Event ev;
    while (p.events().tryPop(ev)) ++records;
  };
  for (const Frame& f : setup) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return 1;
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.bytes.size())), f.bytes.data(), f.bytes.size());
    p.processBurst(&m, 1,
                   f.fromInside ? dataplane::Ingress::InsidePort : dataplane::Ingress::OutsidePort,
                   nowNs(), sink);
  }
  drainEvents();
  RefFrames good, bad;
  for (const Frame& f : allowed)
    if (!good.add(f, pool, kAllowedMark)) return 1;
  for (const Frame& f : flood)
    if (!bad.add(f, pool, kFloodMark)) return 1;
  // Past application identification first, as in the fast-path benchmark.
  for (uint64_t n = 0; n < 5 * allowed.size();) {
    rte_mbuf* b[32];
    bool in[32];
    for (int i = 0; i < 32; ++i) b[i] = good.take(in[i]);
    for (int i = 0; i < 32; ++i)
      p.processBurst(&b[i], 1, in[i] ? dataplane::Ingress::InsidePort : dataplane::Ingress::OutsidePort,
                     nowNs(), sink);
    n += 32;
    p.housekeeping(nowNs());
    drainEvents();
  }
  std::fprintf(stderr, "flood: %u flows set up, %u in table\n", flows, p.flowTable().size());

  double baseline = 1.0;  // the fraction forwarded without a flood (the mix loops its frames)
  for (int ratio : {0, 1, 3, 10}) {
    uint64_t offered = 0, floodSent = 0;
    sink.allowed = 0;
    records = 0;
    const uint64_t budget = uint64_t(seconds * double(rte_get_tsc_hz()));
    const uint64_t start = rte_get_tsc_cycles();
    while (rte_get_tsc_cycles() - start < budget) {
      // One allowed packet, then `ratio` flood packets, in bursts grouped by ingress port.
      for (int round = 0; round < 8; ++round) {
        rte_mbuf* b[1 + 10];
        bool in[1 + 10];
        int n = 0;
        b[n] = good.take(in[n]);
        ++n;
        for (int k = 0; k < ratio; ++k, ++n) b[n] = bad.take(in[n]);
        offered += 1;
        floodSent += uint64_t(ratio);
        const uint64_t t = nowNs();
        for (int i = 0; i < n; ++i)
          p.processBurst(&b[i], 1,
                         in[i] ? dataplane::Ingress::InsidePort : dataplane::Ingress::OutsidePort, t,
                         sink);
      }
      p.housekeeping(nowNs());
      drainEvents();
    }
    const double secs = double(rte_get_tsc_cycles() - start) / double(rte_get_tsc_hz());
    const double fraction = double(sink.allowed) / double(offered);
    if (ratio == 0) {
      baseline = fraction > 0 ? fraction : 1.0;
      std::fprintf(stderr, "flood: without flood %.2f%% of the allowed mix forwarded, %.0f records/s\n",
                   100.0 * fraction, double(records) / secs);
      continue;
    }
    std::printf("flood: allowed goodput %.2f%% at %.2f Mpps flood, table %.1f%% full, log %.0f "
                "records/s\n",
                100.0 * fraction / baseline, double(floodSent) / secs / 1e6,
                100.0 * double(p.flowTable().size()) / double(p.flowTable().capacity()),
                double(records) / secs);
    std::fflush(stdout);
  }
  const auto& k = p.counters();
  std::fprintf(stderr,
               "flood: guard_outside_dropped %llu, guard_rate_limited %llu, guard_udp_flood_dropped "
               "%llu, guard_deny_summaries %llu, flows_evicted %llu\n",
               (unsigned long long)k.guard_outside_dropped, (unsigned long long)k.guard_rate_limited,
               (unsigned long long)k.guard_udp_flood_dropped,
               (unsigned long long)k.guard_deny_summaries, (unsigned long long)k.flows_evicted);
  return 0;
}
