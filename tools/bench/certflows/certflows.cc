// tools/bench/certflows: new TLS flows per second through the pipeline on one worker core, with
// the passive certificate check (dataplane/core/pipeline_cert.cc) and its verdict cache warm,
// against the same pipeline without a certificate check, in the same run.
//
// Every flow is new: SYN, SYN-ACK, ACK, the client's ClientHello for an allowed name, the
// server's TLS 1.2 flight (ServerHello, Certificate with a leaf and its root, ServerHelloDone),
// the client's ACK, FIN both ways and the last ACK — 9 frames, unique 5-tuples. All servers
// present the same chain for the same name, so after one warm-up flow every check is a hit of
// the worker's cache: what remains is the flight's hold, its parse, the SHA-256 of the
// certificate list, the lookup and the release. Flows run in rounds of R, stage by stage (all
// SYNs, then all SYN-ACKs, …: R connections open at once), each stage in bursts of 32. Last line:
//   certflows: <A> new TLS flows/s with the check (cache warm), <B> without, ratio <A/B>, <C> us/flow check
// with C = 1/A - 1/B.
//
// Usage: certflows [--flows-per-round R] [--rounds N]

#include <openssl/x509.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/cert/test_flight.h"
#include "dataplane/core/eal.h"
#include "dataplane/core/mbuf_pool.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/test_frames.h"
#include "dataplane/proxy/test_certs.h"
#include "policy/parser.h"
#include "tools/bench/common/null_port.h"

using namespace lbg;
using lbg::testing::Bytes;
using lbg::testing::L4Spec;

namespace {

constexpr const char* kPolicy = R"(version: 1
segment: {inside: [10.0.0.0/8]}
defaults: {deny: drop, sni_dns: "off"}
services:
  - name: svc
    kind: lgwan-asp
    fqdn: [login.example.jp]
    ports: [tcp/443]
)";
constexpr int kStages = 9;

struct Frame {
  Bytes bytes;
  bool fromInside;
};

// Flow `i` of a round of `perRound`: its frames by stage. Each round's clients are the same
// `perRound` hosts (as on a real segment: the guard tracks them), on a port of their own per round.
std::vector<Frame> flowFrames(uint32_t i, uint32_t perRound, const Bytes& hello,
                              const Bytes& serverFlight) {
  L4Spec c, s;
  c.src = IpAddr::fromV4(0x0a000000u | (i % perRound));
  c.dst = IpAddr::fromV4(0xc0000200u | (i % 200 + 1));  // 192.0.2.x
  c.sport = uint16_t(20000 + (i / perRound) % 40000);
  c.dport = 443;
  s.src = c.dst;
  s.dst = c.src;
  s.sport = 443;
  s.dport = c.sport;
  const uint32_t cs = 1000, ss = 5000;
  const uint32_t ch = uint32_t(hello.size()), sf = uint32_t(serverFlight.size());
  std::vector<Frame> f;
  auto add = [&](L4Spec spec, uint8_t flags, uint32_t seq, uint32_t ack, const Bytes& payload,
                 bool inside) {
    spec.flags = flags;
    spec.seq = seq;
    spec.ack = ack;
    f.push_back({testing::frame(spec, payload), inside});
  };
  add(c, 0x02, cs, 0, {}, true);
  add(s, 0x12, ss, cs + 1, {}, false);
  add(c, 0x10, cs + 1, ss + 1, {}, true);
  add(c, 0x18, cs + 1, ss + 1, hello, true);
  add(s, 0x18, ss + 1, cs + 1 + ch, serverFlight, false);
  add(c, 0x10, cs + 1 + ch, ss + 1 + sf, {}, true);
  add(c, 0x11, cs + 1 + ch, ss + 1 + sf, {}, true);
  add(s, 0x11, ss + 1 + sf, cs + 2 + ch, {}, false);
  add(c, 0x10, cs + 2 + ch, ss + 2 + sf, {}, true);
  return f;
}

struct Bench {
  std::unique_ptr<dataplane::SnapshotSlot> slot;
  std::unique_ptr<inspect::DnsBindingTable> dns;
  std::unique_ptr<dataplane::Pipeline> pipeline;
};

}  // namespace

int main(int argc, char** argv) {
  uint32_t perRound = 1024, rounds = 40;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--flows-per-round") perRound = uint32_t(std::stoul(argv[i + 1]));
    if (std::string(argv[i]) == "--rounds") rounds = uint32_t(std::stoul(argv[i + 1]));
  }
  auto eal = dataplane::offlineEalArgs();
  eal.push_back("--vdev=net_null0");
  if (auto ok = dataplane::initEal(eal); !ok) {
    std::fprintf(stderr, "certflows: %s\n", ok.error().toString().c_str());
    return 1;
  }
  auto packetPool = dataplane::PacketPool::create("bench_pool", perRound * kStages * 2 + 65536,
                                                  512, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!packetPool) {
    std::fprintf(stderr, "certflows: %s\n", packetPool.error().toString().c_str());
    return 1;
  }
  rte_mempool* pool = packetPool.value()->get();
  uint16_t nullPort = 0;
  if (rte_eth_dev_get_port_by_name("net_null0", &nullPort) != 0 ||
      !bench::startPort(nullPort, pool)) {
    std::fprintf(stderr, "certflows: cannot start the null port\n");
    return 1;
  }

  // The chain every server presents, and the trust store that makes it good.
  const auto root = proxy::test::makeCa("certflows root");
  const auto leaf = proxy::test::makeLeaf(root, "login.example.jp", {"login.example.jp"});
  const std::string trust = proxy::test::writePem(root.cert.get(), "certflows-root");
  // A request per flow between its ClientHello and its judged flight: room for a whole round.
  auto verifier = cert::Verifier::create(trust, 1, perRound + 64);
  std::remove(trust.c_str());
  if (!verifier) {
    std::fprintf(stderr, "certflows: %s\n", verifier.error().toString().c_str());
    return 1;
  }
  const Bytes hello = testing::clientHello({.names = {"login.example.jp"}});
  const Bytes serverFlight = cert::testing::serverFlight({leaf.cert.get(), root.cert.get()});

  // Two pipelines over the same policy: [0] with the certificate check, [1] without.
  Bench b[2];
  for (int k = 0; k < 2; ++k) {
    auto doc = policy::parsePolicyText(
        kPolicy, "bench.yaml",
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
    if (!doc) {
      std::fprintf(stderr, "certflows: %s\n", doc.error().toString().c_str());
      return 1;
    }
    b[k].slot = std::make_unique<dataplane::SnapshotSlot>(
        policy::Snapshot::create(std::move(doc.value()), 1).value());
    b[k].slot->setWorkerCount(1);
    b[k].dns = std::move(inspect::DnsBindingTable::create(1024).value());
    dataplane::PipelineConfig pc;
    pc.flowCapacity = 1u << 16;
    while (pc.flowCapacity < perRound * 4) pc.flowCapacity <<= 1;
    pc.guardSources = perRound * 2;
    pc.streamBuffers = perRound * 2;
    pc.holdSlots = perRound * 4;
    pc.eventRingSize = 1u << 20;
    pc.certVerifier = k == 0 ? verifier.value().get() : nullptr;
    auto p = dataplane::Pipeline::create(pc, 0, *b[k].slot, *b[k].dns, pool);
    if (!p) {
      std::fprintf(stderr, "certflows: %s\n", p.error().toString().c_str());
      return 1;
    }
    b[k].pipeline = std::move(p.value());
  }
  bench::NullPortSink sink(nullPort);
  auto drain = [](dataplane::Pipeline& p) {
    telemetry::Event ev;
    while (p.events().tryPop(ev)) {
    }
  };

  // One round: every flow's frames as fresh mbufs (untimed), then stage by stage in bursts.
  std::vector<std::vector<Frame>> frames;
  uint32_t nextFlow = 0;
  auto round = [&](dataplane::Pipeline& p, uint32_t n, uint64_t& cycles) {
    frames.clear();
    for (uint32_t i = 0; i < n; ++i) {
      frames.push_back(flowFrames(nextFlow++, perRound, hello, serverFlight));
    }
    std::vector<rte_mbuf*> stage[kStages];
    for (int s = 0; s < kStages; ++s) {
      for (const auto& f : frames) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr) return false;
        const Bytes& bytes = f[size_t(s)].bytes;
        std::memcpy(rte_pktmbuf_append(m, uint16_t(bytes.size())), bytes.data(), bytes.size());
        stage[s].push_back(m);
      }
    }
    const uint64_t start = rte_get_tsc_cycles();
    for (int s = 0; s < kStages; ++s) {
      const auto in = frames[0][size_t(s)].fromInside ? dataplane::Ingress::InsidePort
                                                       : dataplane::Ingress::OutsidePort;
      for (size_t i = 0; i < stage[s].size(); i += 32) {
        const uint16_t k = uint16_t(std::min<size_t>(32, stage[s].size() - i));
        const uint64_t now = bench::nowNs();
        p.processBurst(stage[s].data() + i, k, in, now, sink);
        p.serviceCert(now, sink, false);  // the worker loop's step (a miss would wait here)
        sink.flush();
        p.housekeeping(now);
      }
    }
    p.serviceCert(bench::nowNs(), sink, true);
    sink.flush();
    cycles += rte_get_tsc_cycles() - start;
    drain(p);
    return true;
  };

  // Warm-up: the first flow fills the verdict cache (the only verification of the run).
  uint64_t ignored = 0;
  for (int k = 0; k < 2; ++k) {
    if (!round(*b[k].pipeline, 64, ignored)) {
      std::fprintf(stderr, "certflows: mbuf pool exhausted\n");
      return 1;
    }
  }
  const auto& k0 = b[0].pipeline->counters();
  const uint64_t hitsBefore = k0.cert_cache_hits, verifiedBefore = k0.cert_verified;
  uint64_t cycles[2] = {0, 0}, flows[2] = {0, 0};
  for (uint32_t r = 0; r < rounds; ++r) {
    for (int j = 0; j < 2; ++j) {
      const int k = (int(r) + j) % 2;  // alternate which runs first
      if (!round(*b[k].pipeline, perRound, cycles[k])) {
        std::fprintf(stderr, "certflows: mbuf pool exhausted\n");
        return 1;
      }
      flows[k] += perRound;
    }
  }
  // The check must have run on every measured flow, from the cache, and passed each flight.
  const uint64_t hits = k0.cert_cache_hits - hitsBefore;
  const uint64_t passed = k0.cert_verified - verifiedBefore;
  const auto& k1 = b[1].pipeline->counters();
  std::fprintf(stderr,
               "certflows: %llu flows each; checked: %llu cache hits, %llu verified, %llu refused, "
               "%llu verifier requests; allowed %llu / %llu\n",
               (unsigned long long)flows[0], (unsigned long long)hits, (unsigned long long)passed,
               (unsigned long long)k0.cert_refused, (unsigned long long)k0.cert_verify_requests,
               (unsigned long long)k0.flows_allowed, (unsigned long long)k1.flows_allowed);
  if (std::getenv("CERTFLOWS_DEBUG")) {
    for (const auto* k : {&k0, &k1}) {
#define LBG_PRINT_(name, help) \
  if (k->name) std::fprintf(stderr, "  %s %llu\n", #name, (unsigned long long)k->name);
      LBG_PIPELINE_COUNTERS(LBG_PRINT_)
#undef LBG_PRINT_
      std::fprintf(stderr, "--\n");
    }
  }
  if (hits != flows[0] || passed != flows[0]) {
    std::fprintf(stderr, "certflows: the check did not judge every flow from the cache\n");
    return 1;
  }
  const double hz = double(rte_get_tsc_hz());
  const double with = double(flows[0]) / (double(cycles[0]) / hz);
  const double without = double(flows[1]) / (double(cycles[1]) / hz);
  std::printf("certflows: %.0f new TLS flows/s with the check (cache warm), %.0f without, ratio "
              "%.2f, %.2f us/flow check\n",
              with, without, with / without, 1e6 / with - 1e6 / without);
  return 0;
}
