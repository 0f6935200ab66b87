// Agreement with an independent oracle: nDPI's own analysis of the captures in the shared corpus
// (ndpi/result/<capture>.out, "[Hostname/SNI: …]" per flow). Our inspectors must name the same
// host, flow by flow, and must never finish with a different one.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "dataplane/inspect/dns/message.h"
#include "dataplane/inspect/http/request.h"
#include "dataplane/inspect/quic/initial.h"
#include "dataplane/inspect/test_pcap.h"
#include "dataplane/inspect/tls/client_hello.h"

namespace lbg::inspect {
namespace {

namespace fs = std::filesystem;
using testing::Capture;
using testing::Direction;
using testing::Endpoint;

const fs::path kCorpus = fs::path(LBG_CORPUS_DIR) / "ndpi";

struct OracleFlow {
  std::string l4;     // TCP / UDP
  std::string proto;  // e.g. "91.212/TLS.Microsoft"
  Endpoint a, b;
  std::string host;  // Hostname/SNI, empty if none
};

Endpoint endpoint(const std::string& s) {
  const size_t colon = s.rfind(':');
  std::string ip = s.substr(0, colon);
  if (!ip.empty() && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  return {ip, uint16_t(std::stoi(s.substr(colon + 1)))};
}

std::vector<OracleFlow> oracle(const std::string& capture) {
  std::vector<OracleFlow> flows;
  std::ifstream in(kCorpus / "result" / (capture + ".out"));
  static const std::regex line(R"(^\s+\d+\s+(TCP|UDP) (\S+) <?-> (\S+) .*?\[proto: ([^\]]+)\])");
  static const std::regex host(R"(\[Hostname/SNI: ([^\]]*)\])");
  std::string l;
  while (std::getline(in, l)) {
    std::smatch m, h;
    if (!std::regex_search(l, m, line)) continue;
    OracleFlow f{m[1], m[4], endpoint(m[2]), endpoint(m[3]), ""};
    if (std::regex_search(l, h, host)) f.host = h[1];
    flows.push_back(f);
  }
  return flows;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const std::vector<uint8_t>* clientStream(const Capture& cap, const OracleFlow& f, uint8_t first) {
  for (const Direction& d : {Direction{f.a, f.b}, Direction{f.b, f.a}}) {
    auto it = cap.tcpStreams.find(d);
    // A TLS client stream starts with a handshake record holding a ClientHello (type 1).
    if (it != cap.tcpStreams.end() && !it->second.empty() && it->second[0] == first &&
        (first != 0x16 || it->second.size() < 6 || it->second[5] == 1)) {
      return &it->second;
    }
  }
  return nullptr;
}

// Hand-picked captures: every TLS flow nDPI names must parse to the same SNI.
TEST(Corpus, TlsSniMatchesNdpi) {
  int checked = 0;
  for (const std::string capture :
       {"google_ssl.pcap", "tls-rdn-extract.pcap", "long_tls_certificate.pcap",
        "tls_verylong_certificate.pcap", "tls_2_reasms.pcapng", "tls_2_reasms_b.pcapng",
        "tls_esni_sni_both.pcap", "tls_1.2_unidirectional_client.pcapng"}) {
    const Capture cap = testing::readCapture((kCorpus / "pcap" / capture).string());
    ASSERT_TRUE(cap.error.empty()) << capture << ": " << cap.error;
    for (const OracleFlow& f : oracle(capture)) {
      if (f.l4 != "TCP" || f.host.empty() || f.proto.find("TLS") == std::string::npos) continue;
      const auto* s = clientStream(cap, f, 0x16);
      ASSERT_NE(s, nullptr) << capture << " " << f.a.ip << ":" << f.a.port;
      TlsClientHello h;
      ASSERT_EQ(parseClientHello({s->data(), s->size()}, h), Status::Done)
          << capture << " " << toString(h.reason);
      EXPECT_EQ(lower(std::string(h.sni, h.sniLen)), lower(f.host)) << capture;
      ++checked;
    }
  }
  EXPECT_GE(checked, 7);
}

// Every capture: whenever we finish a ClientHello or request head, the name agrees with nDPI's.
TEST(Corpus, NeverDoneWithAnotherName) {
  int tlsDone = 0, httpDone = 0, disagreements = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus / "pcap")) {
    const std::string capture = entry.path().filename().string();
    const Capture cap = testing::readCapture(entry.path().string());
    if (!cap.error.empty()) continue;
    for (const OracleFlow& f : oracle(capture)) {
      if (f.l4 != "TCP" || f.host.empty()) continue;
      if (const auto* s = clientStream(cap, f, 0x16)) {
        TlsClientHello h;
        if (parseClientHello({s->data(), s->size()}, h) == Status::Done && h.hasSni) {
          ++tlsDone;
          if (lower(std::string(h.sni, h.sniLen)) != lower(f.host)) {
            ++disagreements;
            ADD_FAILURE() << capture << ": sni " << std::string(h.sni, h.sniLen) << " vs "
                          << f.host;
          }
        }
        continue;
      }
      for (const Direction& d : {Direction{f.a, f.b}, Direction{f.b, f.a}}) {
        auto it = cap.tcpStreams.find(d);
        if (it == cap.tcpStreams.end()) continue;
        HttpRequestHead h;
        if (parseHttpRequestHead({it->second.data(), it->second.size()}, h) != Status::Done ||
            !h.hasHost) {
          continue;
        }
        ++httpDone;
        if (lower(std::string(h.host, h.hostLen)) != lower(f.host)) {
          ++disagreements;
          ADD_FAILURE() << capture << ": host " << std::string(h.host, h.hostLen) << " vs "
                        << f.host;
        }
      }
    }
  }
  std::printf("corpus: %d ClientHellos and %d request heads agree with nDPI\n", tlsDone, httpDone);
  EXPECT_EQ(disagreements, 0);
  EXPECT_GE(tlsDone, 50);
  EXPECT_GE(httpDone, 10);
}

// nDPI's HTTP_Connect and HTTP_Proxy flows: CONNECT is refused as such, and a proxy-style request
// (absolute URI) is judged by its authority.
TEST(Corpus, ExplicitProxyRequests) {
  int connects = 0, proxied = 0;
  for (const std::string capture : {"http_connect.pcap", "http-proxy.pcapng"}) {
    const Capture cap = testing::readCapture((kCorpus / "pcap" / capture).string());
    ASSERT_TRUE(cap.error.empty()) << capture;
    for (const OracleFlow& f : oracle(capture)) {
      const bool connect = f.proto.find("HTTP_Connect") != std::string::npos;
      const bool proxy = f.proto.find("HTTP_Proxy") != std::string::npos;
      if (!connect && !proxy) continue;
      const auto* s = clientStream(cap, f, connect ? 'C' : 'G');
      ASSERT_NE(s, nullptr) << capture;
      HttpRequestHead h;
      const Status st = parseHttpRequestHead({s->data(), s->size()}, h);
      if (connect) {
        EXPECT_EQ(st, Status::Invalid);
        EXPECT_EQ(h.reason, HttpReason::Connect);
        ++connects;
      } else {
        ASSERT_EQ(st, Status::Done) << toString(h.reason);
        EXPECT_TRUE(h.absoluteForm);
        EXPECT_EQ(lower(std::string(h.host, h.hostLen)), lower(f.host));
        ++proxied;
      }
    }
  }
  EXPECT_GE(connects, 1);
  EXPECT_GE(proxied, 1);
}

TEST(Corpus, DnsBindingsNameTheQuestion) {
  int bindings = 0, responses = 0;
  for (const std::string capture :
       {"dns.pcap", "dns_long_domainname.pcap", "dns-invalid-chars.pcap",
        "dns_ambiguous_names.pcap", "googledns_android10.pcap"}) {
    const Capture cap = testing::readCapture((kCorpus / "pcap" / capture).string());
    ASSERT_TRUE(cap.error.empty()) << capture;
    for (const auto& [dir, payloads] : cap.udpPayloads) {
      if (dir.src.port != 53) continue;
      for (const auto& p : payloads) {
        DnsSummary sum{};
        std::vector<std::string> names;
        const Status st = parseDnsResponse(
            {p.data(), p.size()}, false,
            [&](const DnsBinding& b) { names.emplace_back(b.name, b.nameLen); }, &sum);
        EXPECT_NE(st, Status::NeedMore);
        if (st != Status::Done) continue;
        ++responses;
        for (const auto& n : names) {
          ++bindings;
          EXPECT_EQ(n, lower(n));
          EXPECT_NE(n.back(), '.');
        }
      }
    }
  }
  std::printf("corpus: %d DNS responses, %d bindings\n", responses, bindings);
  EXPECT_GE(bindings, 5);
}

TEST(Corpus, QuicInitialsAreRecognised) {
  int yes = 0, total = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus / "pcap")) {
    const std::string capture = entry.path().filename().string();
    if (capture.rfind("quic", 0) != 0) continue;
    const Capture cap = testing::readCapture(entry.path().string());
    for (const auto& [dir, payloads] : cap.udpPayloads) {
      if (dir.dst.port != 443 || payloads.empty()) continue;
      ++total;
      const auto& p = payloads[0];
      if (looksLikeQuicInitial({p.data(), p.size()})) {
        ++yes;
      } else {
        // Only flows whose capture starts after the Initial (short header, 0-RTT) or that speak
        // gQUIC's pre-IETF public header (Q039/Q043: no long-header form bit) may be missed.
        const bool longHeaderInitial = (p[0] & 0xc0) == 0xc0 && ((p[0] >> 4) & 0x03) == 0;
        EXPECT_FALSE(longHeaderInitial && p.size() >= 1200) << capture << " " << dir.src.port;
      }
    }
  }
  std::printf("corpus: %d of %d QUIC client flows start with a recognised Initial\n", yes, total);
  EXPECT_GE(yes * 10, total * 8);
  // And nothing else is taken for QUIC: DNS and TLS payloads.
  const Capture dns = testing::readCapture((kCorpus / "pcap" / "dns.pcap").string());
  for (const auto& [dir, payloads] : dns.udpPayloads) {
    for (const auto& p : payloads) EXPECT_FALSE(looksLikeQuicInitial({p.data(), p.size()}));
  }
}

}  // namespace
}  // namespace lbg::inspect
