#pragma once

#include <cstdint>

#include "dataplane/core/hold_queue.h"
#include "dataplane/flow/flow_meta.h"
#include "dataplane/flow/stream_buffer.h"
#include "dataplane/inspect/http/request_stream.h"
#include "dataplane/inspect/tls/record_follow.h"
#include "dataplane/telemetry/event.h"

namespace lbg::dataplane {

// The verdict is stored in the entry's FlowMeta, on its hot cache lines.
using Verdict = flow::Verdict;
enum class DnsTcpReading : uint8_t { Unknown, Reading, Stopped };
// FlowMeta::follow bits: what an allowed flow still needs (0: nothing, the established fast path).
inline constexpr uint8_t kFollowHttp = 1;       // later client request heads (http_follow.cc)
inline constexpr uint8_t kFollowCert = 2;       // the server's flight (pipeline_cert.cc)
inline constexpr uint8_t kFollowCertAsked = 4;  // ... its certificate is with the verifier
inline constexpr uint8_t kFollowTls = 8;        // later client TLS records (tls_follow.cc)
// The stream buffer and hold queue hold the server's flight (kFollowCert), not client bytes
// (kFollowTls): one side at a time; the other side's payload is dropped meanwhile and resent.
inline constexpr uint8_t kFollowServerHeld = 16;
// The client's ClientHello is held while the prober proves the TLS 1.3 destination
// (pipeline_probe.cc): nothing else crosses meanwhile.
inline constexpr uint8_t kFollowProbe = 32;
// FlowMeta::flags bits: the pipeline's per-packet state of a flow, on the entry's hot lines (the
// established and the denied path read nothing of FlowState below). Whether the initiator is on
// the inside port is FlowMeta::initiatorInside.
inline constexpr uint8_t kFlowResetDone = 1;  // resets are sent once per flow
inline constexpr uint8_t kFlowIdsHeld = 2;    // has IDS state in the pool (pipeline_ids.cc)
inline constexpr uint8_t kFlowIdsDone = 4;    // the IDS no longer scans it (pass, depth, fault)
inline constexpr uint8_t kFlowHolding = 8;    // FlowState::hold may hold packets (drained: clear)

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
  // A flow is a resolver's (DNS over TCP), a followed HTTP connection, a followed TLS one or an
  // intercepted one (FlowMeta::punted), never two: their state shares these bytes (the entry must
  // stay within four cache lines; hence the certificate check's request is found by flow id,
  // pipeline_cert.cc).
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
    struct {
      // TLS follow (tls_follow.cc): the record walker's state at tlsNextSeq, the first client
      // byte not judged yet, and a keyed hash of the judged server name (a later ClientHello
      // must name the same one).
      inspect::TlsFollow tls;
      uint32_t tlsNextSeq;
      uint32_t tlsName;
    };
    // Intercepted (pipeline_intercept.cc): the MAC addresses of the client's first frame, put
    // back on the frames lbg-proxy's kernel sends out through the exception port.
    struct {
      uint8_t clientMac[6];
      uint8_t serverMac[6];
      bool proxyAnswered;  // the proxy's kernel answered the client's SYN (it is listening)
    } punt;
  };
  // Client bytes while the verdict is pending, and while a later HTTP head is held; the server's
  // flight while its certificate is checked.
  flow::StreamState stream;
  HoldPool::Queue hold;      // client packets held while the verdict is pending; server
                             // packets while the certificate is checked
  uint16_t appMaster, appApp;
  telemetry::Reason reason;
  telemetry::AppProto appProto;
  // One bit each: with the fields above they fill the entry's last cache line. Read when a flow
  // is judged or ends; the per-packet bits are FlowMeta::flags (kFlow* above).
  bool serverSawHandshake : 1;  // a deny must reset the server side too
  bool appGuessed : 1;
  bool appDone : 1;  // identification finished (appMaster/appApp final)
  bool guardCounted : 1;  // counted against its inside source in the guard; released at its end
};

}  // namespace lbg::dataplane
