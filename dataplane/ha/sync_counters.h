#pragma once

#include "dataplane/telemetry/counters.h"

// Flow-state sync between the boxes of an HA pair and the takeover's learning frames
// (dataplane/ha/README.md). Two lists, because two kinds of thread write them: the workers'
// (records queued and installed, hosts kept, learning frames sent; plain fields of each
// worker's PipelineCounters, spliced into LBG_PIPELINE_COUNTERS) and the sync thread's (the HA
// link; relaxed atomics read by the service thread). Both are in the `ha` section of
// `lbgctl stats` (dataplane/core/counter_sections.h).
#define LBG_HA_SYNC_WORKER_COUNTERS(X)                                                          \
  X(ha_sync_queued, "flow-sync records a worker queued for the HA peer")                        \
  X(ha_sync_ring_overflow, "flow-sync records lost: the worker's ring to the sync thread full") \
  X(ha_sync_installed, "synced flows installed in this standby's tables")                       \
  X(ha_sync_updated, "synced flows updated in this standby's tables")                           \
  X(ha_sync_version_mismatch,                                                                   \
    "synced records dropped: judged under another policy version than the one loaded here")     \
  X(ha_sync_deleted, "synced flows removed (ended, closed or denied on the active)")             \
  X(ha_sync_install_refused, "synced records dropped: no flow entry could be made (table full)") \
  X(ha_sync_dns_queued, "DNS bindings a worker queued for the HA peer")                         \
  X(ha_sync_dns_ring_overflow, "DNS bindings not sent: the worker's ring to the sync thread full") \
  X(ha_sync_dns_installed, "synced DNS bindings written into this standby's binding table")    \
  X(ha_sync_dns_refused,                                                                        \
    "synced DNS bindings dropped: the binding table did not take them (contended slot)")         \
  X(ha_sync_cert_queued, "certificate verdicts a worker queued for the HA peer")               \
  X(ha_sync_cert_ring_overflow,                                                                 \
    "certificate verdicts not sent: the worker's ring to the sync thread full")                 \
  X(ha_sync_cert_installed, "synced certificate verdicts stored in this standby's caches")     \
  X(ha_sync_cert_displaced,                                                                     \
    "synced certificate verdicts that pushed a live entry out of a full cache set")              \
  X(ha_sync_cert_refused, "synced probe verdicts dropped: no prober here, so no probe cache")   \
  X(ha_learn_hosts, "hosts (MAC, VLANs, side) kept for the learning frames of a takeover")      \
  X(ha_learn_table_full, "hosts not kept: their bucket of the worker's table full of recent ones") \
  X(ha_learn_frames_sent, "learning frames (RARP) sent after becoming active, all rounds")      \
  X(ha_learn_no_mbuf, "learning frames not sent: the packet pool was empty")

#define LBG_HA_SYNC_LINK_COUNTERS(X)                                                            \
  X(ha_sync_datagrams_sent, "flow-sync datagrams sent to the HA peer")                          \
  X(ha_sync_send_failed, "flow-sync datagrams the kernel refused to send (records lost)")       \
  X(ha_sync_datagrams_received, "flow-sync datagrams received from the HA link")                \
  X(ha_sync_auth_failed, "flow-sync datagrams dropped: HMAC did not verify (wrong key, forged)") \
  X(ha_sync_replayed, "flow-sync datagrams dropped: sequence not newer, or outside the clock window") \
  X(ha_sync_malformed, "flow-sync datagrams dropped: authenticated but malformed")             \
  X(ha_sync_records_received, "flow-sync records received and handed to the workers")           \
  X(ha_sync_dns_received, "DNS binding records received and handed to the workers")             \
  X(ha_sync_cert_received,                                                                      \
    "certificate verdict records received (each handed to every worker's cache)")               \
  X(ha_sync_inbound_overflow, "flow-sync records lost: a worker's inbound ring was full")       \
  X(ha_sync_ignored_active, "flow-sync records ignored because this box is active")

namespace lbg::ha {
LBG_DECLARE_SHARED_COUNTERS(SyncLinkCounters, "", LBG_HA_SYNC_LINK_COUNTERS);
}  // namespace lbg::ha
