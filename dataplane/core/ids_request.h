#pragma once

// The HTTP request side of the ids stage (pipeline_http_request.cc): per flow, where an upload's
// body is gathered (a slot of the worker's IdsBodies, with the request's head); per worker, the
// sink the request walk (inspect/http/request_stream.h) hands the body's bytes to.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "dataplane/core/ids_bodies.h"
#include "dataplane/ids/engine.h"
#include "dataplane/ids/flow_state.h"
#include "dataplane/ids/http_response_buffers.h"
#include "dataplane/inspect/http/request_stream.h"

namespace lbg::dataplane {

// In the flow's IDS slot (pipeline_ids.cc's IdsFlow), default-initialised with it. A slot is held
// from the head of a request whose body did not come with it until that body ends or reaches
// the inspection limit, where it is scanned.
struct IdsRequestFlow {
  uint32_t bodyLen = 0;                // body bytes gathered (≤ the limit)
  uint32_t checkedLen = 0;             // of which looked at for an early block (earlyHit)
  uint16_t headLen = 0;                // the request's head, at the slot's start
  uint16_t slot = IdsBodies::kNoSlot;  // the request in flight's, while its body is gathered
  ids::RequestCodings codings;         // its head's Content-Encoding: decoded at the scan

  bool gathering() const { return slot != IdsBodies::kNoSlot; }
  void release(IdsBodies& bodies) {
    bodies.release(slot);
    bodyLen = 0;
    checkedLen = 0;
    headLen = 0;
    codings = {};
  }
};

// http.request_body when the whole body follows its head in `request` (a Content-Length body):
// a buffer of the head's scan. False when the request has a body that did not come whole with
// it (longer, chunked, or encoded): gathered as the walk passes over it
// (pipeline_http_request.cc).
bool setRequestBody(ids::BufferSet& b, const inspect::HttpRequestHead& head,
                    std::span<const uint8_t> request);

// Copies the body pieces of one walk into the bound flow's slot, up to the limit (the walk goes
// on past it: the framing is still followed; the rest is not part of the buffer).
class IdsRequestGather final : public inspect::HttpBodySink {
 public:
  void bind(ids::FlowIdsState& st, IdsRequestFlow& f, IdsBodies& bodies) {
    st_ = &st;
    flow_ = &f;
    bodies_ = &bodies;
  }
  void body(std::span<const uint8_t> piece) override {
    const size_t n = std::min<size_t>(piece.size(), bodies_->limit() - flow_->bodyLen);
    std::memcpy(bodies_->data(flow_->slot) + flow_->bodyLen, piece.data(), n);
    flow_->bodyLen += uint32_t(n);
  }
  ids::FlowIdsState& state() { return *st_; }
  IdsRequestFlow& flow() { return *flow_; }

 private:
  ids::FlowIdsState* st_ = nullptr;
  IdsRequestFlow* flow_ = nullptr;
  IdsBodies* bodies_ = nullptr;
};

}  // namespace lbg::dataplane
