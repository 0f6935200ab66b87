#include "dataplane/core/replay.h"

#include <pcap/pcap.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstring>
#include <vector>

#include "dataplane/core/mbuf_pool.h"

namespace lbg::dataplane {

namespace {

// Captures that are not Ethernet get a synthetic Ethernet header so that the pipeline sees what
// it would see on a port.
bool toEthernet(int linkType, const uint8_t* data, uint32_t len, uint8_t* out, uint32_t cap,
                uint32_t& outLen) {
  auto withHeader = [&](const uint8_t* ip, uint32_t ipLen) {
    if (ipLen < 1 || ipLen + 14 > cap) return false;
    std::memset(out, 0, 12);
    out[5] = 0x01;   // dst 00:00:00:00:00:01
    out[11] = 0x02;  // src 00:00:00:00:00:02
    const uint8_t version = ip[0] >> 4;
    out[12] = version == 6 ? 0x86 : 0x08;
    out[13] = version == 6 ? 0xdd : 0x00;
    std::memcpy(out + 14, ip, ipLen);
    outLen = ipLen + 14;
    return true;
  };
  switch (linkType) {
    case DLT_EN10MB:
      if (len > cap) return false;
      std::memcpy(out, data, len);
      outLen = len;
      return true;
    case DLT_RAW:
    case 228:  // LINKTYPE_IPV4
    case 229:  // LINKTYPE_IPV6
      return withHeader(data, len);
    case DLT_LINUX_SLL:
      return len > 16 && withHeader(data + 16, len - 16);
    case DLT_NULL:
    case DLT_LOOP:
      return len > 4 && withHeader(data + 4, len - 4);
    default:
      return false;
  }
}

class PcapTxSink : public TxSink {
 public:
  PcapTxSink(pcap_dumper_t* dumper) : dumper_(dumper) {}
  void send(PortRole, rte_mbuf* m) override {
    if (dumper_ != nullptr) {
      pcap_pkthdr h{};
      h.ts = ts_;
      h.caplen = h.len = rte_pktmbuf_data_len(m);
      pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, rte_pktmbuf_mtod(m, const u_char*));
    }
    ++sent_;
    rte_pktmbuf_free(m);
  }
  void setTime(const timeval& ts) { ts_ = ts; }
  uint64_t sent() const { return sent_; }

 private:
  pcap_dumper_t* dumper_;
  timeval ts_{};
  uint64_t sent_ = 0;
};

}  // namespace

std::string ReplaySummary::oneLine() const {
  return "replay: " + std::to_string(packetsIn) + " packets in, " + std::to_string(forwarded) +
         " forwarded, " + std::to_string(generated) + " generated, " +
         std::to_string(packetsIn - skipped - forwarded + 0) + " not forwarded, " +
         std::to_string(counters.flows_new) + " flows (" + std::to_string(counters.flows_allowed) +
         " allowed, " + std::to_string(counters.flows_denied) + " denied), " +
         std::to_string(counters.decode_malformed) + " malformed, " + std::to_string(skipped) +
         " skipped";
}

Result<ReplaySummary> runReplay(std::shared_ptr<const policy::Snapshot> snapshot,
                                const ReplayOptions& options, EventSink& events) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* in = pcap_open_offline(options.capturePath.c_str(), err);
  if (in == nullptr) return Error{std::string("cannot read capture: ") + err, options.capturePath};
  const int linkType = pcap_datalink(in);

  pcap_t* deadOut = nullptr;
  pcap_dumper_t* dumper = nullptr;
  if (!options.outPath.empty()) {
    deadOut = pcap_open_dead(DLT_EN10MB, 65535);
    dumper = pcap_dump_open(deadOut, options.outPath.c_str());
    if (dumper == nullptr) {
      Error e{std::string("cannot write capture: ") + pcap_geterr(deadOut), options.outPath};
      pcap_close(deadOut);
      pcap_close(in);
      return e;
    }
  }
  auto closeAll = [&] {
    if (dumper) pcap_dump_close(dumper);
    if (deadOut) pcap_close(deadOut);
    pcap_close(in);
  };

  const uint32_t poolSize = options.pipeline.holdSlots + 4096;
  auto packetPool = PacketPool::create("replay_pool", poolSize, 256, RTE_MBUF_DEFAULT_BUF_SIZE,
                                       SOCKET_ID_ANY);
  if (!packetPool) {
    closeAll();
    return packetPool.error();
  }
  rte_mempool* pool = packetPool.value()->get();
  auto dns = inspect::DnsBindingTable::create(65536);
  if (!dns) {
    closeAll();
    return dns.error();
  }
  SnapshotSlot slot(snapshot);
  slot.setWorkerCount(1);
  // Declared before the pipeline, which keeps a pointer to it: destroyed after it.
  std::unique_ptr<cert::Verifier> verifier;
  PipelineConfig config = options.pipeline;
  if (!options.trustStore.empty()) {
    auto v = cert::Verifier::create(options.trustStore, 1, options.certRequests);
    if (!v) {
      closeAll();
      return v.error();
    }
    verifier = std::move(v.value());
    config.certVerifier = verifier.get();
  }
  auto pipeline = Pipeline::create(config, 0, slot, *dns.value(), pool);
  if (!pipeline) {
    closeAll();
    return pipeline.error();
  }
  Pipeline& p = *pipeline.value();

  ReplaySummary summary;
  PcapTxSink tx(dumper);
  std::string scratch;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  uint64_t lastNs = 0;
  int rc;
  const uint32_t room = RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM;
  while ((rc = pcap_next_ex(in, &hdr, &data)) == 1) {
    ++summary.packetsIn;
    uint64_t nowNs = uint64_t(hdr->ts.tv_sec) * 1000000000ull + uint64_t(hdr->ts.tv_usec) * 1000ull;
    if (nowNs < lastNs) nowNs = lastNs;  // captures are not always monotonic; time never goes back
    lastNs = nowNs;
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
      closeAll();
      return Error{"mbuf pool exhausted during replay"};
    }
    uint8_t* buf = rte_pktmbuf_mtod(m, uint8_t*);
    uint32_t len = 0;
    if (hdr->caplen < hdr->len || !toEthernet(linkType, data, hdr->caplen, buf, room, len)) {
      // Truncated capture records (snaplen) and unknown link types cannot be judged faithfully.
      ++summary.skipped;
      rte_pktmbuf_free(m);
      continue;
    }
    rte_pktmbuf_append(m, static_cast<uint16_t>(len));
    tx.setTime(hdr->ts);
    // One packet per burst: captures interleave directions, and order must be kept exactly.
    Ingress ingress = Ingress::ByAddress;
    if (!options.outsideMacs.empty()) {
      ingress = Ingress::InsidePort;
      for (const auto& mac : options.outsideMacs) {
        if (std::memcmp(buf + 6, mac.data(), 6) == 0) ingress = Ingress::OutsidePort;
      }
    }
    p.processBurst(&m, 1, ingress, nowNs, tx);
    p.serviceCert(nowNs, tx, true);  // the verifier answers before the next frame: deterministic
    p.housekeeping(nowNs);
    drainEvents(p, events, scratch);
  }
  if (rc == PCAP_ERROR) {
    Error e{std::string("capture read error: ") + pcap_geterr(in), options.capturePath};
    closeAll();
    return e;
  }
  p.drainAll(lastNs);
  drainEvents(p, events, scratch);
  summary.counters = p.counters();
  summary.decodeDrops = p.decodeDrops();
  summary.generated = summary.counters.resets_sent;
  summary.forwarded = tx.sent() - summary.generated;
  closeAll();
  return summary;  // the pool goes with packetPool, after the pipeline
}

}  // namespace lbg::dataplane
