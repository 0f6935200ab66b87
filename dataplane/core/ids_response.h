#pragma once

// The HTTP response side of the ids stage (pipeline_http_response.cc): per flow, the response
// follower's state and where its body is gathered; per worker, the bounded pool of body buffers.

#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/flow/huge_array.h"
#include "dataplane/ids/body_decoder.h"
#include "dataplane/ids/engine.h"
#include "dataplane/ids/http_head_buffers.h"
#include "dataplane/ids/http_response_buffers.h"

namespace lbg::dataplane {

// Whether some rule reads a response's header buffers (http.header, http.header_names,
// http.cookie, http.content_type to_client): then the head is gathered with the body.
inline bool idsReadsResponseHead(const ids::Engine& engine) {
  for (ids::Buffer b : {ids::Buffer::HttpHeader, ids::Buffer::HttpHeaderNames,
                        ids::Buffer::HttpCookie, ids::Buffer::HttpContentType})
    if (engine.inspects(b, ids::kToClient)) return true;
  return false;
}

// In the flow's IDS slot (pipeline_ids.cc's IdsFlow), default-initialised with it.
struct IdsResponseFlow {
  static constexpr uint16_t kNoBody = UINT16_MAX;
  ids::HttpResponseState http;
  uint32_t bodyLen = 0;         // body bytes gathered in the slot (≤ the inspection limit)
  uint16_t headLen = 0;         // head bytes gathered in the slot (≤ kHeadLimit)
  uint16_t bodySlot = kNoBody;  // IdsResponseBodies slot of the response in flight
  bool scanned = false;         // the response in flight was scanned (at its limit)
  bool unbuffered = false;      // no slot was free: its body is not inspected
};

// A worker's body buffers: `slots` of `limit` bytes each (and kHeadLimit for the head when a
// rule reads the response's header buffers), reserved (not written) once, so a response's body
// is gathered up to the inspection limit and scanned as one buffer whatever its segments. A flow
// holds a slot only while a response is in flight. A body with content codings is gathered as
// sent and decoded at its scan, into the worker's one decoder; a head's header buffers are built
// at the scan into the worker's head scratch, the one its request heads use (never at once).
class IdsResponseBodies {
 public:
  static constexpr uint32_t kHeadLimit = ids::HttpHeadScratch::kMaxHead;
  IdsResponseBodies(uint32_t slots, uint32_t limit, ids::HttpHeadScratch& headScratch)
      : limit_(limit),
        // Engine::kScanPad past the last slot: every body has that many readable bytes after it
        // (the next slot's head, or this), so Hyperscan scans it in place (BufferSet::padded).
        bytes_(size_t(slots) * (limit + kHeadLimit) + ids::Engine::kScanPad),
        decoder_(limit),
        headScratch_(headScratch) {
    free_.reserve(slots);
    reset(slots);
  }
  uint32_t limit() const { return limit_; }
  // A free slot, or IdsResponseFlow::kNoBody.
  uint16_t acquire() {
    if (free_.empty()) return IdsResponseFlow::kNoBody;
    const uint16_t s = free_.back();
    free_.pop_back();  // capacity reserved: no allocation
    return s;
  }
  void release(IdsResponseFlow& f) {
    if (f.bodySlot != IdsResponseFlow::kNoBody) free_.push_back(f.bodySlot);
    f.bodySlot = IdsResponseFlow::kNoBody;
    f.bodyLen = 0;
    f.headLen = 0;
  }
  uint8_t* data(uint16_t slot) { return head(slot) + kHeadLimit; }
  uint8_t* head(uint16_t slot) { return bytes_.data() + size_t(slot) * (limit_ + kHeadLimit); }
  ids::BodyDecoder& decoder() { return decoder_; }
  ids::HttpHeadScratch& headScratch() { return headScratch_; }
  // Every slot free again (a new engine: the flows start afresh).
  void reset(uint32_t slots) {
    free_.clear();
    for (uint32_t i = slots; i-- > 0;) free_.push_back(uint16_t(i));
  }

 private:
  uint32_t limit_;
  flow::HugeArray<uint8_t> bytes_;
  std::vector<uint16_t> free_;
  ids::BodyDecoder decoder_;
  ids::HttpHeadScratch& headScratch_;
};

}  // namespace lbg::dataplane
