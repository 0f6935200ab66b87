#pragma once

// One flow's state as the active box of an HA pair sends it to the standby (flow-state sync,
// ARCHITECTURE.md "Redundancy"): everything the standby needs to continue an allowed flow after
// a takeover (key, direction, verdict's service and policy version, TCP state and sequence
// tracking, the HTTP follower's position), and nothing it does not (no payload, no held packets).
//
// Fixed size, plain data, no padding: it is copied as bytes into the per-worker rings and into
// the datagrams (both boxes of a pair run the same build on the same architecture; the datagram
// header carries the record size and a format version, and the receiver refuses another).

#include <cstdint>
#include <type_traits>

#include "dataplane/flow/flow_key.h"

namespace lbg::ha {

enum class SyncOp : uint8_t {
  Upsert = 1,  // install or update the flow (allowed)
  Delete = 2,  // the flow ended, closed or was denied after its allow: the standby forgets it
};

// SyncRecord::flags
inline constexpr uint8_t kSyncInitiatorIsLo = 1;  // FlowMeta::initiatorIsLo
inline constexpr uint8_t kSyncFromInside = 2;     // the initiator is on the inside port
inline constexpr uint8_t kSyncSawSyn = 4;         // the flow started with the client's SYN
inline constexpr uint8_t kSyncFollowHttp = 8;     // later HTTP request heads are judged
inline constexpr uint8_t kSyncAppDone = 16;       // application identification finished
inline constexpr uint8_t kSyncAppGuessed = 32;
inline constexpr uint8_t kSyncFlagsKnown = 63;

struct SyncRecord {
  flow::FlowKey key;       // canonical, as in the flow table
  uint64_t flowId;         // the active's flow id: the standby's log ends it under the same id
  uint64_t policyVersion;  // the version that judged it: installed only under the same version
  uint64_t serviceId;      // Snapshot::serviceId() of the allowing service
  uint64_t pkts[2], bytes[2];
  uint64_t httpStream;     // inspect::HttpRequestStream, when kSyncFollowHttp
  uint32_t seqNext[2], finSeq[2], isn[2];
  uint32_t clientAcked;
  uint32_t httpNextSeq;
  uint16_t appMaster, appApp;  // nDPI protocol ids (the same library on both boxes)
  uint8_t op;                  // SyncOp
  uint8_t worker;              // the active's worker: the standby hands it to the same index
  uint8_t tcpState;            // flow::TcpState
  uint8_t seqKnown, finSeen, finAcked;
  uint8_t flags;
  uint8_t reason;    // telemetry::Reason of the allow (logged at the flow's end)
  uint8_t appProto;  // telemetry::AppProto (DNS flows keep binding answers)
  // The hosts at the flow's two ends as the frames name them, for the learning frames the
  // standby sends when it takes over (learn_frame.h): only in a flow's first record (zero in the
  // re-syncs: the flow entry has no room to keep them), unicast or zero. vlanTpid: LearnTpid of
  // the outer tag when the flow is double-tagged.
  uint8_t vlanTpid;
  uint8_t insideMac[6], outsideMac[6];
  uint8_t pad[6];
};
static_assert(sizeof(SyncRecord) == 168);
static_assert(std::has_unique_object_representations_v<SyncRecord>,
              "no hidden padding: records are copied and authenticated as bytes");
static_assert(std::is_trivially_copyable_v<SyncRecord>);

// False when a field is out of its range (an authenticated record from another build, or a bug):
// the receiver counts the datagram malformed and installs none of it.
bool validRecord(const SyncRecord& r);

}  // namespace lbg::ha
