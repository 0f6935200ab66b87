#include "dataplane/flow/stream_buffer.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace lbg::flow {

const char* toString(StreamStatus s) {
  switch (s) {
    case StreamStatus::Ok:
      return "ok";
    case StreamStatus::Conflict:
      return "conflict";
    case StreamStatus::OutOfWindow:
      return "out-of-window";
    case StreamStatus::Duplicate:
      return "duplicate";
  }
  return "unknown";
}

Result<std::unique_ptr<StreamBufferPool>> StreamBufferPool::create(uint32_t buffers,
                                                                   uint32_t bytesEach) {
  if (buffers == 0 || buffers > (1u << 24)) {
    return Error{"stream buffers: count must be 1..16777216"};
  }
  if (bytesEach == 0 || bytesEach > kMaxBytesEach) {
    return Error{"stream buffers: bytes each must be 1.." + std::to_string(kMaxBytesEach)};
  }
  return std::unique_ptr<StreamBufferPool>(new StreamBufferPool(buffers, bytesEach));
}

StreamBufferPool::StreamBufferPool(uint32_t buffers, uint32_t bytesEach)
    : bytesEach_(bytesEach), storage_(size_t(buffers) * bytesEach), inUse_(buffers, 0) {
  free_.reserve(buffers);
  for (uint32_t i = buffers; i-- > 0;) free_.push_back(int32_t(i));
}

int32_t StreamBufferPool::acquire() {
  if (free_.empty()) {
    ++counters.exhausted;
    return -1;
  }
  const int32_t idx = free_.back();
  free_.pop_back();  // capacity reserved at create: never allocates
  inUse_[size_t(idx)] = 1;
  return idx;
}

void StreamBufferPool::release(int32_t idx) {
  if (idx < 0 || size_t(idx) >= inUse_.size() || !inUse_[size_t(idx)]) {
    ++counters.bad_release;
    return;
  }
  inUse_[size_t(idx)] = 0;
  free_.push_back(idx);
}

bool StreamBufferPool::attach(StreamState& s, uint32_t baseSeq) {
  if (s.active()) detach(s);
  const int32_t idx = acquire();
  if (idx < 0) return false;
  std::memset(&s, 0, sizeof(s));
  s.baseSeq = baseSeq;
  s.bufferPlus1 = idx + 1;
  return true;
}

void StreamBufferPool::detach(StreamState& s) {
  if (s.active()) release(s.bufferPlus1 - 1);
  std::memset(&s, 0, sizeof(s));
}

StreamStatus streamAdd(StreamBufferPool& pool, StreamState& s, uint32_t seq, const uint8_t* data,
                       uint32_t len) {
  if (!s.active() || uint32_t(s.bufferPlus1 - 1) >= pool.buffers()) {
    return StreamStatus::OutOfWindow;
  }
  if (len == 0) return StreamStatus::Duplicate;
  const uint32_t cap = pool.bytesEach();

  // Offset of data[0] from stream byte 0, modulo 2^32, read as signed: sequence space wraps.
  const int32_t rel = int32_t(seq - s.baseSeq);
  uint32_t begin;
  if (rel < 0) {
    // Starts before byte 0 (retransmission of data we never buffered): keep the part from byte 0.
    const uint32_t skip = uint32_t(-int64_t(rel));
    if (skip >= len) return StreamStatus::Duplicate;
    data += skip;
    len -= skip;
    begin = 0;
  } else {
    begin = uint32_t(rel);
  }
  if (begin >= cap) return StreamStatus::OutOfWindow;
  // Bytes past the window are not buffered: the inspectors only ever need the first bytesEach.
  const uint32_t end = uint32_t(std::min<uint64_t>(uint64_t(begin) + len, cap));
  uint8_t* buf = pool.data(s.bufferPlus1 - 1);

  // Bytes already held must match, wherever they overlap.
  uint32_t covered = 0;
  auto check = [&](uint32_t pb, uint32_t pe) {
    const uint32_t lo = std::max(pb, begin), hi = std::min(pe, end);
    if (lo >= hi) return true;
    covered += hi - lo;
    return std::memcmp(buf + lo, data + (lo - begin), hi - lo) == 0;
  };
  if (!check(0, s.contiguous)) return StreamStatus::Conflict;
  for (uint8_t i = 0; i < s.rangeCount; ++i) {
    if (!check(s.ranges[i].begin, s.ranges[i].end)) return StreamStatus::Conflict;
  }
  if (covered == end - begin) return StreamStatus::Duplicate;

  // Work out the new layout before touching anything, so that a refusal leaves `s` unchanged.
  StreamState::Range next[StreamState::kMaxRanges + 1];
  uint8_t n = 0;
  uint32_t contiguous = s.contiguous;
  if (begin <= contiguous) {
    contiguous = std::max(contiguous, end);
    for (uint8_t i = 0; i < s.rangeCount; ++i) {
      const auto& r = s.ranges[i];
      if (r.begin <= contiguous) {
        contiguous = std::max<uint32_t>(contiguous, r.end);
      } else {
        next[n++] = r;
      }
    }
  } else {
    uint32_t mb = begin, me = end;
    bool placed = false;
    for (uint8_t i = 0; i < s.rangeCount; ++i) {
      const auto& r = s.ranges[i];
      if (r.end < mb) {
        next[n++] = r;  // entirely before, not touching
      } else if (r.begin > me) {
        if (!placed) {
          next[n++] = {uint16_t(mb), uint16_t(me)};
          placed = true;
        }
        next[n++] = r;
      } else {  // overlaps or touches: merge
        mb = std::min<uint32_t>(mb, r.begin);
        me = std::max<uint32_t>(me, r.end);
      }
    }
    if (!placed) next[n++] = {uint16_t(mb), uint16_t(me)};
    if (n > StreamState::kMaxRanges) return StreamStatus::OutOfWindow;
  }

  std::memcpy(buf + begin, data, end - begin);  // overlapping parts are identical (checked)
  s.contiguous = uint16_t(contiguous);
  s.rangeCount = n;
  std::copy(next, next + n, s.ranges);
  return StreamStatus::Ok;
}

std::span<const uint8_t> streamContiguous(const StreamBufferPool& pool, const StreamState& s) {
  if (!s.active() || uint32_t(s.bufferPlus1 - 1) >= pool.buffers()) return {};
  return {pool.data(s.bufferPlus1 - 1), s.contiguous};
}

}  // namespace lbg::flow
