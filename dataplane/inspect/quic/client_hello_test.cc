#include "dataplane/inspect/quic/client_hello.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "dataplane/inspect/test_pcap.h"

namespace lbg::inspect {
void PrintTo(QuicReason r, std::ostream* os) {
  *os << toString(r);
}
namespace {

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  char b[3];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof(b), "%02x", p[i]);
    s += b;
  }
  return s;
}

// RFC 9001 Appendix A.1.
TEST(QuicClientHello, InitialKeysMatchRfc9001) {
  const uint8_t dcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  QuicInitialKeys k;
  ASSERT_TRUE(deriveQuicClientKeys(1, dcid, k));
  EXPECT_EQ(hex(k.key, 16), "1f369613dd76d5467730efcbe3b1a22d");
  EXPECT_EQ(hex(k.iv, 12), "fa044b2f42a3fd3b46fb255c");
  EXPECT_EQ(hex(k.hp, 16), "9f50449e04a0e810283a1e9933adedd2");
  EXPECT_FALSE(deriveQuicClientKeys(0x12345678, dcid, k));
}

TEST(QuicClientHello, NotQuicOrNotInitial) {
  QuicClientHello q;
  const std::vector<uint8_t> shortHeader(100, 0x41);
  EXPECT_EQ(parseQuicClientHello(shortHeader, q), Status::NotMine);
  std::vector<uint8_t> handshake(1200, 0);
  handshake[0] = 0xe3;  // v1 Handshake packet
  handshake[4] = 1;
  EXPECT_EQ(parseQuicClientHello(handshake, q), Status::Invalid);
  EXPECT_EQ(q.reason, QuicReason::NotInitial);
  std::vector<uint8_t> unknown = handshake;
  unknown[0] = 0xc3;
  unknown[4] = 0x77;
  EXPECT_EQ(parseQuicClientHello(unknown, q), Status::Invalid);
  EXPECT_EQ(q.reason, QuicReason::UnsupportedVersion);
}

// Oracle: nDPI's "[Hostname/SNI: …]" for the QUIC flows of the corpus captures. A first datagram
// that decrypts must give the same name; tampering with any byte must make it fail.
TEST(QuicClientHello, CorpusSniMatchesNdpi) {
  namespace fs = std::filesystem;
  const fs::path corpus = fs::path(LBG_CORPUS_DIR) / "ndpi";
  static const std::regex line(
      R"(^\s+\d+\s+UDP (\S+) <?-> (\S+) .*\[proto: [^\]]*QUIC[^\]]*\].*\[Hostname/SNI: ([^\]]+)\])");
  int done = 0, needMore = 0, tamperChecked = 0;
  for (const auto& entry : fs::directory_iterator(corpus / "pcap")) {
    const std::string capture = entry.path().filename().string();
    if (capture.rfind("quic", 0) != 0) continue;
    const auto cap = testing::readCapture(entry.path().string());
    std::ifstream in(corpus / "result" / (capture + ".out"));
    std::string l;
    while (std::getline(in, l)) {
      std::smatch m;
      if (!std::regex_search(l, m, line)) continue;
      for (const auto& [dir, payloads] : cap.udpPayloads) {
        const std::string src =
            (dir.src.ip.find(':') != std::string::npos ? "[" + dir.src.ip + "]" : dir.src.ip) +
            ":" + std::to_string(dir.src.port);
        if ((src != m[1] && src != m[2]) || payloads.empty()) continue;
        QuicClientHello q;
        const Status st = parseQuicClientHello(payloads[0], q);
        if (st == Status::NeedMore) ++needMore;
        if (st != Status::Done) continue;
        ++done;
        std::string sni(q.tls.sni, q.tls.sniLen);
        std::string want = m[3];
        std::transform(sni.begin(), sni.end(), sni.begin(), ::tolower);
        std::transform(want.begin(), want.end(), want.begin(), ::tolower);
        EXPECT_EQ(sni, want) << capture;
        if (tamperChecked < 5) {
          ++tamperChecked;
          std::vector<uint8_t> t = payloads[0];
          t[40] ^= 0x01;  // header or protected payload of the first packet: both are authenticated
          QuicClientHello bad;
          EXPECT_EQ(parseQuicClientHello(t, bad), Status::Invalid);
          EXPECT_EQ(bad.reason, QuicReason::DecryptFailed);
        }
      }
    }
  }
  std::printf("corpus: %d QUIC ClientHellos read, %d continue in a later datagram\n", done,
              needMore);
  EXPECT_GE(done, 50);
  EXPECT_EQ(tamperChecked, 5);
}

}  // namespace
}  // namespace lbg::inspect
