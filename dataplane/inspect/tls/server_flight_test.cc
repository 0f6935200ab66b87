#include "dataplane/inspect/tls/server_flight.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "dataplane/inspect/test_pcap.h"
#include "dataplane/inspect/tls/hello_builder.h"

namespace lbg::inspect {
namespace {

using testing::Bytes;

Bytes serverHello(uint16_t version, const std::vector<std::pair<uint16_t, Bytes>>& exts,
                  bool retry = false) {
  Bytes b;
  testing::put16(b, version);
  if (retry) {
    const Bytes r = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
                     0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
                     0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
    testing::append(b, r);
  } else {
    testing::append(b, Bytes(32, 0x42));
  }
  b.push_back(0);  // session id
  testing::put16(b, 0xc02f);
  b.push_back(0);
  if (!exts.empty()) {
    Bytes e;
    for (const auto& [t, d] : exts) {
      testing::put16(e, t);
      testing::put16(e, d.size());
      testing::append(e, d);
    }
    testing::put16(b, e.size());
    testing::append(b, e);
  }
  return testing::handshake(b, 2);
}

Bytes certificateMsg(const Bytes& cert) {
  Bytes list;
  testing::put24(list, cert.size());
  testing::append(list, cert);
  Bytes body;
  testing::put24(body, list.size());
  testing::append(body, list);
  return testing::handshake(body, 11);
}

TEST(TlsServerFlight, Tls13IsDoneAfterServerHello) {
  const Bytes s = testing::records(serverHello(0x0303, {{43, {0x03, 0x04}}}), 16384, 0x0303);
  for (size_t n = 0; n < s.size(); ++n) {
    TlsServerHello h;
    ASSERT_EQ(parseServerFlight({s.data(), n}, h), Status::NeedMore) << n;
  }
  TlsServerHello h;
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h), Status::Done);
  EXPECT_TRUE(h.tls13);
  EXPECT_EQ(h.version, 0x0304);
  EXPECT_EQ(h.cipher, 0xc02f);
  EXPECT_FALSE(h.hasCertificate);
}

TEST(TlsServerFlight, HelloRetryRequest) {
  const Bytes s = testing::records(serverHello(0x0303, {{43, {0x03, 0x04}}}, true));
  TlsServerHello h;
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h), Status::Done);
  EXPECT_TRUE(h.helloRetry);
}

TEST(TlsServerFlight, Tls12CertificateInOneRecord) {
  const Bytes cert(700, 0xc3);
  Bytes flight = serverHello(0x0303, {});
  testing::append(flight, certificateMsg(cert));
  const Bytes s = testing::records(flight);
  TlsServerHello h;
  for (size_t n = 0; n < s.size(); ++n) {
    ASSERT_EQ(parseServerFlight({s.data(), n}, h), Status::NeedMore) << n;
  }
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h), Status::Done);
  EXPECT_FALSE(h.tls13);
  ASSERT_TRUE(h.hasCertificate);
  ASSERT_TRUE(h.certContiguous);
  EXPECT_EQ(h.certLength, 700u);
  EXPECT_EQ(Bytes(s.begin() + h.certOffset, s.begin() + h.certOffset + h.certLength), cert);
}

TEST(TlsServerFlight, WholeCertificateListForTheChainCheck) {
  const Bytes leaf(900, 0x11), inter(800, 0x22);
  Bytes list;
  testing::put24(list, leaf.size());
  testing::append(list, leaf);
  testing::put24(list, inter.size());
  testing::append(list, inter);
  Bytes body;
  testing::put24(body, list.size());
  testing::append(body, list);
  Bytes flight = serverHello(0x0303, {});
  testing::append(flight, testing::handshake(body, 11));
  const Bytes s = testing::records(flight, 700);  // the list straddles records
  Bytes chain(4096);
  TlsServerHello h;
  // Done once the leaf is complete, but the list is complete only at the end.
  bool sawLeafOnly = false;
  for (size_t n = 0; n < s.size(); ++n) {
    if (parseServerFlight({s.data(), n}, h, {}, chain) == Status::Done) {
      EXPECT_FALSE(h.chainComplete) << n;
      sawLeafOnly = true;
    }
  }
  EXPECT_TRUE(sawLeafOnly);
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h, {}, chain), Status::Done);
  ASSERT_TRUE(h.chainComplete);
  ASSERT_TRUE(h.chainCopied);
  EXPECT_EQ(h.chainLength, list.size());
  EXPECT_EQ(Bytes(chain.begin(), chain.begin() + h.chainLength), list);
  // Too small a buffer: complete but not copied (the caller cannot check it).
  Bytes small(100);
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h, {}, small), Status::Done);
  EXPECT_TRUE(h.chainComplete);
  EXPECT_FALSE(h.chainCopied);
}

// RFC 6066 §8: CertificateStatus (22) right after the Certificate carries the stapled OCSP
// response; what follows the Certificate decides whether there is one.
Bytes certificateStatus(const Bytes& response, uint8_t statusType = 1) {
  Bytes body = {statusType};
  testing::put24(body, response.size());
  testing::append(body, response);
  return testing::handshake(body, 22);
}

TEST(TlsServerFlight, StapledOcspResponseFollowsTheChainInItsBuffer) {
  const Bytes cert(600, 0x33), response(300, 0x30);
  Bytes flight = serverHello(0x0303, {});
  testing::append(flight, certificateMsg(cert));
  testing::append(flight, certificateStatus(response));
  testing::append(flight, testing::handshake({}, 14));
  const Bytes s = testing::records(flight, 500);  // the staple straddles records
  Bytes chain(4096);
  TlsServerHello h;
  bool sawChainBeforeStatus = false;
  for (size_t n = 0; n < s.size(); ++n) {
    if (parseServerFlight({s.data(), n}, h, {}, chain) == Status::Done && h.chainComplete) {
      sawChainBeforeStatus |= !h.statusKnown;
      if (h.statusKnown) EXPECT_TRUE(h.hasStaple) << n;
    }
  }
  EXPECT_TRUE(sawChainBeforeStatus);
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h, {}, chain), Status::Done);
  ASSERT_TRUE(h.statusKnown && h.hasStaple && h.stapleCopied);
  EXPECT_EQ(h.stapleLength, response.size());
  EXPECT_EQ(Bytes(chain.begin() + h.chainLength, chain.begin() + h.chainLength + h.stapleLength),
            response);
  // Room for the chain but not the staple: known, not copied (the caller must not judge it).
  Bytes tight(h.chainLength + 10);
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h, {}, tight), Status::Done);
  EXPECT_TRUE(h.chainCopied && h.hasStaple);
  EXPECT_FALSE(h.stapleCopied);
}

TEST(TlsServerFlight, NoStapleIsKnownFromTheNextMessage) {
  Bytes flight = serverHello(0x0303, {});
  testing::append(flight, certificateMsg(Bytes(600, 0x33)));
  Bytes s = testing::records(flight);
  Bytes chain(4096);
  TlsServerHello h;
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h, {}, chain), Status::Done);
  EXPECT_TRUE(h.chainComplete);
  EXPECT_FALSE(h.statusKnown);  // the next message has not come yet
  testing::append(flight, testing::handshake({}, 14));
  s = testing::records(flight);
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h, {}, chain), Status::Done);
  EXPECT_TRUE(h.statusKnown);
  EXPECT_FALSE(h.hasStaple);
}

TEST(TlsServerFlight, MalformedCertificateStatusIsInvalid) {
  for (const Bytes& status : {certificateStatus(Bytes(10, 1), 2),  // not ocsp
                              certificateStatus({}),                // empty response
                              testing::handshake({1, 0, 0, 9, 1, 2}, 22)}) {  // lengths disagree
    Bytes flight = serverHello(0x0303, {});
    testing::append(flight, certificateMsg(Bytes(600, 0x33)));
    testing::append(flight, status);
    const Bytes s = testing::records(flight);
    Bytes chain(4096);
    TlsServerHello h;
    EXPECT_EQ(parseServerFlight({s.data(), s.size()}, h, {}, chain), Status::Invalid);
  }
}

TEST(TlsServerFlight, CertificateAcrossRecordsGoesToScratch) {
  Bytes cert(3000);
  for (size_t i = 0; i < cert.size(); ++i) cert[i] = uint8_t(i * 7);
  Bytes flight = serverHello(0x0303, {});
  testing::append(flight, certificateMsg(cert));
  const Bytes s = testing::records(flight, 1000);
  Bytes scratch(4096);
  TlsServerHello h;
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h, scratch), Status::Done);
  ASSERT_TRUE(h.hasCertificate);
  EXPECT_FALSE(h.certContiguous);
  ASSERT_TRUE(h.certInScratch);
  EXPECT_EQ(Bytes(scratch.begin(), scratch.begin() + h.certLength), cert);
  // Without room, the caller learns that it cannot check the certificate.
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h), Status::Done);
  EXPECT_TRUE(h.hasCertificate);
  EXPECT_FALSE(h.certContiguous || h.certInScratch);
}

TEST(TlsServerFlight, ResumptionHasNoCertificate) {
  Bytes s = testing::records(serverHello(0x0303, {}));
  testing::append(s, Bytes{20, 3, 3, 0, 1, 1});
  TlsServerHello h;
  ASSERT_EQ(parseServerFlight({s.data(), s.size()}, h), Status::Done);
  EXPECT_FALSE(h.hasCertificate);
}

TEST(TlsServerFlight, Refusals) {
  TlsServerHello h;
  const Bytes alert = {21, 3, 3, 0, 2, 2, 40};
  EXPECT_EQ(parseServerFlight({alert.data(), alert.size()}, h), Status::Invalid);
  EXPECT_EQ(h.reason, TlsReason::Alert);
  const Bytes notSh = testing::records(testing::handshake(Bytes(40, 0), 1));
  EXPECT_EQ(parseServerFlight({notSh.data(), notSh.size()}, h), Status::Invalid);
  EXPECT_EQ(h.reason, TlsReason::NotServerHello);
  Bytes flight = serverHello(0x0303, {});
  Bytes bad = certificateMsg(Bytes(100, 1));
  bad[4 + 2] += 1;  // list length no longer matches the message
  testing::append(flight, bad);
  const Bytes s = testing::records(flight);
  EXPECT_EQ(parseServerFlight({s.data(), s.size()}, h), Status::Invalid);
  EXPECT_EQ(h.reason, TlsReason::BadCertificate);
  Bytes many = serverHello(0x0303, {});
  testing::append(many, certificateMsg(Bytes(100, 1)));
  const Bytes tiny = testing::records(many, 1);
  EXPECT_EQ(parseServerFlight({tiny.data(), tiny.size()}, h), Status::Invalid);
  EXPECT_EQ(h.reason, TlsReason::TooManyRecords);
}

// Oracle: nDPI's "[Certificate SHA-1: …]" for the TLS 1.2 flows of real captures.
TEST(TlsServerFlight, CorpusCertificatesMatchNdpiFingerprints) {
  namespace fs = std::filesystem;
  const fs::path corpus = fs::path(LBG_CORPUS_DIR) / "ndpi";
  static const std::regex line(
      R"(^\s+\d+\s+TCP (\S+) <?-> (\S+) .*\[Certificate SHA-1: ([0-9A-F:]+)\])");
  int checked = 0;
  for (const std::string capture :
       {"google_ssl.pcap", "tls-rdn-extract.pcap", "long_tls_certificate.pcap",
        "tls_verylong_certificate.pcap", "ssl-cert-name-mismatch.pcap"}) {
    const auto cap = testing::readCapture((corpus / "pcap" / capture).string());
    ASSERT_TRUE(cap.error.empty()) << capture;
    std::ifstream in(corpus / "result" / (capture + ".out"));
    std::string l;
    while (std::getline(in, l)) {
      std::smatch m;
      if (!std::regex_search(l, m, line)) continue;
      const std::string want = m[3];
      bool found = false;
      for (const auto& [dir, stream] : cap.tcpStreams) {
        if (stream.size() < 6 || stream[0] != 22 || stream[5] != 2) continue;  // ServerHello
        const std::string a = m[1], b = m[2];
        const std::string src =
            (dir.src.ip.find(':') != std::string::npos ? "[" + dir.src.ip + "]" : dir.src.ip) +
            ":" + std::to_string(dir.src.port);
        if (src != a && src != b) continue;
        Bytes scratch(65536);
        TlsServerHello h;
        ASSERT_EQ(parseServerFlight({stream.data(), stream.size()}, h, scratch), Status::Done)
            << capture << " " << toString(h.reason);
        ASSERT_TRUE(h.hasCertificate) << capture;
        const uint8_t* der = h.certContiguous ? stream.data() + h.certOffset : scratch.data();
        const uint8_t* p = der;
        X509* x = d2i_X509(nullptr, &p, long(h.certLength));
        ASSERT_NE(x, nullptr) << capture;
        EXPECT_EQ(size_t(p - der), h.certLength);
        X509_free(x);
        unsigned char sha[SHA_DIGEST_LENGTH];
        SHA1(der, h.certLength, sha);
        std::string got;
        for (unsigned char c : sha) {
          char hex[4];
          std::snprintf(hex, sizeof(hex), got.empty() ? "%02X" : ":%02X", c);
          got += hex;
        }
        EXPECT_EQ(got, want) << capture;
        found = true;
        ++checked;
      }
      EXPECT_TRUE(found) << capture << " " << m[1] << " " << m[2];
    }
  }
  EXPECT_GE(checked, 4);
}

}  // namespace
}  // namespace lbg::inspect
