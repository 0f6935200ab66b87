// Real captures from the shared corpus (nDPI's and Suricata's test pcaps) through the decoder, the
// fragment reassembler, the flow table, the TCP tracker and the stream buffer. Invariants are
// checked frame by frame; the aggregate expectations are stated where they are asserted.

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/flow/flow_table.h"
#include "dataplane/flow/stream_buffer.h"
#include "dataplane/flow/tcp_tracker.h"
#include "dataplane/packet/fragment_reassembler.h"
#include "dataplane/packet/packet_view.h"

namespace lbg::flow {
namespace {

namespace fs = std::filesystem;
using packet::DecodeStatus;
using packet::PacketView;

std::vector<fs::path> captures(const std::string& sub) {
  std::vector<fs::path> out;
  const fs::path root = fs::path(LBG_CORPUS_DIR) / sub;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Calls f(frame, caplen, wireLen, tsNs) for every frame of an Ethernet capture; false if the
// capture cannot be opened or is not Ethernet.
template <class F>
bool forEachFrame(const fs::path& p, F&& f) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline(p.c_str(), err);
  if (pc == nullptr) return false;
  if (pcap_datalink(pc) != DLT_EN10MB) {
    pcap_close(pc);
    return false;
  }
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(pc, &h, &d) == 1) {
    f(d, h->caplen, h->len,
      uint64_t(h->ts.tv_sec) * 1000000000ull + uint64_t(h->ts.tv_usec) * 1000);
  }
  pcap_close(pc);
  return true;
}

TEST(Corpus, EveryFrameDecodesSafely) {
  auto files = captures("ndpi/pcap");
  const auto sv = captures("suricata-verify");
  files.insert(files.end(), sv.begin(), sv.end());
  if (files.empty()) GTEST_SKIP() << "corpus not present at " << LBG_CORPUS_DIR;

  uint64_t frames = 0, complete = 0, ok = 0, l2 = 0, frag = 0, bad = 0, captures = 0;
  uint64_t reassembled = 0;
  packet::DecodeOptions replay;
  replay.verifyIpv4Checksum = false;
  std::map<std::string, uint64_t> reasons;
  for (const auto& path : files) {
    auto re = std::move(packet::FragmentReassembler::create({}).value());
    std::map<uint64_t, std::unique_ptr<uint8_t[]>> held;
    uint64_t next = 1;
    auto release = [&](uint64_t h) { ASSERT_EQ(held.erase(h), 1u) << path; };
    const bool ethernet =
        forEachFrame(path, [&](const u_char* d, uint32_t caplen, uint32_t len, uint64_t ts) {
          ++frames;
          // An exactly-sized copy: ASan sees any read past the captured bytes.
          std::unique_ptr<uint8_t[]> copy(new uint8_t[caplen ? caplen : 1]);
          std::memcpy(copy.get(), d, caplen);
          PacketView v;
          // First as on the wire; a bad IPv4 header checksum must be the only difference from a
          // decode that skips it (as a capture replay does: many of these captures were taken on
          // sending hosts with checksum offload, or anonymised without fixing checksums).
          const DecodeStatus wire = packet::decode(copy.get(), caplen, v);
          if (wire == DecodeStatus::Malformed)
            ++reasons[std::string("wire:") + packet::toString(v.dropReason)];
          const bool badChecksum = wire == DecodeStatus::Malformed &&
                                   v.dropReason == packet::DropReason::BadIpv4Checksum;
          const DecodeStatus s = packet::decode(copy.get(), caplen, v, replay);
          if (!badChecksum) {
            EXPECT_EQ(s, wire) << path;
          }
          if (s == DecodeStatus::Ok || s == DecodeStatus::Fragment) {
            ASSERT_LE(uint64_t(v.payloadOffset) + v.payloadLen, caplen) << path;
          }
          if (caplen == len) {
            complete += 1;
            ok += s == DecodeStatus::Ok;
            l2 += s == DecodeStatus::L2Only;
            frag += s == DecodeStatus::Fragment;
            if (s == DecodeStatus::Malformed) {
              ++bad;
              ++reasons[packet::toString(v.dropReason)];
            }
          }
          if (s != DecodeStatus::Fragment) return;
          const uint64_t h = next++;
          held.emplace(h, std::move(copy));
          const auto r = re->add(v, h, ts);
          if (r.status == packet::ReassemblyStatus::Complete) {
            EXPECT_FALSE(r.view.isFragment);
            EXPECT_LE(uint64_t(r.view.payloadOffset) + r.view.payloadLen, r.view.frameLen);
          }
          if (r.status != packet::ReassemblyStatus::Held) {
            for (uint64_t x : r.handles) release(x);
          }
        });
    captures += ethernet;
    reassembled += re->counters().completed;
    re->expire(UINT64_MAX, release);
    EXPECT_TRUE(held.empty()) << path;  // every held fragment came back exactly once
  }
  std::string summary;
  for (const auto& [r, n] : reasons) summary += " " + r + "=" + std::to_string(n);
  std::printf(
      "%lu Ethernet captures, %lu frames (%lu complete): ok %lu, l2 %lu, fragment %lu, "
      "malformed %lu:%s; %lu datagrams reassembled\n",
      captures, frames, complete, ok, l2, frag, bad, summary.c_str(), reassembled);
  ASSERT_GT(complete, 10000u);
  EXPECT_GT(reassembled, 0u);  // the corpus has fragmented DNS/QUIC/IPv6 traffic
  // The corpus is ordinary traffic plus IDS test cases: checksums aside, nearly every complete
  // frame is valid; the few malformed ones come from the Suricata evasion cases.
  EXPECT_LT(double(bad), 0.01 * double(complete));
}

// For TLS connections in nDPI's captures: follow each TCP flow that starts with a SYN towards
// port 443, assemble the client's stream from its segments and check that it starts with a TLS
// handshake record. Real captures contain retransmissions and out-of-order segments; they never
// contain conflicting overlaps.
TEST(Corpus, TlsClientStreamsAssemble) {
  const auto files = captures("ndpi/pcap");
  if (files.empty()) GTEST_SKIP() << "corpus not present at " << LBG_CORPUS_DIR;
  struct Payload {
    StreamState stream;
    bool checked;
    bool isTls;
  };
  auto pool = std::move(StreamBufferPool::create(4096, 2048).value());
  uint64_t flows = 0, checked = 0, tls = 0, conflicts = 0;
  for (const auto& path : files) {
    auto table = std::move(FlowTable<Payload>::create(1 << 14).value());
    forEachFrame(path, [&](const u_char* d, uint32_t caplen, uint32_t, uint64_t ts) {
      PacketView v;
      packet::DecodeOptions replay;
      replay.verifyIpv4Checksum = false;
      if (packet::decode(d, caplen, v, replay) != DecodeStatus::Ok || v.ipProto != 6) return;
      bool reversed;
      const FlowKey k = makeKey(v.src, v.srcPort, v.dst, v.dstPort, 6, reversed);
      auto* e = table->find(k, hashKey(k));
      if (e == nullptr) {
        if ((v.tcpFlags & 0x12) != 0x02 || v.dstPort != 443) return;  // SYN to 443 only
        e = table->insert(k, hashKey(k), ts,
                          [&](auto& victim) { pool->detach(victim.user.stream); });
        if (e == nullptr) return;  // refused: the table holds only established flows
        e->meta.initiatorIsLo = !reversed;
        e->meta.sawSyn = true;
        ++flows;
      }
      const bool fromInitiator = (!reversed) == e->meta.initiatorIsLo;
      ++e->meta.pkts[fromInitiator ? 0 : 1];
      trackTcp(e->meta, v, fromInitiator);
      if (!fromInitiator || v.payloadLen == 0 || e->user.checked) return;
      if (!e->user.stream.active() && !pool->attach(e->user.stream, e->meta.isn[0] + 1)) return;
      const auto st =
          streamAdd(*pool, e->user.stream, v.seq, v.frame + v.payloadOffset, v.payloadLen);
      if (st == StreamStatus::Conflict) ++conflicts;
      const auto c = streamContiguous(*pool, e->user.stream);
      if (c.size() >= 6) {
        e->user.checked = true;
        ++checked;
        // TLS record: handshake (22), version 3.x, then a ClientHello (1).
        tls += c[0] == 0x16 && c[1] == 0x03 && c[5] == 0x01;
        pool->detach(e->user.stream);
      }
    });
    // Age everything out: buffers of flows that never reached 6 bytes go back to the pool.
    table->expire(UINT64_MAX, table->capacity(), [&](auto& e) { pool->detach(e.user.stream); });
  }
  std::printf(
      "%lu SYN flows to 443, %lu with 6+ client bytes, %lu of them start with a "
      "ClientHello, %lu conflicts\n",
      flows, checked, tls, conflicts);
  ASSERT_GT(flows, 100u);
  EXPECT_EQ(conflicts, 0u);
  EXPECT_EQ(pool->available(), pool->buffers());  // every buffer came back
  // Port 443 is TLS in these captures, bar the odd non-TLS use of the port.
  ASSERT_GT(checked, 50u);
  EXPECT_GT(double(tls), 0.95 * double(checked));
}

}  // namespace
}  // namespace lbg::flow
