#pragma once

// The ids stage's follower of HTTP on a flow allowed by address (pipeline_ids_http.cc): no name
// was judged, so the allow path runs no HTTP follower (http_follow.cc); the IDS finds every
// request head of the connection itself, as Suricata's libhtp does, so that each is scanned as
// sticky buffers before the bytes that complete it leave.

#include <cstdint>

#include "dataplane/core/ids_request.h"
#include "dataplane/core/ids_response.h"
#include "dataplane/ids/engine.h"
#include "dataplane/inspect/http/request_stream.h"

namespace lbg::dataplane {

// In the flow's IDS slot (pipeline_ids.cc's IdsFlow), default-initialised with it. A head cut
// across segments is gathered at the start of a body slot (IdsRequestFlow::slot, ≤ 8 KiB), which
// goes on as the request's body buffer when its body is gathered.
struct IdsHttpFollow {
  enum class Mode : uint8_t {
    Unprobed,  // the client's first bytes not seen yet
    Probe,     // they may begin a request line: gathered until it is told
    Http,      // taken for HTTP: each request head found by the walk
    Tunnel,    // after a CONNECT or Upgrade request: HTTP again only if a request line comes
    Off,       // not HTTP, or no longer followed
  };
  inspect::HttpRequestStream walk{};  // where the current request's body ends (zero: a head next)
  uint16_t headHeld = 0;              // bytes of a cut head gathered in the request's slot
  Mode mode = Mode::Unprobed;
  bool byContent = false;  // taken for HTTP: FlowTuple::app is Http, `http` rules apply
};

// What the follower works on: the flow's parts of its IDS slot and the worker's pools.
struct IdsHttpState {
  ids::FlowIdsState& st;
  IdsHttpFollow& follow;
  IdsRequestFlow& req;
  IdsResponseFlow& resp;  // requests noted in order, so a HEAD's response has no body
  IdsBodies& bodies;
  IdsRequestGather& gather;
  ids::Scratch& scratch;
};

}  // namespace lbg::dataplane
