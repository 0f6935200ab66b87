// Flow-sync throughput (issue 14, tools/bench/README.md "failover"): how many flows per second go
// from one box's worker ring to installed entries in the other box's flow table. Timed path, all
// of it: the active's sync thread draining its worker's ring, batching records into datagrams
// and HMAC-SHA256 signing them (dataplane/ha/sync_codec.h), the kernel's UDP over loopback, the
// standby's sync thread verifying and parsing them and handing them to its worker's ring, and
// the standby's pipeline installing each in its flow table (pipeline_sync.cc), one worker each.
// Not timed: building the records. Last line: `sync: <S> flows/s (<N> records, <L> lost)`.
//
//   build/tools/bench/failover/sync_bench [--flows N]

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/core/pipeline.h"
#include "dataplane/ha/flow_sync.h"
#include "policy/parser.h"

using namespace lbg;

namespace {

constexpr const char* kPolicy = R"(version: 1
segment:
  inside: [10.0.0.0/8]
defaults: {deny: reset, quic: block, ech: block, sni_dns: "off"}
services:
  - name: partner
    kind: lgwan-asp
    cidr: [198.51.100.0/24]
    ports: [tcp/443]
)";

uint64_t realtimeNs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count());
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t flows = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--flows") flows = uint32_t(std::stoul(argv[i + 1]));
  }
  auto doc = policy::parsePolicyText(
      kPolicy, "bench.yaml", std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  if (!doc) {
    std::fprintf(stderr, "sync_bench: %s\n", doc.error().toString().c_str());
    return 1;
  }
  auto snap = policy::Snapshot::create(std::move(doc.value()), 1).value();
  dataplane::SnapshotSlot slot(snap);
  slot.setWorkerCount(1);
  auto dns = inspect::DnsBindingTable::create(1024);
  dataplane::PipelineConfig pc;
  pc.flowCapacity = 1u << 20;
  while (pc.flowCapacity < flows * 2) pc.flowCapacity <<= 1;
  pc.embryonicFlows = pc.flowCapacity;  // installed TCP flows without answers are embryonic
  pc.appIdSlots = 0;
  pc.syncInstallBudget = 4096;
  auto pipeline = dataplane::Pipeline::create(pc, 0, slot, *dns.value(), nullptr);
  if (!pipeline) {
    std::fprintf(stderr, "sync_bench: %s\n", pipeline.error().toString().c_str());
    return 1;
  }
  ha::SyncKey key{std::vector<uint8_t>(32, 0x42)};
  // Rings that hold every record: what is timed is the path, not a full ring's back-pressure (a
  // gateway's worker and sync thread each have a core; this machine may not).
  uint32_t ring = 1024;
  while (ring < flows) ring <<= 1;
  auto a = ha::FlowSync::create(ha::SyncEndpoint::parse("127.0.0.1:47601").value(),
                                ha::SyncEndpoint::parse("127.0.0.1:47602").value(), key, 1, ring);
  auto b = ha::FlowSync::create(ha::SyncEndpoint::parse("127.0.0.1:47602").value(),
                                ha::SyncEndpoint::parse("127.0.0.1:47601").value(), key, 1, ring);
  if (!a || !b) {
    std::fprintf(stderr, "sync_bench: %s\n", (!a ? a.error() : b.error()).toString().c_str());
    return 1;
  }
  dataplane::Pipeline& standby = *pipeline.value();
  standby.attachSync(nullptr, &b.value()->inbound(0));

  std::vector<ha::SyncRecord> records(flows);
  for (uint32_t i = 0; i < flows; ++i) {
    ha::SyncRecord& r = records[i];
    bool reversed = false;
    r.key = flow::makeKey(IpAddr::fromV4(0x0a000000 | (i >> 8)), uint16_t(1024 + (i & 0xff)),
                          IpAddr::fromV4(0xc6336407), 443, 6, reversed);
    r.op = uint8_t(ha::SyncOp::Upsert);
    r.flowId = i + 1;
    r.policyVersion = 1;
    r.serviceId = snap->serviceId(0);
    r.tcpState = uint8_t(flow::TcpState::Established);
    r.seqKnown = 3;
    r.isn[0] = 1000;
    r.isn[1] = 5000;
    r.seqNext[0] = 1500;
    r.seqNext[1] = 9000;
    r.clientAcked = 500;
    r.pkts[0] = r.pkts[1] = 5;
    r.flags = (reversed ? 0 : ha::kSyncInitiatorIsLo) | ha::kSyncFromInside | ha::kSyncSawSyn;
    r.reason = 2;
  }

  a.value()->start([] { return false; }, realtimeNs);
  b.value()->start([] { return true; }, realtimeNs);
  const auto t0 = std::chrono::steady_clock::now();
  std::thread producer([&] {
    ha::SyncRing& ring = a.value()->outbound(0);
    for (const auto& r : records) {
      while (!ring.tryPush(r)) std::this_thread::yield();  // the worker would count it lost
    }
  });
  auto installed = [&] {
    const auto& c = standby.counters();
    return c.ha_sync_installed + c.ha_sync_updated;
  };
  auto lastProgress = std::chrono::steady_clock::now();
  uint64_t last = 0;
  auto t1 = t0;
  while (installed() < flows) {
    standby.serviceSync(realtimeNs(), true);
    const uint64_t now = installed();
    if (now != last) {
      last = now;
      lastProgress = t1 = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - lastProgress > std::chrono::seconds(2)) {
      break;  // the rest was lost (counted below)
    }
  }
  producer.join();
  a.value()->stop();
  b.value()->stop();
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const auto ca = a.value()->counters();
  const auto cb = b.value()->counters();
  const uint64_t done = installed();
  std::fprintf(stderr,
               "sync_bench: %u records, %llu datagrams sent, %llu received, %llu send failures, "
               "%llu inbound overflow, %llu installed in %.3f s\n",
               flows, (unsigned long long)ca.ha_sync_datagrams_sent,
               (unsigned long long)cb.ha_sync_datagrams_received,
               (unsigned long long)ca.ha_sync_send_failed,
               (unsigned long long)cb.ha_sync_inbound_overflow, (unsigned long long)done, secs);
  std::printf("sync: %.0f flows/s (%u records, %llu lost)\n", secs > 0 ? double(done) / secs : 0.0,
              flows, (unsigned long long)(flows - done));
  return done == flows ? 0 : 1;
}
