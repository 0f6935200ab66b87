#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/event_sink.h"
#include "dataplane/core/pipeline.h"
#include "policy/base/result.h"
#include "policy/snapshot.h"

namespace lbg::dataplane {

// `lbg-gateway replay`: the live pipeline code over a capture (pcap or pcapng, read with libpcap),
// direction from segment.inside, forwarded and generated frames written to a pcap in order, time
// taken from the capture so that timeouts and DNS TTLs behave as they did on the wire.
struct ReplayOptions {
  std::string capturePath;
  std::string outPath;  // empty: forwarded frames are counted, not written
  PipelineConfig pipeline;
  // When set, a frame's ingress port is its source MAC's: one of these (the upstream router's)
  // is the outside port, any other the inside port, as live; a host of the segment that forges
  // an outside address is then seen as the gateway would see it. Empty: from segment.inside.
  std::vector<std::array<uint8_t, 6>> outsideMacs;
  // PEM bundle the certificate verifier trusts (tests: a generated test root); empty: the
  // passive certificate check is off. Certificates are judged at the capture's time.
  std::string trustStore;
  uint32_t certRequests = 64;
};

struct ReplaySummary {
  uint64_t packetsIn = 0;
  uint64_t skipped = 0;  // unsupported link types, oversize frames
  uint64_t forwarded = 0;
  uint64_t generated = 0;  // resets
  PipelineCounters counters;
  std::array<uint64_t, Pipeline::kDecodeReasons> decodeDrops{};
  std::string oneLine() const;
};

// Needs an initialised EAL (for the mbuf pool). Events go to `events` as they are produced.
Result<ReplaySummary> runReplay(std::shared_ptr<const policy::Snapshot> snapshot,
                                const ReplayOptions& options, EventSink& events);

}  // namespace lbg::dataplane
