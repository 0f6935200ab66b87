#include "dataplane/flow/flow_meta.h"
#include "dataplane/ha/sync_codec.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

namespace lbg::ha {
namespace {

constexpr uint64_t kNow = 1'800'000'000'000'000'000ull;

SyncKey key(char fill) { return SyncKey{std::vector<uint8_t>(32, uint8_t(fill))}; }

SyncRecord record(uint16_t port) {
  SyncRecord r{};
  bool reversed = false;
  r.key = flow::makeKey(IpAddr::fromV4(0x0a000001), port, IpAddr::fromV4(0x0a0000c8), 80, 6,
                        reversed);
  r.op = uint8_t(SyncOp::Upsert);
  r.tcpState = uint8_t(flow::TcpState::Established);
  r.flowId = 42;
  r.policyVersion = 7;
  r.isn[0] = 1000;
  r.seqNext[0] = 1100;
  r.flags = kSyncInitiatorIsLo | kSyncFromInside | kSyncSawSyn;
  return r;
}

std::vector<uint8_t> datagram(const SyncKey& k, uint64_t seq, std::vector<SyncRecord> rs) {
  std::vector<uint8_t> d(kSyncMaxDatagram);
  d.resize(encodeSyncDatagram(k, 1, seq, rs, d.data()));
  return d;
}

TEST(SyncCodec, RoundTripsRecordsExactly) {
  SyncReceiver rx(key('k'));
  std::vector<SyncRecord> in = {record(1000), record(1001), record(1002)};
  in[1].op = uint8_t(SyncOp::Delete);
  const auto d = datagram(key('k'), kNow, in);
  ASSERT_EQ(d.size(), kSyncHeaderBytes + 3 * sizeof(SyncRecord) + kSyncMacBytes);
  SyncBatch out;
  ASSERT_EQ(rx.decode(d, kNow, out), SyncDecode::Ok);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(std::memcmp(&in[i], &out.flows[i], sizeof(SyncRecord)), 0);
}

TEST(SyncCodec, EncodesAtMostOneDatagramOfRecords) {
  std::vector<SyncRecord> in(kSyncMaxRecords + 3, record(1));
  const auto d = datagram(key('k'), kNow, in);
  EXPECT_EQ(d.size(), kSyncHeaderBytes + kSyncMaxRecords * sizeof(SyncRecord) + kSyncMacBytes);
}

TEST(SyncCodec, WrongKeyIsAnAuthFailureAndYieldsNothing) {
  SyncReceiver rx(key('k'));
  SyncBatch out;
  EXPECT_EQ(rx.decode(datagram(key('x'), kNow, {record(1)}), kNow, out), SyncDecode::AuthFailed);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(rx.lastSequence(), 0u);  // a forged datagram does not move the replay window
}

TEST(SyncCodec, AnyFlippedBitIsAnAuthFailure) {
  SyncReceiver rx(key('k'));
  const auto good = datagram(key('k'), kNow, {record(1)});
  SyncBatch out;
  for (size_t i = 0; i < good.size(); i += 7) {
    auto bad = good;
    bad[i] ^= 0x10;
    EXPECT_EQ(rx.decode(bad, kNow, out), SyncDecode::AuthFailed) << "byte " << i;
    EXPECT_EQ(out.size(), 0u);
  }
  EXPECT_EQ(rx.decode(good, kNow, out), SyncDecode::Ok);
}

TEST(SyncCodec, TruncatedOrPaddedDatagramsAreRefused) {
  SyncReceiver rx(key('k'));
  const auto good = datagram(key('k'), kNow, {record(1), record(2)});
  SyncBatch out;
  for (size_t n : {size_t(0), size_t(10), kSyncHeaderBytes + kSyncMacBytes - 1, good.size() - 1,
                   good.size() - sizeof(SyncRecord)}) {
    EXPECT_EQ(rx.decode({good.data(), n}, kNow, out), SyncDecode::AuthFailed) << n;
  }
  auto longer = good;
  longer.push_back(0);
  EXPECT_EQ(rx.decode(longer, kNow, out), SyncDecode::AuthFailed);
  EXPECT_EQ(rx.decode(good, kNow, out), SyncDecode::Ok);
}

TEST(SyncCodec, ReplayedDatagramIsRefused) {
  SyncReceiver rx(key('k'));
  const auto first = datagram(key('k'), kNow, {record(1)});
  const auto second = datagram(key('k'), kNow + 5, {record(2)});
  SyncBatch out;
  ASSERT_EQ(rx.decode(first, kNow, out), SyncDecode::Ok);
  ASSERT_EQ(rx.decode(second, kNow, out), SyncDecode::Ok);
  EXPECT_EQ(rx.decode(second, kNow, out), SyncDecode::Replayed);
  EXPECT_EQ(rx.decode(first, kNow, out), SyncDecode::Replayed);  // older, reordered or replayed
  EXPECT_EQ(out.size(), 0u);
}

TEST(SyncCodec, StaleOrFutureDatagramIsRefusedEvenWhenNew) {
  SyncReceiver rx(key('k'));
  SyncBatch out;
  EXPECT_EQ(rx.decode(datagram(key('k'), kNow - kMaxClockSkewNs - 1, {record(1)}), kNow, out),
            SyncDecode::Replayed);
  EXPECT_EQ(rx.decode(datagram(key('k'), kNow + kMaxClockSkewNs + 1, {record(1)}), kNow, out),
            SyncDecode::Replayed);
  EXPECT_EQ(rx.decode(datagram(key('k'), kNow - 1000, {record(1)}), kNow, out), SyncDecode::Ok);
}

TEST(SyncCodec, SequenceIsStrictlyIncreasing) {
  SyncSequence s;
  EXPECT_EQ(s.next(100), 100u);
  EXPECT_EQ(s.next(100), 101u);
  EXPECT_EQ(s.next(50), 102u);  // the clock stepped back: still newer than the last one
  EXPECT_EQ(s.next(500), 500u);
}

TEST(SyncCodec, AuthenticatedButInvalidRecordMakesTheDatagramMalformed) {
  SyncReceiver rx(key('k'));
  SyncBatch out;
  auto bad = [&](auto mutate) {
    SyncRecord r = record(1);
    mutate(r);
    return datagram(key('k'), rx.lastSequence() + kNow + 1, {record(2), r});
  };
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { r.op = 9; }), kNow, out), SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { r.key.proto = 1; }), kNow, out),
            SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { r.tcpState = 200; }), kNow, out),
            SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { r.reason = 255; }), kNow, out),
            SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { r.flags = 0xff; }), kNow, out),
            SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) {
              r.flags |= kSyncFollowHttp;
              r.httpStream = uint64_t(200) << 48;  // phase out of range
            }),
                      kNow, out),
            SyncDecode::Malformed);
  // A host MAC must be unicast (or absent): a broadcast one would be "learned" by the switches.
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { r.insideMac[0] = 0x01; }), kNow, out),
            SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { std::memset(r.outsideMac, 0xff, 6); }), kNow, out),
            SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { r.vlanTpid = 3; }), kNow, out),
            SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(bad([](SyncRecord& r) { r.pad[5] = 1; }), kNow, out),
            SyncDecode::Malformed);
  EXPECT_EQ(out.size(), 0u);
  // ... and the same record with unicast MACs is accepted.
  const uint8_t client[6] = {0x02, 0, 0, 0, 0, 0x0a}, router[6] = {0x02, 0, 0, 0, 0, 0x0b};
  EXPECT_EQ(rx.decode(bad([&](SyncRecord& r) {
              std::memcpy(r.insideMac, client, 6);
              std::memcpy(r.outsideMac, router, 6);
              r.vlanTpid = 1;
            }),
                      kNow, out),
            SyncDecode::Ok);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::memcmp(out.flows[1].insideMac, client, 6), 0);
  EXPECT_EQ(std::memcmp(out.flows[1].outsideMac, router, 6), 0);
}

TEST(SyncCodec, AuthenticatedHeaderOfAnotherFormatIsMalformed) {
  SyncReceiver rx(key('k'));
  auto resign = [](std::vector<uint8_t> d) {
    const size_t body = d.size() - kSyncMacBytes;
    const SyncKey k = key('k');
    unsigned len = 0;
    HMAC(EVP_sha256(), k.bytes.data(), int(k.bytes.size()), d.data(), body, d.data() + body, &len);
    return d;
  };
  const auto good = datagram(key('k'), kNow, {record(1)});
  SyncBatch out;
  auto d = good;
  d[4] = kSyncFormat + 1;  // another format version
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  d[4] = 1;  // the format before records carried the hosts' MACs
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  d[4] = 2;  // the format before the header named the kind
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  d = good;
  d[5] = 3;  // an unknown kind
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  d[5] = uint8_t(SyncKind::Dns);  // flow records announced as bindings: the size does not match
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  d = good;
  d[6] = 2;  // a count the length does not match
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  d = good;
  d[8] = 100;  // another record size
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  d = good;
  d[0] = 'X';
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  EXPECT_EQ(rx.decode(good, kNow, out), SyncDecode::Ok);
}

DnsSyncRecord binding(const char* name, uint32_t ttl) {
  DnsSyncRecord r{};
  const IpAddr a = IpAddr::fromV4(0x0a0000c8);
  std::memcpy(r.addr, a.bytes.data(), 16);
  r.ttlSec = ttl;
  r.worker = 1;
  r.nameLen = uint8_t(std::strlen(name));
  std::memcpy(r.name, name, r.nameLen);
  return r;
}

CertSyncRecord verdict(uint8_t refusal, uint8_t cache = uint8_t(CertSyncCache::Probe)) {
  CertSyncRecord r{};
  std::memset(r.key, 0xab, sizeof(r.key));
  const IpAddr a = IpAddr::fromV4(0x0a0000c8);
  std::memcpy(r.server, a.bytes.data(), 16);
  r.ttlSec = 60;
  r.serverPort = 443;
  r.cache = cache;
  r.verdict = refusal;
  r.sniLen = 18;
  std::memcpy(r.sni, "allowed.example.jp", 18);
  return r;
}

template <class R>
std::vector<uint8_t> datagramOf(uint64_t seq, const std::vector<R>& rs) {
  std::vector<uint8_t> d(kSyncMaxDatagram);
  d.resize(encodeSyncDatagram(key('k'), 1, seq, std::span<const R>(rs), d.data()));
  return d;
}

TEST(SyncCodec, RoundTripsDnsBindingsAndCertVerdictsByKind) {
  SyncReceiver rx(key('k'));
  const std::vector<DnsSyncRecord> dns = {binding("allowed.example.jp", 300),
                                          binding("cdn.example.jp", 1)};
  SyncBatch out;
  ASSERT_EQ(rx.decode(datagramOf(kNow, dns), kNow, out), SyncDecode::Ok);
  EXPECT_EQ(out.kind, SyncKind::Dns);
  ASSERT_EQ(out.dns.size(), 2u);
  EXPECT_TRUE(out.flows.empty() && out.certs.empty());
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(std::memcmp(&dns[i], &out.dns[i], sizeof(dns[i])), 0);

  // A negative verdict travels like a positive one: a refused destination stays refused.
  const std::vector<CertSyncRecord> certs = {verdict(0), verdict(7),
                                             verdict(1, uint8_t(CertSyncCache::Chain))};
  ASSERT_EQ(rx.decode(datagramOf(kNow + 1, certs), kNow, out), SyncDecode::Ok);
  EXPECT_EQ(out.kind, SyncKind::Cert);
  ASSERT_EQ(out.certs.size(), 3u);
  EXPECT_TRUE(out.flows.empty() && out.dns.empty());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(std::memcmp(&certs[i], &out.certs[i], sizeof(certs[i])), 0);
  }
}

TEST(SyncCodec, EachKindIsBoundedToOneDatagram) {
  const std::vector<DnsSyncRecord> dns(kSyncMaxDnsRecords + 2, binding("a.example.jp", 30));
  EXPECT_EQ(datagramOf(kNow, dns).size(),
            kSyncHeaderBytes + kSyncMaxDnsRecords * sizeof(DnsSyncRecord) + kSyncMacBytes);
  const std::vector<CertSyncRecord> certs(kSyncMaxCertRecords + 2, verdict(0));
  EXPECT_EQ(datagramOf(kNow, certs).size(),
            kSyncHeaderBytes + kSyncMaxCertRecords * sizeof(CertSyncRecord) + kSyncMacBytes);
}

TEST(SyncCodec, AuthenticatedButInvalidBindingOrVerdictIsMalformed) {
  SyncReceiver rx(key('k'));
  SyncBatch out;
  uint64_t seq = kNow;
  auto dnsBad = [&](auto mutate) {
    DnsSyncRecord r = binding("allowed.example.jp", 60);
    mutate(r);
    return rx.decode(datagramOf(++seq, std::vector{binding("ok.example.jp", 60), r}), kNow, out);
  };
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.ttlSec = 0; }), SyncDecode::Malformed);
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.ttlSec = kSyncMaxTtlSec + 1; }),
            SyncDecode::Malformed);
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.nameLen = 0; }), SyncDecode::Malformed);
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.nameLen = 254; }), SyncDecode::Malformed);
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.name[0] = 'A'; }), SyncDecode::Malformed);
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.name[3] = ' '; }), SyncDecode::Malformed);
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.name[r.nameLen + 1] = 'x'; }), SyncDecode::Malformed);
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.nameLen = 3; }), SyncDecode::Malformed);  // tail
  EXPECT_EQ(dnsBad([](DnsSyncRecord& r) { r.pad[3] = 1; }), SyncDecode::Malformed);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(dnsBad([](DnsSyncRecord&) {}), SyncDecode::Ok);
  EXPECT_EQ(out.dns.size(), 2u);

  auto certBad = [&](auto mutate) {
    CertSyncRecord r = verdict(0);
    mutate(r);
    return rx.decode(datagramOf(++seq, std::vector{verdict(2), r}), kNow, out);
  };
  EXPECT_EQ(certBad([](CertSyncRecord& r) { r.ttlSec = 0; }), SyncDecode::Malformed);
  EXPECT_EQ(certBad([](CertSyncRecord& r) { r.cache = 0; }), SyncDecode::Malformed);
  EXPECT_EQ(certBad([](CertSyncRecord& r) { r.cache = 3; }), SyncDecode::Malformed);
  EXPECT_EQ(certBad([](CertSyncRecord& r) { r.verdict = kSyncCertVerdictMax + 1; }),
            SyncDecode::Malformed);
  EXPECT_EQ(certBad([](CertSyncRecord& r) { r.sni[200] = 'x'; }), SyncDecode::Malformed);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(certBad([](CertSyncRecord&) {}), SyncDecode::Ok);
  EXPECT_EQ(out.certs.size(), 2u);
  // The last refusal (a stapled OCSP fault, cert::Refusal::OcspInvalid = 10) still syncs.
  EXPECT_EQ(certBad([](CertSyncRecord& r) { r.verdict = 10; }), SyncDecode::Ok);
}

TEST(SyncCodec, OneReplayWindowForAllKinds) {
  SyncReceiver rx(key('k'));
  SyncBatch out;
  const auto flows = datagram(key('k'), kNow, {record(1)});
  const auto dns = datagramOf(kNow + 1, std::vector{binding("a.example.jp", 60)});
  ASSERT_EQ(rx.decode(dns, kNow, out), SyncDecode::Ok);
  EXPECT_EQ(rx.decode(flows, kNow, out), SyncDecode::Replayed);  // older, whatever its kind
  EXPECT_EQ(rx.decode(dns, kNow, out), SyncDecode::Replayed);
}

TEST(SyncKeyFile, MustBePrivateAndLongEnough) {
  char dir[] = "/tmp/lbg-synckey-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/key";
  std::ofstream(path) << "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
  ::chmod(path.c_str(), 0644);
  auto k = loadSyncKey(path);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("chmod 600"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  k = loadSyncKey(path);
  ASSERT_TRUE(k) << k.error().toString();
  EXPECT_EQ(k.value().bytes.size(), 64u);  // the newline is not part of the key
  std::ofstream(path) << "short";
  EXPECT_FALSE(loadSyncKey(path));
  EXPECT_FALSE(loadSyncKey(std::string(dir) + "/missing"));
  ::unlink(path.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace lbg::ha
