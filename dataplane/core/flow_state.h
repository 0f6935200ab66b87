#pragma once

#include <cstdint>

#include "dataplane/core/hold_queue.h"
#include "dataplane/flow/flow_meta.h"
#include "dataplane/flow/stream_buffer.h"
#include "dataplane/inspect/http/request_stream.h"
#include "dataplane/telemetry/event.h"

namespace lbg::dataplane {

// The verdict is stored in the entry's FlowMeta, on its hot cache lines.
using Verdict = flow::Verdict;
enum class DnsTcpReading : uint8_t { Unknown, Reading, Stopped };

// The pipeline's per-flow state, stored inline in the flow table entry (Payload of FlowTable),
// after the hot lines: read when a flow starts, is judged, re-checked after a reload or ends.
// Plain data: the table zero-initialises it and copies it on eviction. Widest fields first.
struct FlowState {
  uint64_t flowId;
  uint64_t policyVersion;  // snapshot that gave the verdict
  uint64_t firstSeenNs;
  uint64_t serviceId;  // Snapshot::serviceId() of the allowing service: found again after a reload
  uint64_t appRisk;    // nDPI's risk bits
  // HTTP follow: where the current request's body ends (FlowMeta::follow says it is in use).
  inspect::HttpRequestStream http;
  int32_t service;     // matched service index in that snapshot, -1 for none
  // Application identification (nDPI) over the flow's first packets: the slot while it runs,
  // then the result, kept for the end event.
  uint32_t appSlotPlus1;  // 0 = no slot held
  // A flow is a resolver's (DNS) or a followed HTTP connection, never both.
  union {
    // DNS over TCP: where the resolver's next message starts, while it is known.
    uint32_t dnsNextSeq;
    // HTTP follow (http_follow.cc): the first client byte not judged yet.
    uint32_t httpNextSeq;
  };
  // Client bytes while the verdict is pending, and while a later HTTP head is held.
  flow::StreamState stream;
  HoldPool::Queue hold;      // client packets held while the verdict is pending
  uint16_t appMaster, appApp;
  telemetry::Reason reason;
  telemetry::AppProto appProto;
  bool fromInside;          // the initiator is on the inside port
  bool serverSawHandshake;  // a deny must reset the server side too
  bool resetDone;           // resets are sent once per flow
  bool appGuessed;
  bool appDone;  // identification finished (appMaster/appApp final)
  DnsTcpReading dnsTcp;
};

}  // namespace lbg::dataplane
