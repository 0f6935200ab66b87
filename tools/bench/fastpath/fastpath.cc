// tools/bench/fastpath: the pipeline on one worker core, from an in-memory source into net_null.
//
// Generates a realistic mix — TLS flows to Microsoft 365 names (allowed) and to forbidden names
// (denied), DNS answers from the resolver, bulk transfers in both directions with frame sizes from
// 64 to 1500 bytes — over at least 100,000 concurrent flows. A set-up pass gives every flow its
// verdict and a warm-up takes it past application identification; the measured loop then receives
// the established-flow mix as pre-built mbufs handed out by reference count (no copy: a NIC writes
// frames by DMA, so copying each frame on the CPU, as the pcap vdev does, would charge the
// ceiling for work no driver does) and sends to net_null, which frees them (a reference drop).
// The same loop with the pipeline bypassed gives the raw I/O ceiling; the two alternate in slices
// of one run because these machines are noisy. Last line:
//   fastpath: <X> Mpps, ceiling <Y> Mpps, ratio <X/Y>, <C> ns/packet pipeline, <B> bytes/flow
// with C = 1/X - 1/Y: the pipeline's own cost per established packet.
//
// Usage: fastpath [--flows N] [--seconds S]

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
using lbg::bench::NullPortSink;
using lbg::bench::nowNs;
using lbg::bench::startPort;

namespace {

constexpr const char* kPolicy = R"(version: 1
segment: {inside: [10.0.0.0/8]}
defaults: {deny: drop, quic: block, ech: block, sni_dns: "off"}
services:
  - name: microsoft365
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2099-12-31}
    fqdn: [outlook.office365.com, outlook.office.com, teams.microsoft.com, "*.sharepoint.com",
           login.microsoftonline.com, "*.teams.microsoft.com", graph.microsoft.com]
    ports: [tcp/443]
  - name: resolver
    kind: infrastructure
    cidr: [192.0.2.53/32]
    ports: [udp/53]
)";

const char* kAllowed[] = {"outlook.office365.com", "contoso.sharepoint.com",
                          "teams.microsoft.com",   "login.microsoftonline.com",
                          "graph.microsoft.com",   "eu.teams.microsoft.com"};
const char* kForbidden[] = {"www.example.org", "drive.google.com", "evil-sharepoint.com",
                            "dropbox.com"};

struct Frame {
  Bytes bytes;
  bool fromInside;
};

struct Traffic {
  std::vector<Frame> setup;        // handshakes and first payloads, flow by flow
  std::vector<Frame> established;  // the measured mix, flows interleaved
};

Traffic generate(uint32_t flows, std::mt19937& rng) {
  Traffic t;
  std::uniform_int_distribution<int> size(0, 1446);
  const IpAddr resolver = *IpAddr::parse("192.0.2.53");
  for (uint32_t i = 0; i < flows; ++i) {
    L4Spec c;
    c.src = IpAddr::fromV4(0x0a000000u | (i & 0xffffff));  // 10.x.y.z
    c.dst = IpAddr::fromV4(0x34600000u | (i % 4096));      // 52.96.x.y
    c.sport = uint16_t(10000 + (i % 50000));
    L4Spec s = c;
    std::swap(s.src, s.dst);
    const bool dnsFlow = i % 20 == 19;
    if (dnsFlow) {
      // DNS: a query and answers from the resolver (allowed by CIDR). The first answer to the
      // query binds; the loop's later copies are duplicates (or, after the query's timeout,
      // unsolicited) and are dropped: the same question parse and table probe either way.
      c.proto = s.proto = 17;
      c.dst = resolver;
      s.src = resolver;
      c.dport = s.sport = 53;
      s.dport = c.sport;
      const std::string name = "host" + std::to_string(i) + ".sharepoint.com";
      t.setup.push_back({testing::frame(c, testing::dnsQuery(name)), true});
      const Bytes answer =
          testing::dnsResponse(name, {"edge.sharepoint.com"}, {IpAddr::fromV4(0x34600000u | (i % 4096))});
      for (int k = 0; k < 2; ++k) t.established.push_back({testing::frame(s, answer), false});
      continue;
    }
    c.dport = 443;
    s.sport = 443;
    s.dport = c.sport;
    const bool allowed = i % 5 != 0;  // 80% to Microsoft 365, 20% to forbidden names
    c.flags = 0x02;
    c.seq = 100;
    t.setup.push_back({testing::frame(c, {}), true});
    s.flags = 0x12;
    s.seq = 9000;
    s.ack = 101;
    t.setup.push_back({testing::frame(s, {}), false});
    c.flags = 0x10;
    c.seq = 101;
    c.ack = 9001;
    t.setup.push_back({testing::frame(c, {}), true});
    const Bytes hello =
        testing::clientHello({.names = {allowed ? kAllowed[i % std::size(kAllowed)]
                                                : kForbidden[i % std::size(kForbidden)]}});
    c.flags = 0x18;
    t.setup.push_back({testing::frame(c, hello), true});
    // The server acknowledges the hello, as its ServerHello would: the stream guard gives the
    // flow's ring back (dataplane/flow/tcp_normalizer.h).
    uint32_t cseq = 101 + uint32_t(hello.size()), sseq = 9001;
    s.flags = 0x10;
    s.seq = sseq;
    s.ack = cseq;
    t.setup.push_back({testing::frame(s, {}), false});
    // Bulk transfer after the verdict: mostly server → client, frames of 64 to 1500 bytes. The
    // client's segment comes first, so that the server's acknowledge it (a ring is held only
    // while client bytes are unacknowledged).
    for (int k = 0; k < 4; ++k) {
      const bool down = k != 0;
      int payload = size(rng);
      if (!down && payload < 5) payload = 5;  // a record header at least (below)
      L4Spec& d = down ? s : c;
      d.flags = 0x18;
      d.seq = down ? sseq : cseq;
      d.ack = down ? cseq : sseq;
      (down ? sseq : cseq) += uint32_t(payload);
      Bytes data(size_t(payload), 0x5a);
      if (!down) {
        // An application_data record: the TLS follower (dataplane/core/tls_follow.cc) ends at
        // it, so that the measured packets take the established path like real TLS traffic.
        const Bytes header = {0x17, 0x03, 0x03, uint8_t((payload - 5) >> 8), uint8_t(payload - 5)};
        std::copy(header.begin(), header.end(), data.begin());
      }
      t.established.push_back({testing::frame(d, data), !down});
    }
  }
  std::shuffle(t.established.begin(), t.established.end(), rng);
  return t;
}

// The measured mix per port as mbufs built once: the loop hands each out again with one more
// reference, as a driver hands out the mbuf its NIC filled. The pipeline leaves established
// frames as they are (a TTL below the floor would be raised once, and stays raised).
class RefSource {
 public:
  bool build(const std::vector<Frame>& frames, bool fromInside, rte_mempool* pool) {
    for (const Frame& f : frames) {
      if (f.fromInside != fromInside) continue;
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      if (m == nullptr) return false;
      std::memcpy(rte_pktmbuf_append(m, uint16_t(f.bytes.size())), f.bytes.data(), f.bytes.size());
      mbufs_.push_back(m);
    }
    return true;
  }
  uint16_t rxBurst(rte_mbuf** out, uint16_t max) {
    if (mbufs_.empty()) return 0;
    for (uint16_t i = 0; i < max; ++i) {
      rte_mbuf* m = mbufs_[next_];
      rte_mbuf_refcnt_update(m, 1);
      out[i] = m;
      if (++next_ == mbufs_.size()) next_ = 0;
    }
    return max;
  }

 private:
  std::vector<rte_mbuf*> mbufs_;
  size_t next_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  uint32_t flows = 131072;
  double seconds = 3.0;
  // perf's control FIFO (`perf record -D -1 --control fifo:FIFO`): the profile covers only the
  // timed pipeline slices, not the set-up (page faults of the tables) or the ceiling.
  std::FILE* perfCtl = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--flows") flows = uint32_t(std::stoul(argv[i + 1]));
    if (std::string(argv[i]) == "--seconds") seconds = std::stod(argv[i + 1]);
    if (std::string(argv[i]) == "--perf-ctl") perfCtl = std::fopen(argv[i + 1], "w");
  }
  auto perf = [&](const char* cmd) {
    if (perfCtl) std::fputs(cmd, perfCtl), std::fflush(perfCtl);
  };
  std::mt19937 rng(12345);
  Traffic t = generate(flows, rng);
  auto eal = dataplane::offlineEalArgs();
  eal.push_back("--vdev=net_null0");
  if (auto ok = dataplane::initEal(eal); !ok) {
    std::fprintf(stderr, "fastpath: %s\n", ok.error().toString().c_str());
    return 1;
  }
  // Room for the pre-built mix, the set-up frames and the frames in flight.
  const uint32_t mbufs = uint32_t(t.established.size() + t.setup.size()) + 65536;
  auto packetPool = dataplane::PacketPool::create("bench_pool", mbufs, 512,
                                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!packetPool) {
    std::fprintf(stderr, "fastpath: %s\n", packetPool.error().toString().c_str());
    return 1;
  }
  rte_mempool* pool = packetPool.value()->get();
  uint16_t nullPort = 0;
  if (rte_eth_dev_get_port_by_name("net_null0", &nullPort) != 0 || !startPort(nullPort, pool)) {
    std::fprintf(stderr, "fastpath: cannot start the null port\n");
    return 1;
  }
  RefSource rx[2];
  if (!rx[0].build(t.established, true, pool) || !rx[1].build(t.established, false, pool)) {
    std::fprintf(stderr, "fastpath: mbuf pool exhausted building the mix\n");
    return 1;
  }
  std::fprintf(stderr, "fastpath: mbuf pool in %s\n", packetPool.value()->kind());

  auto doc = policy::parsePolicyText(
      kPolicy, "bench.yaml",
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  if (!doc) {
    std::fprintf(stderr, "fastpath: %s\n", doc.error().toString().c_str());
    return 1;
  }
  auto snap = policy::Snapshot::create(std::move(doc.value()), 1);
  dataplane::SnapshotSlot slot(snap.value());
  slot.setWorkerCount(1);
  auto dns = inspect::DnsBindingTable::create(1u << 18);
  dataplane::PipelineConfig pc;
  pc.flowCapacity = 1u << 18;
  while (pc.flowCapacity < flows * 2) pc.flowCapacity <<= 1;
  // Every flow has its own client address: the guard must track them all (its default of 16384
  // sources would refuse the rest, fail closed).
  pc.guardSources = flows * 2;
  pc.eventRingSize = 1u << 20;
  auto pipeline = dataplane::Pipeline::create(pc, 0, slot, *dns.value(), pool);
  if (!pipeline) {
    std::fprintf(stderr, "fastpath: %s\n", pipeline.error().toString().c_str());
    return 1;
  }
  dataplane::Pipeline& p = *pipeline.value();

  NullPortSink sink(nullPort);
  auto runPipeline = [&](rte_mbuf** b, uint16_t n, bool in) {
    p.processBurst(b, n, in ? dataplane::Ingress::InsidePort : dataplane::Ingress::OutsidePort,
                   nowNs(), sink);
    sink.flush();
  };
  auto runCeiling = [&](rte_mbuf** b, uint16_t n, bool) {
    for (uint16_t i = 0; i < n; ++i) sink.send(dataplane::PortRole::Outside, b[i]);
    sink.flush();
  };
  auto drainEvents = [&] {
    telemetry::Event ev;
    while (p.events().tryPop(ev)) {
    }
  };
  // Set-up in capture order, one packet at a time: handshakes before hellos.
  for (const Frame& f : t.setup) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
      std::fprintf(stderr, "fastpath: mbuf pool exhausted\n");
      return 1;
    }
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.bytes.size())), f.bytes.data(), f.bytes.size());
    runPipeline(&m, 1, f.fromInside);
  }
  drainEvents();
  const auto& k = p.counters();
  std::fprintf(stderr,
               "fastpath: %u flows set up (%llu allowed, %llu denied), %zu packets in the mix\n",
               flows, (unsigned long long)k.flows_allowed, (unsigned long long)k.flows_denied,
               t.established.size());

  // A worker's loop: a burst from each port in turn, until `done(packets, cycles)` says so.
  auto loop = [&](auto&& fn, auto&& done) {
    rte_mbuf* burst[32];
    uint64_t packets = 0;
    const uint64_t start = rte_get_tsc_cycles();
    while (!done(packets, rte_get_tsc_cycles() - start)) {
      for (int side = 0; side < 2; ++side) {
        const uint16_t n = rx[side].rxBurst(burst, 32);
        if (n) fn(burst, n, side == 0);
        packets += n;
      }
      drainEvents();
    }
    return std::pair<uint64_t, double>(
        packets, double(rte_get_tsc_cycles() - start) / double(rte_get_tsc_hz()));
  };
  auto measure = [&](auto&& fn, double secs) {
    const uint64_t budget = uint64_t(secs * double(rte_get_tsc_hz()));
    return loop(fn, [budget](uint64_t, uint64_t cycles) { return cycles >= budget; });
  };
  // Warm-up: every flow of the mix gets four packets a pass, so five passes take each one past
  // its first packets (application identification, pc.appIdPackets) into the established state
  // the target is stated for.
  measure(runCeiling, 0.3);
  const uint64_t want = 5 * uint64_t(t.established.size()) + uint64_t(pc.appIdPackets);
  loop(runPipeline, [want](uint64_t packets, uint64_t) { return packets >= want; });
  // Alternate the two in slices so that a change in the machine's load hits both alike.
  uint64_t pkts[2] = {0, 0};
  double secs[2] = {0, 0};
  for (int round = 0; round < 6; ++round) {
    auto [cp, cs] = measure(runCeiling, seconds / 6);
    perf("enable\n");
    auto [fp, fs] = measure(runPipeline, seconds / 6);
    perf("disable\n");
    pkts[0] += cp, secs[0] += cs, pkts[1] += fp, secs[1] += fs;
  }
  const double ceiling = double(pkts[0]) / secs[0] / 1e6, fast = double(pkts[1]) / secs[1] / 1e6;
  std::fprintf(stderr, "fastpath: %llu flows in table, %llu evicted, %llu denied packets\n",
               (unsigned long long)p.flowTable().size(), (unsigned long long)k.flows_evicted,
               (unsigned long long)k.packets_denied);
  const double costNs = 1000.0 / fast - 1000.0 / ceiling;
  std::printf("fastpath: %.2f Mpps, ceiling %.2f Mpps, ratio %.2f, %.0f ns/packet pipeline, %zu "
              "bytes/flow\n",
              fast, ceiling, fast / ceiling, costNs, sizeof(dataplane::Pipeline::Entry));
  return 0;
}
