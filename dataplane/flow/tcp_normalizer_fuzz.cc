// libFuzzer target: the stream tracker under the normaliser's rules (normalizeTcp then trackTcp,
// as the pipeline runs them) against a byte-level model of what the server received.
//
// Input: [4 bytes client ISN] then records of [kind][a][b][c]. kind & 3 picks a client data
// segment (offset a + 256 * (b & 7) from the ISN, length c & 63, corrupted when kind & 4), a server
// ACK (acknowledging offset a + 256 * (b & 7)), a client FIN, or a client RST. Invariants: every
// byte the normaliser lets through at an offset the server has not acknowledged equals the byte
// forwarded there before, unless the flow was denied (Conflict) first; a ring is held exactly while
// unacknowledged bytes are kept; the pool never leaks.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/flow/tcp_normalizer.h"
#include "dataplane/flow/tcp_tracker.h"

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr uint32_t kSpan = 2048 + 64;

void check(bool ok) {
  if (!ok) std::abort();
}

lbg::packet::PacketView seg(uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t* data,
                            uint32_t len) {
  lbg::packet::PacketView v{};
  v.frame = data;
  v.frameLen = len;
  v.ipVersion = 4;
  v.ipProto = 6;
  v.tcpFlags = flags;
  v.seq = seq;
  v.ack = ack;
  v.payloadLen = len;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::flow;
  static std::unique_ptr<StreamBufferPool> rings =
      std::move(StreamBufferPool::create(2, 256).value());
  if (size < 4) return 0;
  uint32_t isn;
  std::memcpy(&isn, data, 4);
  const uint32_t sisn = 7;
  FlowMeta m{};
  StreamGuard g{};
  const uint8_t empty = 0;
  trackTcp(m, seg(kSyn, isn, 0, &empty, 0), true);
  trackTcp(m, seg(kSyn | kAck, sisn, isn + 1, &empty, 0), false);
  trackTcp(m, seg(kAck, isn + 1, sisn + 1, &empty, 0), true);

  std::vector<uint8_t> sent(kSpan, 0), have(kSpan, 0);
  uint8_t buf[64];
  bool denied = false;
  for (size_t pos = 4; pos + 4 <= size && !denied; pos += 4) {
    const uint8_t kind = data[pos], a = data[pos + 1], b = data[pos + 2], c = data[pos + 3];
    const uint32_t off = 1 + a + 256u * (b & 7);
    switch (kind & 3) {
      case 0: {
        const uint32_t len = c & 63;
        for (uint32_t i = 0; i < len; ++i) buf[i] = uint8_t((off + i) * 37 + 11);
        if ((kind & 4) && len > 0) buf[c % len] ^= 0x5a;
        const auto v = seg(kAck, isn + off, sisn + 1, buf, len);
        const uint32_t acked = m.clientAcked;
        const auto r = normalizeTcp(*rings, g, m, v, true);
        if (r == NormAction::Conflict) {
          denied = true;
          break;
        }
        if (r != NormAction::Pass) break;
        for (uint32_t i = 0; i < len; ++i) {
          const uint32_t o = off + i;
          if (o >= kSpan) continue;
          if (have[o] && o >= acked && !g.blind) check(sent[o] == buf[i]);
          if (!have[o]) {
            have[o] = 1;
            sent[o] = buf[i];
          }
        }
        trackTcp(m, v, true);
        break;
      }
      case 1: {
        const auto v = seg(kAck, sisn + 1, isn + off, &empty, 0);
        check(normalizeTcp(*rings, g, m, v, false) == NormAction::Pass);
        trackTcp(m, v, false);
        break;
      }
      case 2: {
        const auto v = seg(kFin | kAck, m.seqNext[0], sisn + 1, &empty, 0);
        if (normalizeTcp(*rings, g, m, v, true) == NormAction::Pass) trackTcp(m, v, true);
        break;
      }
      case 3: {
        const auto v = seg(kRst, isn + off, 0, &empty, 0);
        check(normalizeTcp(*rings, g, m, v, true) == NormAction::Pass);
        trackTcp(m, v, true);
        break;
      }
    }
    // A ring is held only while bytes are unacknowledged.
    if (g.ringPlus1 != 0) check(int32_t(m.seqNext[0] - m.isn[0] - m.clientAcked) > 0);
  }
  guardRelease(*rings, g);
  check(rings->available() == rings->buffers());
  return 0;
}
