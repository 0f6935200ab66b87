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
  int32_t service;     // matched service index in that snapshot, -1 for none
  // Application identification (nDPI) over the flow's first packets: the slot while it runs,
  // then the result, kept for the end event.
  uint32_t appSlotPlus1;  // 0 = no slot held
  // A flow is a resolver's (DNS over TCP) or a followed HTTP connection, never both: their
  // reading positions share these bytes (the entry must stay within four cache lines).
  union {
    struct {
      // DNS over TCP: where the next message starts, per direction (0 client, 1 resolver),
      // while it is known.
      uint32_t dnsNextSeq[2];
      DnsTcpReading dnsTcp[2];
    };
    struct {
      // HTTP follow (http_follow.cc): where the current request's body ends (FlowMeta::follow
      // says it is in use) and the first client byte not judged yet.
      inspect::HttpRequestStream http;
      uint32_t httpNextSeq;
    };
  };
  // Client bytes while the verdict is pending, and while a later HTTP head is held.
  flow::StreamState stream;
  HoldPool::Queue hold;      // client packets held while the verdict is pending
  uint16_t appMaster, appApp;
  telemetry::Reason reason;
  telemetry::AppProto appProto;
  // One bit each: with the fields above they fill the entry's last cache line exactly.
  bool fromInside : 1;          // the initiator is on the inside port
  bool serverSawHandshake : 1;  // a deny must reset the server side too
  bool resetDone : 1;           // resets are sent once per flow
  bool appGuessed : 1;
  bool appDone : 1;  // identification finished (appMaster/appApp final)
  bool guardCounted : 1;  // counted against its inside source in the guard; released at its end
  bool idsHeld : 1;       // has IDS state in the worker's pool (pipeline_ids.cc)
  bool idsDone : 1;       // the IDS no longer scans it (pass rule, depth, fail-open fault)
};

}  // namespace lbg::dataplane
