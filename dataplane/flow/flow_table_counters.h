#pragma once

#include "dataplane/telemetry/counters.h"

// Counters of one worker's flow table (flow_table.h), exported as flow_table_<name>. The
// pipeline's flows_* counters count flows by verdict; these count the table's own operations.
#define LBG_FLOW_TABLE_COUNTERS(X)                                                          \
  X(inserted, "flow table entries inserted")                                               \
  X(evicted, "flow table entries evicted from two full buckets")                           \
  X(expired, "flow table entries aged out by the idle sweep")                              \
  X(erased, "flow table entries erased (flow closed)")                                     \
  X(relocated, "flow table entries moved to their other bucket to make room")              \
  X(embryonic_evicted, "embryonic entries (no handshake, no answer) evicted, oldest first")  \
  X(refused, "new flows refused: their candidate slots held only established flows")

namespace lbg::flow {
LBG_DECLARE_PREFIXED_COUNTERS(FlowTableCounters, "flow_table_", LBG_FLOW_TABLE_COUNTERS);
}  // namespace lbg::flow
