// libFuzzer target: random streams and buffers through the engine with a fixed rule set that
// uses every option kind. Properties beyond "no crash" (ASan/UBSan): a result never lists more
// sids than it holds, pass carries none, once a direction exceeded its depth it stays so, and a
// rule judged on a prefix of http.request_body (scanBuffers' `prefixes`: an upload before its
// end) matches the whole body too, and is a drop or reject; and a stream of at most
// FlowIdsState::kStreamTail bytes (the tail a chunk is verified with) cut in two chunks matches
// every rule it matches whole, in one chunk or the other, for stateless rules whose inspections
// can follow their fast pattern (Engine: reach and carry), whose fast pattern is sliced or cut.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "dataplane/ids/engine.h"

namespace {

using namespace lbg::ids;

constexpr const char* kRules =
    R"(alert tcp any any -> any any (content:"GET "; depth:4; content:"/x"; distance:0; within:20; pcre:"/^[a-z]{2}/R"; sid:1;)
drop tcp any any -> any any (content:"AB"; byte_jump:1,0,relative,post_offset -1; content:"CD"; distance:0; sid:2;)
alert tcp any any -> any any (content:"|00 01|"; byte_test:2,>,100,0,relative,little; isdataat:!4,relative; sid:3;)
alert tcp any any -> any any (content:"set"; flowbits:set,a; flowbits:noalert; sid:4;)
reject tcp any any -> any any (content:"chk"; nocase; flowbits:isset,a; content:!"ok"; distance:0; sid:5;)
pass tcp any any -> any any (content:"trusted"; sid:6;)
alert tcp any any -> any any (content:"len="; byte_test:4,=,1234,0,relative,string,dec; sid:7;)
alert udp any any -> any any (content:"q"; dsize:<10; endswith; sid:8;)
alert tcp any any -> any any (pcre:"/(a+)+b/"; sid:9;)
alert http any any -> any any (http.uri; content:"/adm"; startswith; http.host; bsize:<8; content:"h"; sid:10;)
alert dns any any -> any any (dns.query; dotprefix; content:".ev.il"; endswith; sid:11;)
alert tcp any any -> any any (content:"abc"; fast_pattern:1,2; content:"zz"; distance:-4; within:8; sid:12;)
alert tcp any any -> any any (content:"thr"; threshold:type both, track by_src, count 2, seconds 1; sid:13;)
drop tcp any any -> any any (content:"det"; detection_filter:track by_dst, count 1, seconds 5; sid:14;)
drop http any any -> any any (http.request_body; content:"ab"; content:"cd"; distance:1; within:6; isdataat:2,relative; sid:20;)
drop http any any -> any any (http.request_body; content:"xy"; depth:10; content:!"zz"; sid:21;)
reject http any any -> any any (http.method; content:"P"; http.request_body; content:"q"; offset:2; content:"r"; distance:-3; sid:22;)
drop http any any -> any any (http.request_body; content:"e"; endswith; sid:23;)
alert http any any -> any any (http.request_body; content:"ab"; sid:24;)
drop http any any -> any any (http.request_body; isdataat:5; content:"k"; fast_pattern; content:"kk"; distance:-1; sid:25;)
)";

// Stateless stream rules (no flowbits, thresholds, negation, pass, endswith or absolute positions
// past the stream start): a match on the whole stream is a match on the window of the chunk it
// reaches.
constexpr const char* kSplitRules =
    R"(alert tcp any any -> any any (content:"cmd"; content:"-e"; distance:0; within:10; sid:101;)
alert tcp any any -> any any (content:"abcdef"; fast_pattern:2,2; sid:102;)
alert tcp any any -> any any (content:"xyz"; pcre:"/^[0-9]{2}/R"; sid:103;)
alert tcp any any -> any any (content:"KEY"; byte_test:1,>,64,0,relative; sid:104;)
alert tcp any any -> any any (content:"hdr"; isdataat:3,relative; sid:105;)
alert tcp any any -> any any (content:"Q"; content:"longerfast"; distance:0; sid:106;)
alert tcp any any -> any any (content:"ab"; byte_jump:1,0,relative; content:"Z"; within:1; sid:107;)
alert tcp any any -> any any (content:"Document"; content:"x"; distance:0; within:3; sid:108;)
alert tcp any any -> any any (content:"<tag>"; depth:40; content:"end"; distance:2; sid:109;)
)";

// maxChunk: the longest chunk verified with the tail before it (longer ones are verified alone,
// in pieces); small for the random streams, so that the piecewise path runs, and at least the
// tail's length for the split property, whose second chunk may be that long.
std::unique_ptr<Engine> makeEngine(const char* rules, uint32_t maxChunk = 512) {
  RuleSetBuilder b;
  b.addRules(rules, "fuzz.rules");
  auto set = std::move(b).build();
  if (!set->report().rejections.empty()) std::abort();
  EngineConfig c;
  c.streamDepth = 4096;
  c.maxChunk = maxChunk;
  c.maxBuffer = 256;
  auto e = Engine::create(set, c);
  if (!e.ok()) std::abort();
  return std::move(e.value());
}

struct Fixed {
  std::unique_ptr<Engine> engine = makeEngine(kRules);
  std::unique_ptr<Scratch> scratch = engine->makeScratch();
  std::unique_ptr<Engine> split = makeEngine(kSplitRules, FlowIdsState::kStreamTail);
  std::unique_ptr<Scratch> splitScratch = split->makeScratch();
};

void openFlow(FlowIdsState& state) {
  state.tuple.client = lbg::IpAddr::fromV4(0x0a000001);
  state.tuple.server = lbg::IpAddr::fromV4(0xc6336407);
  state.tuple.clientPort = 40000;
  state.tuple.serverPort = 80;
}

bool has(const ScanResult& r, uint32_t sid) {
  return std::find(r.sids.begin(), r.sids.begin() + r.sidCount, sid) != r.sids.begin() + r.sidCount;
}

// The stream scanned whole, then as two chunks cut at `cut`.
void checkSplit(Fixed& f, std::span<const uint8_t> stream, size_t cut) {
  FlowIdsState whole, parts;
  openFlow(whole);
  openFlow(parts);
  whole.tuple.ipProto = parts.tuple.ipProto = 6;
  const ScanResult w = f.split->scanPayload(whole, kToServer, stream, *f.splitScratch);
  const ScanResult a = f.split->scanPayload(parts, kToServer, stream.first(cut), *f.splitScratch);
  const ScanResult b = f.split->scanPayload(parts, kToServer, stream.subspan(cut), *f.splitScratch);
  if (!w.fault && !a.fault && !b.fault && !w.truncated && !a.truncated && !b.truncated)
    for (uint8_t k = 0; k < w.sidCount; ++k)
      if (!has(a, w.sids[k]) && !has(b, w.sids[k])) std::abort();
  f.split->release(whole);
  f.split->release(parts);
}

void check(const ScanResult& r) {
  if (r.sidCount > ScanResult::kMaxSids) std::abort();
  if (r.action == Verdict::Pass && r.sidCount != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixed f;
  if (size < 1) return 0;
  FlowIdsState state;
  openFlow(state);
  const uint8_t mode = data[0];
  state.tuple.ipProto = (mode & 1) ? 17 : 6;
  state.tuple.app = AppProto((mode >> 1) & 3);
  state.tuple.established = mode & 8;
  size_t i = 1;
  bool exceeded[2] = {false, false};
  // Records: [control][len][bytes...]; control bit 0 = direction, bit 1 = buffers instead of
  // payload.
  while (i + 2 <= size) {
    const uint8_t ctl = data[i], len = data[i + 1];
    i += 2;
    const size_t n = std::min<size_t>(len, size - i);
    std::span<const uint8_t> bytes(data + i, n);
    i += n;
    const Direction d = (ctl & 1) ? kToClient : kToServer;
    if (ctl & 2) {
      BufferSet b;
      b.set(Buffer(1 + (ctl >> 2) % (kBufferCount - 1)), bytes);
      b.set(Buffer::DnsQuery, bytes.subspan(0, n / 2));
      check(f.engine->scanBuffers(state, d, b, *f.scratch));
      // A prefix of an upload's body, judged early, against the whole body.
      const uint32_t body = Engine::bufferBit(Buffer::HttpRequestBody);
      BufferSet whole, part;
      whole.set(Buffer::HttpMethod, bytes.subspan(0, std::min<size_t>(n, 3)));
      whole.set(Buffer::HttpRequestBody, bytes);
      part = whole;
      part.set(Buffer::HttpRequestBody, bytes.subspan(0, n == 0 ? 0 : size_t(ctl) * 7 % (n + 1)));
      const ScanResult early = f.engine->scanBuffers(state, d, part, *f.scratch, body, body);
      check(early);
      if (early.sidCount > 0 && early.action != Verdict::Drop && early.action != Verdict::Reject)
        std::abort();
      const ScanResult full = f.engine->scanBuffers(state, d, whole, *f.scratch, body);
      check(full);
      if (full.action != Verdict::Pass && !full.truncated && !early.truncated && !full.fault)
        for (uint8_t k = 0; k < early.sidCount; ++k)
          if (std::find(full.sids.begin(), full.sids.begin() + full.sidCount, early.sids[k]) ==
              full.sids.begin() + full.sidCount)
            std::abort();
    } else {
      ScanResult r = f.engine->scanPayload(state, d, bytes, *f.scratch);
      check(r);
      const int k = d == kToServer ? 0 : 1;
      if (exceeded[k] && !r.depthExceeded && !bytes.empty() && state.tuple.ipProto == 6)
        std::abort();
      exceeded[k] |= r.depthExceeded;
    }
  }
  f.engine->release(state);
  const std::span<const uint8_t> stream(data + 1,
                                        std::min<size_t>(size - 1, FlowIdsState::kStreamTail));
  checkSplit(f, stream, size_t(mode) % (stream.size() + 1));
  return 0;
}
