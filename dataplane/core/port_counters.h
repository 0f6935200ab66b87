#pragma once

#include "dataplane/telemetry/counters.h"

// Counters of one worker's loop outside its pipeline (runtime.cc: the TX staging, the steering),
// kept beside the pipeline's rather than written into them: the pipeline's counters are its own.
// The HA role's (dataplane/core/ha_role.h), written by the same worker loop: a sub-list spliced in
// here, from which the `ha` section of `lbgctl stats` is derived (counter_sections.h).
#define LBG_HA_COUNTERS(X) \
  X(ha_standby_dropped, "frames received or generated while HA standby, dropped (forwards nothing)")
// The role itself, a current state kept by the service thread (runtime.cc).
#define LBG_HA_GAUGES(X) X(ha_standby, "1 while this gateway is the HA standby (forwards nothing)")

// Steering (several workers, flow_steer.h): frames a worker received for a flow another worker
// owns (the exception port's, a port without RSS's) are handed over through that worker's ring.
#define LBG_STEER_COUNTERS(X)                                                                    \
  X(steered, "frames handed to the worker that owns their flow (exception port, ports without RSS)") \
  X(steer_dropped, "frames dropped because the owning worker's steering ring was full (TCP resends)") \
  X(exception_rx, "frames from the exception port a worker processed (its queue's and handed over)")

#define LBG_PORT_COUNTERS(X) \
  X(tx_dropped, "frames the port refused (TX queue full)") LBG_STEER_COUNTERS(X) LBG_HA_COUNTERS(X)

namespace lbg::dataplane {
LBG_DECLARE_COUNTERS(PortCounters, LBG_PORT_COUNTERS);
LBG_DECLARE_GAUGES(HaGauges, "", LBG_HA_GAUGES);
}  // namespace lbg::dataplane
