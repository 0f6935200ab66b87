#pragma once

#include "dataplane/telemetry/counters.h"

// Policy sync between the control planes of an HA pair (control/policy_sync/README.md), shown in
// the `ha` section of `lbgctl stats` and in Prometheus. Written by the service thread only.
#define LBG_HA_POLICY_COUNTERS(X)                                                               \
  X(ha_policy_pushed, "policy versions sent to the HA peer (commits, approvals, catch-ups)")    \
  X(ha_policy_acked, "policy versions the HA peer validated, stored and enforced")              \
  X(ha_policy_refused, "policy versions the HA peer refused (the commit failed on both boxes)") \
  X(ha_policy_unreachable, "policy-sync exchanges with no authenticated answer from the peer")  \
  X(ha_policy_announced, "policy announcements the HA peer answered")                           \
  X(ha_policy_received, "policy versions received from the HA peer")                            \
  X(ha_policy_adopted, "policy versions received from the HA peer and enforced here")           \
  X(ha_policy_rejected, "policy versions received from the HA peer and refused here")           \
  X(ha_policy_rules_stored, "IDS rule files received with a policy version, checked and stored") \
  X(ha_policy_rules_refused,                                                                    \
    "policy versions refused here for their IDS rule files (hash, store, plain file differs)")  \
  X(ha_certs_flush_sent, "`certs flush` requests sent to the HA standby")                       \
  X(ha_certs_flush_received, "`certs flush` requests received from the HA active")            \
  X(ha_policy_auth_failed,                                                                      \
    "policy-sync frames dropped: HMAC did not verify (wrong key, forged, replayed)")            \
  X(ha_policy_malformed, "policy-sync frames dropped: not ours, too large, or bad content")

#define LBG_HA_POLICY_GAUGES(X) \
  X(ha_policy_divergent, "1 while this standby runs another policy than the active announced")

namespace lbg::control {
LBG_DECLARE_COUNTERS(PolicySyncCounters, LBG_HA_POLICY_COUNTERS);
LBG_DECLARE_GAUGES(PolicySyncGauges, "", LBG_HA_POLICY_GAUGES);
}  // namespace lbg::control
