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
  std::vector<SyncRecord> out;
  ASSERT_EQ(rx.decode(d, kNow, out), SyncDecode::Ok);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(std::memcmp(&in[i], &out[i], sizeof(SyncRecord)), 0);
}

TEST(SyncCodec, EncodesAtMostOneDatagramOfRecords) {
  std::vector<SyncRecord> in(kSyncMaxRecords + 3, record(1));
  const auto d = datagram(key('k'), kNow, in);
  EXPECT_EQ(d.size(), kSyncMaxDatagram);
}

TEST(SyncCodec, WrongKeyIsAnAuthFailureAndYieldsNothing) {
  SyncReceiver rx(key('k'));
  std::vector<SyncRecord> out;
  EXPECT_EQ(rx.decode(datagram(key('x'), kNow, {record(1)}), kNow, out), SyncDecode::AuthFailed);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rx.lastSequence(), 0u);  // a forged datagram does not move the replay window
}

TEST(SyncCodec, AnyFlippedBitIsAnAuthFailure) {
  SyncReceiver rx(key('k'));
  const auto good = datagram(key('k'), kNow, {record(1)});
  std::vector<SyncRecord> out;
  for (size_t i = 0; i < good.size(); i += 7) {
    auto bad = good;
    bad[i] ^= 0x10;
    EXPECT_EQ(rx.decode(bad, kNow, out), SyncDecode::AuthFailed) << "byte " << i;
    EXPECT_TRUE(out.empty());
  }
  EXPECT_EQ(rx.decode(good, kNow, out), SyncDecode::Ok);
}

TEST(SyncCodec, TruncatedOrPaddedDatagramsAreRefused) {
  SyncReceiver rx(key('k'));
  const auto good = datagram(key('k'), kNow, {record(1), record(2)});
  std::vector<SyncRecord> out;
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
  std::vector<SyncRecord> out;
  ASSERT_EQ(rx.decode(first, kNow, out), SyncDecode::Ok);
  ASSERT_EQ(rx.decode(second, kNow, out), SyncDecode::Ok);
  EXPECT_EQ(rx.decode(second, kNow, out), SyncDecode::Replayed);
  EXPECT_EQ(rx.decode(first, kNow, out), SyncDecode::Replayed);  // older, reordered or replayed
  EXPECT_TRUE(out.empty());
}

TEST(SyncCodec, StaleOrFutureDatagramIsRefusedEvenWhenNew) {
  SyncReceiver rx(key('k'));
  std::vector<SyncRecord> out;
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
  std::vector<SyncRecord> out;
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
  EXPECT_TRUE(out.empty());
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
  EXPECT_EQ(std::memcmp(out[1].insideMac, client, 6), 0);
  EXPECT_EQ(std::memcmp(out[1].outsideMac, router, 6), 0);
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
  std::vector<SyncRecord> out;
  auto d = good;
  d[4] = kSyncFormat + 1;  // another format version
  EXPECT_EQ(rx.decode(resign(d), kNow, out), SyncDecode::Malformed);
  d[4] = 1;  // the format before records carried the hosts' MACs
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
