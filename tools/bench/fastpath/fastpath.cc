// tools/bench/fastpath: the pipeline on one worker core, from an in-memory source into net_null.
//
// Generates a realistic mix — TLS flows to Microsoft 365 names (allowed) and to forbidden names
// (denied), DNS answers from the resolver, bulk transfers in both directions with frame sizes from
// 64 to 1500 bytes — over at least 100,000 concurrent flows. A warm-up pass gives every flow its
// verdict; the measured passes then run the established-flow mix. The same harness with the
// pipeline bypassed (frames straight to net_null) gives the raw I/O ceiling, measured in the same
// run because these machines are noisy. Last line:
//   fastpath: <X> Mpps, ceiling <Y> Mpps, ratio <X/Y>, <B> bytes/flow
//
// Usage: fastpath [--flows N] [--seconds S]

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dataplane/core/eal.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/test_frames.h"
#include "policy/parser.h"

using namespace lbg;
using lbg::testing::Bytes;
using lbg::testing::L4Spec;

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

const char* kAllowed[] = {"outlook.office365.com", "contoso.sharepoint.com", "teams.microsoft.com",
                          "login.microsoftonline.com", "graph.microsoft.com",
                          "eu.teams.microsoft.com"};
const char* kForbidden[] = {"www.example.org", "drive.google.com", "evil-sharepoint.com",
                            "dropbox.com"};

class NullPortSink : public dataplane::TxSink {
 public:
  explicit NullPortSink(uint16_t port) : port_(port) {}
  void send(dataplane::PortRole, rte_mbuf* m) override {
    buf_[n_++] = m;
    if (n_ == kMax) flush();
  }
  void flush() {
    uint16_t done = 0;
    while (done < n_) done += rte_eth_tx_burst(port_, 0, buf_ + done, n_ - done);
    n_ = 0;
  }

 private:
  static constexpr uint16_t kMax = 64;
  uint16_t port_;
  rte_mbuf* buf_[kMax];
  uint16_t n_ = 0;
};

struct Traffic {
  std::vector<rte_mbuf*> setup;        // handshakes and first payloads, flow by flow
  std::vector<rte_mbuf*> established;  // the measured mix, flows interleaved
  std::vector<bool> setupFromInside, establishedFromInside;
};

rte_mbuf* toMbuf(rte_mempool* pool, const Bytes& f) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) {
    std::fprintf(stderr, "fastpath: mbuf pool exhausted\n");
    std::exit(1);
  }
  std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
  return m;
}

Traffic generate(rte_mempool* pool, uint32_t flows, std::mt19937& rng) {
  Traffic t;
  std::uniform_int_distribution<int> size(0, 1446);
  std::vector<std::pair<rte_mbuf*, bool>> mix;
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
      // DNS: a query and answers from the resolver (allowed by CIDR; answers become bindings).
      c.proto = s.proto = 17;
      c.dst = resolver;
      s.src = resolver;
      c.dport = s.sport = 53;
      s.dport = c.sport;
      t.setup.push_back(toMbuf(pool, testing::frame(c, Bytes(40, 0))));
      t.setupFromInside.push_back(true);
      const Bytes answer = testing::dnsResponse(
          "host" + std::to_string(i) + ".sharepoint.com", {"edge.sharepoint.com"},
          {IpAddr::fromV4(0x34600000u | (i % 4096))});
      for (int k = 0; k < 2; ++k) mix.push_back({toMbuf(pool, testing::frame(s, answer)), false});
      continue;
    }
    c.dport = 443;
    s.sport = 443;
    s.dport = c.sport;
    const bool allowed = i % 5 != 0;  // 80% to Microsoft 365, 20% to forbidden names
    c.flags = 0x02;
    c.seq = 100;
    t.setup.push_back(toMbuf(pool, testing::frame(c, {})));
    s.flags = 0x12;
    s.seq = 9000;
    s.ack = 101;
    t.setup.push_back(toMbuf(pool, testing::frame(s, {})));
    c.flags = 0x10;
    c.seq = 101;
    c.ack = 9001;
    t.setup.push_back(toMbuf(pool, testing::frame(c, {})));
    const Bytes hello = testing::clientHello(
        {.names = {allowed ? kAllowed[i % std::size(kAllowed)] : kForbidden[i % std::size(kForbidden)]}});
    c.flags = 0x18;
    t.setup.push_back(toMbuf(pool, testing::frame(c, hello)));
    t.setupFromInside.insert(t.setupFromInside.end(), {true, false, true, true});
    // Bulk transfer after the verdict: mostly server → client, frames of 64 to 1500 bytes.
    uint32_t cseq = 101 + uint32_t(hello.size()), sseq = 9001;
    for (int k = 0; k < 4; ++k) {
      const bool down = k % 4 != 3;
      const int payload = size(rng);
      L4Spec& d = down ? s : c;
      d.flags = 0x18;
      d.seq = down ? sseq : cseq;
      d.ack = down ? cseq : sseq;
      (down ? sseq : cseq) += uint32_t(payload);
      mix.push_back({toMbuf(pool, testing::frame(d, Bytes(size_t(payload), 0x5a))), !down});
    }
  }
  std::shuffle(mix.begin(), mix.end(), rng);
  for (auto& [m, in] : mix) {
    t.established.push_back(m);
    t.establishedFromInside.push_back(in);
  }
  return t;
}

uint64_t nowNs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count());
}

// One pass over the packets in bursts of up to 32 from each port in turn (as a worker polls its
// two queues); every mbuf gets an extra reference first so that the pipeline or the port can free
// it and the harness can send it again.
template <class F>
uint64_t pass(const std::vector<rte_mbuf*>& pkts, const std::vector<bool>& fromInside, F&& burstFn) {
  rte_mbuf* burst[2][32];
  uint16_t k[2] = {0, 0};
  uint64_t n = 0;
  for (size_t i = 0; i < pkts.size(); ++i) {
    const int side = fromInside[i] ? 0 : 1;
    rte_mbuf_refcnt_update(pkts[i], 1);
    burst[side][k[side]++] = pkts[i];
    if (k[side] == 32) {
      burstFn(burst[side], k[side], side == 0);
      n += k[side];
      k[side] = 0;
    }
  }
  for (int side = 0; side < 2; ++side) {
    if (k[side]) burstFn(burst[side], k[side], side == 0);
    n += k[side];
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t flows = 131072;
  double seconds = 3.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--flows") flows = uint32_t(std::stoul(argv[i + 1]));
    if (std::string(argv[i]) == "--seconds") seconds = std::stod(argv[i + 1]);
  }
  auto eal = dataplane::offlineEalArgs();
  for (size_t i = 0; i + 1 < eal.size(); ++i) {
    if (eal[i] == "-m") eal[i + 1] = "6144";
  }
  eal.push_back("--vdev=net_null0");
  if (auto ok = dataplane::initEal(eal); !ok) {
    std::fprintf(stderr, "fastpath: %s\n", ok.error().toString().c_str());
    return 1;
  }
  uint16_t port = 0;
  rte_mempool* pool = rte_pktmbuf_pool_create("bench_pool", flows * 9 + 8192, 512, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr || rte_eth_dev_get_port_by_name("net_null0", &port) != 0) {
    std::fprintf(stderr, "fastpath: no mbuf pool or net_null port\n");
    return 1;
  }
  rte_eth_conf conf{};
  rte_eth_dev_configure(port, 1, 1, &conf);
  rte_eth_rx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, nullptr, pool);
  rte_eth_tx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, nullptr);
  rte_eth_dev_start(port);

  auto doc = policy::parsePolicyText(kPolicy, "bench.yaml",
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
  pc.eventRingSize = 1u << 20;
  auto pipeline = dataplane::Pipeline::create(pc, 0, slot, *dns.value(), pool);
  if (!pipeline) {
    std::fprintf(stderr, "fastpath: %s\n", pipeline.error().toString().c_str());
    return 1;
  }
  dataplane::Pipeline& p = *pipeline.value();

  std::mt19937 rng(12345);
  Traffic t = generate(pool, flows, rng);
  NullPortSink sink(port);
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
  for (size_t i = 0; i < t.setup.size(); ++i) {
    rte_mbuf_refcnt_update(t.setup[i], 1);
    runPipeline(&t.setup[i], 1, t.setupFromInside[i]);
  }
  drainEvents();
  const auto& k = p.counters();
  std::fprintf(stderr, "fastpath: %u flows set up (%llu allowed, %llu denied), %zu packets in the mix\n",
               flows, (unsigned long long)k.flows_allowed, (unsigned long long)k.flows_denied,
               t.established.size());

  auto measure = [&](auto&& fn) {
    pass(t.established, t.establishedFromInside, fn);  // warm caches
    uint64_t packets = 0;
    const uint64_t start = rte_get_tsc_cycles();
    const uint64_t budget = uint64_t(seconds * double(rte_get_tsc_hz()));
    while (rte_get_tsc_cycles() - start < budget) {
      packets += pass(t.established, t.establishedFromInside, fn);
      drainEvents();
    }
    const double secs = double(rte_get_tsc_cycles() - start) / double(rte_get_tsc_hz());
    return double(packets) / secs / 1e6;
  };
  const double ceiling = measure(runCeiling);
  const double fast = measure(runPipeline);
  std::fprintf(stderr, "fastpath: %llu flows in table, %llu evicted, %llu denied packets\n",
               (unsigned long long)p.flowTable().size(), (unsigned long long)k.flows_evicted,
               (unsigned long long)k.packets_denied);
  std::printf("fastpath: %.2f Mpps, ceiling %.2f Mpps, ratio %.2f, %zu bytes/flow\n", fast, ceiling,
              fast / ceiling, sizeof(dataplane::Pipeline::Entry));
  return 0;
}
