#pragma once

#include "dataplane/telemetry/counters.h"

// The enforcement log's own counters (LogWriter::counters()), kept by the service thread and
// exported beside the workers' as log_<name>: a full disk is never silent.
#define LBG_LOG_COUNTERS(X)                                                                 \
  X(records_written, "enforcement log records made durable")                                \
  X(records_lost, "enforcement log records lost (disk full, I/O error)")                    \
  X(syslog_dropped, "log records not exported to syslog (queue full)")                      \
  X(alarms, "enforcement log alarms raised")

#define LBG_LOG_GAUGES(X) \
  X(alarm, "1 while log records are lost and the alarm record is not yet in the log")

namespace lbg::telemetry {
LBG_DECLARE_PREFIXED_COUNTERS(LogCounters, "log_", LBG_LOG_COUNTERS);
LBG_DECLARE_GAUGES(LogGauges, "log_", LBG_LOG_GAUGES);
}  // namespace lbg::telemetry
