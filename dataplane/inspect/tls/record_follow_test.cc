#include "dataplane/inspect/tls/record_follow.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/inspect/tls/hello_builder.h"

namespace lbg::inspect {
namespace {

using testing::Bytes;
using testing::HelloBuilder;

Bytes hello(const std::string& name, size_t recordSize = 16384, bool early = false) {
  HelloBuilder b;
  b.sni(name).versions({0x0304, 0x0303});
  if (early) b.ext(42, {});
  return testing::stream(b, recordSize);
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Bytes kCcs = {0x14, 3, 3, 0, 1, 1};
Bytes appData(size_t n) {
  Bytes r = {0x17, 3, 3, uint8_t(n >> 8), uint8_t(n)};
  r.resize(5 + n, 0xee);
  return r;
}
Bytes handshakeRecord(uint8_t type, size_t bodyLen) {
  return testing::records(testing::handshake(Bytes(bodyLen, 0x42), type), 16384, 0x0303);
}

// What a follower concluded about a client stream, driven as the pipeline drives it: the bytes
// arrive `cut` at a time, a hello that is not complete is read again when more arrive.
struct Outcome {
  std::vector<std::string> hellos;  // names of the later hellos, in order ("-" for none)
  std::string end;                  // "", "end", "encrypted", "invalid:<reason>"
  size_t judged = 0;                // bytes judged when the walk stopped or the input ended
  bool operator==(const Outcome&) const = default;
};

Outcome follow(const Bytes& data, size_t cut, bool offers13 = true, bool early = false) {
  Outcome o;
  TlsFollow s = tlsFollowStart(offers13, early, true);
  TlsClientHello h{};
  size_t pos = 0;
  for (size_t avail = 0; avail < data.size() && o.end.empty();) {
    avail = std::min(avail + cut, data.size());
    while (pos < avail && o.end.empty()) {
      const auto w = tlsFollowWalk(s, {data.data() + pos, avail - pos});
      pos += w.consumed;
      if (w.step == FollowStep::Walked) break;
      if (w.step == FollowStep::End) o.end = "end";
      if (w.step == FollowStep::Invalid) o.end = "invalid:" + std::string(toString(w.reason));
      if (w.step != FollowStep::Hello) break;
      const auto r = tlsFollowHello(s, {data.data() + pos, avail - pos}, h);
      if (r.status == Status::NeedMore) break;
      if (r.status == Status::Invalid) {
        o.end = "invalid:" + std::string(toString(r.reason));
      } else if (r.encrypted) {
        o.end = "encrypted";
      } else {
        o.hellos.push_back(h.hasSni ? std::string(h.sni, h.sniLen) : "-");
        pos += r.consumed;
      }
    }
  }
  o.judged = pos;
  return o;
}

void expectAnyCut(const Bytes& data, const Outcome& want, bool offers13 = true) {
  for (size_t cut : {size_t(1), size_t(2), size_t(5), size_t(7), size_t(100), data.size()}) {
    const Outcome got = follow(data, cut, offers13);
    EXPECT_EQ(got.hellos, want.hellos) << "cut " << cut;
    EXPECT_EQ(got.end, want.end) << "cut " << cut;
  }
}

TEST(TlsFollow, Tls13CompatibilityCcsThenApplicationDataEnds) {
  expectAnyCut(cat(kCcs, appData(40)), {{}, "end"});
  const Outcome o = follow(cat(cat(kCcs, appData(40)), Bytes{0x99, 0x99}), 3);
  EXPECT_EQ(o.end, "end");
  EXPECT_EQ(o.judged, kCcs.size() + 5);  // up to the first encrypted record's header
}

TEST(TlsFollow, SecondHelloAfterHelloRetryIsReportedWhateverTheCuts) {
  expectAnyCut(cat(cat(kCcs, hello("b.example", 40)), appData(10)), {{"b.example"}, "end"});
  expectAnyCut(cat(hello("evil.example"), appData(10)), {{"evil.example"}, "end"});
}

TEST(TlsFollow, HelloSplitAcrossRecordsAndAfterAnotherMessageInOneRecord) {
  // A Certificate message and a hello in the same record: the hello starts mid-record.
  Bytes both = testing::handshake(Bytes(30, 1), 11);
  HelloBuilder b;
  b.sni("mid.example");
  both = cat(both, testing::handshake(b.body()));
  expectAnyCut(testing::records(both, 17, 0x0303), {{"mid.example"}, ""});
}

TEST(TlsFollow, Tls12FlightEndsAtItsCcs) {
  const Bytes flight = cat(cat(handshakeRecord(11, 300), handshakeRecord(16, 70)), kCcs);
  const Bytes finished = {0x16, 3, 3, 0, 40, 0x01, 0x00, 0x00, 0x10};  // ciphertext
  // ClientKeyExchange: TLS 1.2 whatever was offered; a client offering only 1.2 too.
  expectAnyCut(cat(flight, finished), {{}, "end"});
  expectAnyCut(cat(kCcs, finished), {{}, "end"}, false);
}

TEST(TlsFollow, ResumptionFinishedAfterCcsIsEncryptedNotAHello) {
  // A 1.3-offering client resuming a 1.2 session: CCS, then the encrypted Finished.
  expectAnyCut(cat(kCcs, Bytes{0x16, 3, 3, 0, 40, 0x8f, 0x12}), {{}, "end"});
  // Ciphertext that starts like a hello with an impossible length.
  expectAnyCut(cat(kCcs, Bytes{0x16, 3, 3, 0, 40, 0x01, 0x3f, 0x00, 0x00, 0x77}),
               {{}, "encrypted"});
}

TEST(TlsFollow, EarlyDataDoesNotEndTheWalk) {
  const Bytes s = cat(cat(cat(kCcs, appData(50)), appData(3)), hello("evil.example", 60));
  const Outcome o = follow(s, 9, true, true);
  EXPECT_EQ(o.end, "");
  EXPECT_EQ(o.hellos, std::vector<std::string>{"evil.example"});
  // Without early data the first application data record ends it.
  EXPECT_EQ(follow(s, 9, true, false).end, "end");
}

TEST(TlsFollow, RecordsThatNoClientSendsAreInvalid) {
  const struct {
    Bytes data;
    const char* why;
  } cases[] = {
      {{0x18, 3, 3, 0, 1, 0}, "tls-follow-record-type"},
      {{0x16, 2, 0, 0, 4, 11, 0, 0, 0}, "tls-follow-record-version"},
      {{0x16, 3, 3, 0x40, 0x01}, "tls-follow-record-too-long"},
      {{0x16, 3, 3, 0, 0}, "tls-follow-empty-record"},
      {{0x14, 3, 3, 0, 2, 1, 1}, "tls-follow-bad-ccs"},
      {{0x14, 3, 3, 0, 1, 2}, "tls-follow-bad-ccs"},
      {{0x15, 3, 3, 0, 3, 1, 0, 0}, "tls-follow-bad-alert"},
      {{0x16, 3, 3, 0, 2, 11, 0, 0x15, 3, 3, 0, 2, 1, 0}, "tls-follow-interleaved-record"},
      {{0x16, 3, 3, 0, 4, 2, 0, 0, 0}, "tls-follow-handshake-type"},
      {{0x16, 3, 3, 0, 4, 20, 0, 0, 0}, "tls-follow-handshake-type"},
  };
  for (const auto& c : cases) expectAnyCut(c.data, {{}, std::string("invalid:") + c.why});
}

TEST(TlsFollow, AHelloThatDoesNotParseIsInvalid) {
  Bytes bad = hello("a.example");
  bad[bad.size() - 1] ^= 0xff;  // breaks the last extension's contents or lengths
  HelloBuilder twice;
  twice.sni("a.example").sni("b.example");
  const Outcome o = follow(testing::stream(twice), 1000);
  EXPECT_EQ(o.end, "invalid:tls-duplicate-extension");
  // A hello continued by a record of another type.
  Bytes cut = hello("a.example", 20);
  cut[25] = 0x17;
  EXPECT_EQ(follow(cut, 1000).end, "invalid:tls-interleaved-record");
}

TEST(TlsFollow, AlertsAndHandshakeBodiesAreWalked) {
  const Bytes alert = {0x15, 3, 3, 0, 2, 1, 0};
  const Outcome o = follow(cat(cat(alert, handshakeRecord(11, 5000)), alert), 13);
  EXPECT_EQ(o.end, "");
  EXPECT_TRUE(o.hellos.empty());
}

}  // namespace
}  // namespace lbg::inspect
