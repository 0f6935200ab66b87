#pragma once

// The HTTP response side of the ids stage (pipeline_http_response.cc): per flow, the response
// follower's state and where its body is gathered (a slot of the worker's IdsBodies).

#include <cstdint>

#include "dataplane/core/ids_bodies.h"
#include "dataplane/ids/engine.h"
#include "dataplane/ids/http_response_buffers.h"

namespace lbg::dataplane {

// Whether some rule reads a response's head buffers to_client (http.header, http.start,
// http.server, ...: http_head_buffers.h): then the head is gathered with the body.
inline bool idsReadsResponseHead(const ids::Engine& engine) {
  for (ids::Buffer b :
       {ids::Buffer::HttpHeader, ids::Buffer::HttpHeaderNames, ids::Buffer::HttpCookie,
        ids::Buffer::HttpContentType, ids::Buffer::HttpStart, ids::Buffer::HttpHeaderRaw,
        ids::Buffer::HttpProtocol, ids::Buffer::HttpConnection, ids::Buffer::HttpContentLen,
        ids::Buffer::HttpLocation, ids::Buffer::HttpServer, ids::Buffer::HttpResponseLine,
        ids::Buffer::HttpStatMsg})
    if (engine.inspects(b, ids::kToClient)) return true;
  return false;
}

// In the flow's IDS slot (pipeline_ids.cc's IdsFlow), default-initialised with it.
struct IdsResponseFlow {
  ids::HttpResponseState http;
  uint32_t bodyLen = 0;                    // body bytes gathered in the slot (≤ the limit)
  uint16_t headLen = 0;                    // head bytes gathered in the slot (≤ kHeadLimit)
  uint16_t bodySlot = IdsBodies::kNoSlot;  // the slot of the response in flight
  bool scanned = false;                    // the response in flight was scanned (at its limit)
  bool unbuffered = false;                 // no slot was free: its body is not inspected

  void release(IdsBodies& bodies) {
    bodies.release(bodySlot);
    bodyLen = 0;
    headLen = 0;
  }
};

}  // namespace lbg::dataplane
