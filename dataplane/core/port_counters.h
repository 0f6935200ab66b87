#pragma once

#include "dataplane/telemetry/counters.h"

// Counters of one worker's TX staging (runtime.cc's PortTxSink), kept beside the pipeline's
// rather than written into them: the pipeline's counters are its own.
// The HA role's (dataplane/core/ha_role.h), written by the same worker loop: a sub-list spliced in
// here, from which the `ha` section of `lbgctl stats` is derived (counter_sections.h).
#define LBG_HA_COUNTERS(X) \
  X(ha_standby_dropped, "frames received or generated while HA standby, dropped (forwards nothing)")
// The role itself, a current state kept by the service thread (runtime.cc).
#define LBG_HA_GAUGES(X) X(ha_standby, "1 while this gateway is the HA standby (forwards nothing)")

#define LBG_PORT_COUNTERS(X) \
  X(tx_dropped, "frames the port refused (TX queue full)") LBG_HA_COUNTERS(X)

namespace lbg::dataplane {
LBG_DECLARE_COUNTERS(PortCounters, LBG_PORT_COUNTERS);
LBG_DECLARE_GAUGES(HaGauges, "", LBG_HA_GAUGES);
}  // namespace lbg::dataplane
