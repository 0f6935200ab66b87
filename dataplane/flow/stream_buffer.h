#pragma once

// The client → server byte stream of a flow that has no verdict yet, assembled in sequence order
// from TCP segments that may arrive out of order, duplicated, overlapping, or one byte at a time.
//
// Evasion stance: bytes that arrive twice must be identical. A segment that rewrites bytes already
// seen (the classic overlap ambiguity that end hosts resolve differently) makes streamAdd() return
// Conflict and the caller denies the flow; it never picks one version.
//
// Memory: a pool of fixed-size buffers reserved at create(); a flow borrows one while its verdict
// is pending and gives it back after. The per-flow StreamState is a small POD that lives inside
// the flow table entry; all-zero bytes mean "no buffer attached".

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/telemetry/counters.h"
#include "policy/base/result.h"

namespace lbg::flow {

// Counters of one worker's stream buffer pool, exported as stream_buffer_<name>.
#define LBG_STREAM_BUFFER_COUNTERS(X)                                                       \
  X(exhausted, "stream buffers refused: the pool was empty")                                \
  X(bad_release, "stream buffers released that were not in use (ignored)")

LBG_DECLARE_PREFIXED_COUNTERS(StreamBufferCounters, "stream_buffer_", LBG_STREAM_BUFFER_COUNTERS);

struct StreamState {
  static constexpr uint8_t kMaxRanges = 8;  // out-of-order islands beyond the contiguous prefix

  uint32_t baseSeq;     // sequence number of stream byte 0
  int32_t bufferPlus1;  // pool index + 1; 0 = inactive
  uint16_t contiguous;  // stream bytes [0, contiguous) are present
  uint8_t rangeCount;
  uint8_t pad;
  struct Range {
    uint16_t begin, end;  // [begin, end), sorted, disjoint, not touching, all > contiguous
  } ranges[kMaxRanges];

  bool active() const { return bufferPlus1 != 0; }
};
static_assert(sizeof(StreamState) == 44);

enum class StreamStatus : uint8_t {
  Ok,           // new bytes stored (possibly only the part inside the window)
  Conflict,     // bytes differ from bytes already held: evasion, deny the flow
  OutOfWindow,  // no byte of the segment fits the buffer, too many holes, or no buffer attached
  Duplicate     // nothing new: every byte was already held (and matched), or lies before byte 0
};
const char* toString(StreamStatus s);

class StreamBufferPool {
 public:
  static constexpr uint32_t kMaxBytesEach = 65535;  // stream offsets are 16-bit in StreamState

  static Result<std::unique_ptr<StreamBufferPool>> create(uint32_t buffers, uint32_t bytesEach);

  // A free buffer's index, or -1 when all are in use (the caller counts it and fails closed).
  int32_t acquire();
  // Gives a buffer back. Out-of-range or already-free indexes are ignored (and counted).
  void release(int32_t idx);

  // acquire() + reset `s` to an empty stream starting at `baseSeq`. False when exhausted.
  bool attach(StreamState& s, uint32_t baseSeq);
  // release() + reset `s` to inactive. Harmless on an inactive state.
  void detach(StreamState& s);

  uint8_t* data(int32_t idx) { return storage_.data() + size_t(idx) * bytesEach_; }
  const uint8_t* data(int32_t idx) const { return storage_.data() + size_t(idx) * bytesEach_; }
  uint32_t bytesEach() const { return bytesEach_; }
  uint32_t buffers() const { return uint32_t(inUse_.size()); }
  uint32_t available() const { return uint32_t(free_.size()); }

  StreamBufferCounters counters;

 private:
  StreamBufferPool(uint32_t buffers, uint32_t bytesEach);

  uint32_t bytesEach_;
  std::vector<uint8_t> storage_;
  std::vector<int32_t> free_;
  std::vector<uint8_t> inUse_;
};

// Adds one segment's payload. `seq` is the TCP sequence number of data[0]; wrap-around is handled
// (offsets are taken modulo 2^32 from baseSeq; a segment more than 2^31 behind counts as ahead).
StreamStatus streamAdd(StreamBufferPool& pool, StreamState& s, uint32_t seq, const uint8_t* data,
                       uint32_t len);

// The in-order bytes from stream byte 0 (empty while byte 0 is missing or when inactive).
std::span<const uint8_t> streamContiguous(const StreamBufferPool& pool, const StreamState& s);

}  // namespace lbg::flow
