#pragma once

#include "dataplane/telemetry/counters.h"

// Counters of one worker's TX staging (runtime.cc's PortTxSink), kept beside the pipeline's
// rather than written into them: the pipeline's counters are its own.
#define LBG_PORT_COUNTERS(X) X(tx_dropped, "frames the port refused (TX queue full)")

namespace lbg::dataplane {
LBG_DECLARE_COUNTERS(PortCounters, LBG_PORT_COUNTERS);
}  // namespace lbg::dataplane
