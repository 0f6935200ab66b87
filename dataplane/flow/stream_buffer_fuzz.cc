// libFuzzer target: streamAdd() against a byte-level reference model.
//
// Input: [4 bytes base seq] then records of [offset lo][offset hi][len][flip]. Each record adds
// `len` bytes at base + offset - 64 (so segments before byte 0 happen too), taken from a fixed
// pseudo-random "true" stream; `flip` != 0 corrupts one byte of the segment. Invariants: a
// Conflict is reported exactly when the segment disagrees with bytes already held; the contiguous
// prefix always equals the model's known prefix, byte for byte.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/flow/stream_buffer.h"

namespace {

constexpr uint32_t kCap = 512;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<lbg::flow::StreamBufferPool> pool =
      std::move(lbg::flow::StreamBufferPool::create(1, kCap).value());
  if (size < 4) return 0;
  uint32_t base;
  std::memcpy(&base, data, 4);
  lbg::flow::StreamState s{};
  check(pool->attach(s, base));

  uint8_t truth[kCap + 512];
  for (uint32_t i = 0; i < sizeof(truth); ++i) truth[i] = uint8_t(i * 131 + (i >> 3));
  std::vector<uint8_t> known(kCap, 0), val(kCap, 0);

  for (size_t pos = 4; pos + 4 <= size; pos += 4) {
    const int32_t off = int32_t(data[pos] | data[pos + 1] << 8) % (kCap + 200) - 64;
    const uint32_t len = data[pos + 2];
    const uint8_t flip = data[pos + 3];
    uint8_t seg[256];
    for (uint32_t i = 0; i < len; ++i) seg[i] = truth[(off + 64 + int32_t(i)) % sizeof(truth)];
    if (flip && len) seg[flip % len] ^= flip;

    // What the model says about the in-window part of the segment.
    bool conflict = false, anyNew = false;
    for (uint32_t i = 0; i < len; ++i) {
      const int64_t at = int64_t(off) + i;
      if (at < 0 || at >= int64_t(kCap)) continue;
      if (known[size_t(at)] && val[size_t(at)] != seg[i]) conflict = true;
      if (!known[size_t(at)]) anyNew = true;
    }
    const lbg::flow::StreamState before = s;
    const auto st = lbg::flow::streamAdd(*pool, s, base + uint32_t(off), seg, len);
    switch (st) {
      case lbg::flow::StreamStatus::Conflict:
        check(conflict);
        check(std::memcmp(&before, &s, sizeof(s)) == 0);
        break;
      case lbg::flow::StreamStatus::OutOfWindow:
        check(!conflict);
        check(std::memcmp(&before, &s, sizeof(s)) == 0);
        break;
      case lbg::flow::StreamStatus::Duplicate:
        check(!conflict && !anyNew);
        break;
      case lbg::flow::StreamStatus::Ok:
        check(!conflict && anyNew);
        for (uint32_t i = 0; i < len; ++i) {
          const int64_t at = int64_t(off) + i;
          if (at < 0 || at >= int64_t(kCap)) continue;
          known[size_t(at)] = 1;
          val[size_t(at)] = seg[i];
        }
        break;
    }
    // The contiguous prefix is exactly the model's known prefix.
    uint32_t prefix = 0;
    while (prefix < kCap && known[prefix]) ++prefix;
    const auto c = lbg::flow::streamContiguous(*pool, s);
    check(c.size() == prefix);
    for (uint32_t i = 0; i < prefix; ++i) check(c[i] == val[i]);
    check(s.rangeCount <= lbg::flow::StreamState::kMaxRanges);
  }
  pool->detach(s);
  check(pool->available() == 1);
  return 0;
}
