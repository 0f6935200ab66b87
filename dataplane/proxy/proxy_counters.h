#pragma once

#include "dataplane/telemetry/counters.h"

// lbg-proxy's counters, one set per worker (written by its own event loop only, published to the
// supervisor every half second and summed there: worker_link.h, proxy_workers.h), plus the
// supervisor's own (the CA reloads).
#define LBG_PROXY_COUNTERS(X)                                                              \
  X(accepted, "client connections accepted by the explicit listener")                      \
  X(connect_refused, "CONNECT requests refused (malformed, not allowed by policy, bad name)") \
  X(spliced, "CONNECT tunnels relayed untouched (host not marked for interception)")       \
  X(intercepted, "connections intercepted (client TLS terminated with a minted leaf)")     \
  X(client_resumed, "intercepted client handshakes resumed from a session ticket or id (bound to the same name and CA)") \
  X(upstream_resumed, "upstream TLS handshakes resumed from the host's last session")     \
  X(upstream_refused, "intercepted connections refused by upstream certificate validation") \
  X(leaves_minted, "leaf certificates minted from the appliance CA")                       \
  X(requests, "HTTP requests relayed on intercepted connections")                          \
  X(tenant_applied, "requests whose tenant-restriction headers were replaced")              \
  X(bad_requests, "intercepted connections closed on a malformed request")                 \
  X(client_handshake_failed, "client TLS handshakes that failed or named another host")    \
  X(transparent_accepted, "connections accepted by the transparent (TPROXY) listener")      \
  X(transparent_refused, "transparent connections refused (not TLS, no or bad SNI, not allowed, connect)") \
  X(timed_out, "connections closed for inactivity (slow or silent clients and upstreams)") \
  X(ca_reloads, "appliance CA reloaded (SIGHUP or changed files): new leaves signed by the new CA") \
  X(ca_reload_failed, "appliance CA reloads refused (unreadable, key not matching): the CA in use kept") \
  X(sanitize_requests, "responses of sanitize: true services sent to lbg-icapd (ICAP RESPMOD)") \
  X(sanitize_unchanged, "sanitized responses lbg-icapd passed unchanged (ICAP 204)")         \
  X(sanitize_replaced, "sanitized responses replaced by lbg-icapd's rebuilt file")          \
  X(sanitize_blocked, "sanitized responses replaced by lbg-icapd's block page")             \
  X(sanitize_failed, "responses refused: lbg-icapd down, too slow or answering malformed (fail closed)") \
  X(sanitize_too_large, "responses refused: body over --icap-max-body (fail closed)")       \
  X(pac_served, "PAC files served by the explicit listener (/proxy.pac, /wpad.dat)")       \
  X(resolve_failed, "CONNECT requests refused: the name did not resolve (502)")             \
  X(resolve_busy, "CONNECT requests refused: too many name lookups waiting (--resolver-queue, 503)") \
  X(conn_limit_refused, "connections reset at accept: the worker already held --max-connections") \
  X(accept_failed, "accept() failures (out of file descriptors: one waiting connection reset)") \
  X(sanitize_busy, "responses refused: the worker's held sanitize bytes would pass --icap-held-budget (503)")

namespace lbg::proxy {
LBG_DECLARE_PREFIXED_COUNTERS(ProxyCounters, "proxy_", LBG_PROXY_COUNTERS);
}  // namespace lbg::proxy
