#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/core/listen_address.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/ha/flow_sync.h"
#include "dataplane/telemetry/log/syslog_sender.h"
#include "policy/base/result.h"

namespace lbg::dataplane {

// The appliance's own configuration (not the policy): EAL arguments, ports, workers, paths.
// Validated once at start into this immutable form; errors carry file:line:column.
struct GatewayConfig {
  std::vector<std::string> eal;  // extra EAL arguments, e.g. [--no-huge, -m, "512"]
  std::string insidePort;  // PCI address (0000:03:00.0) or vdev string (net_af_packet0,iface=x)
  std::string outsidePort;
  // Optional: the exception port toward the host's kernel and lbg-proxy (a net_tap vdev,
  // "net_tap0,iface=lbgx0"); empty = no interception (dataplane/core/pipeline_intercept.cc).
  std::string exceptionPort;
  uint32_t workers = 1;
  uint16_t rxBurst = 32;
  uint16_t rxDescriptors = 1024;
  uint16_t txDescriptors = 1024;
  std::string policyPath;
  std::string logFile;  // plain JSON lines (used when logDir is empty)
  std::string logDir;   // hash-chained, sealed segments
  std::string logKey;   // Ed25519 private key for segment seals
  // log: {segment_bytes, segment_seconds, retain_bytes, retain_days, syslog: [...]}
  uint64_t logSegmentBytes = 64 << 20, logSegmentSeconds = 3600;
  uint64_t logRetainBytes = 0, logRetainSeconds = 0;  // 0 = unlimited
  struct SyslogExport {  // one SIEM receiver of the log (RFC 5424 over udp, tcp or tls)
    telemetry::SyslogTarget::Transport transport = telemetry::SyslogTarget::Transport::Udp;
    std::string host;
    uint16_t port = 514;
    std::string caFile, serverName, certFile, keyFile;  // tls
    int facility = 16;                                  // local0
  };
  std::vector<SyslogExport> logSyslog;
  std::string applianceId = "lbg";
  std::string controlSocket;  // empty: no control server
  // Group that may open the socket (it is created 0660): the administrators' login group, so
  // that they need not be root; what each may do still comes from the roles file. -1: root only.
  int controlGroup = -1;
  std::string rolesFile;
  std::string storeDir;
  // control.proxy_stats: lbg-proxy's counters file (its --stats-file), shown by `lbgctl stats` and
  // Prometheus in the section `proxy` (control/proxy_stats.h); empty: none.
  std::string proxyStatsFile;
  // metrics: "127.0.0.1:9100" or "9100"; the exporter listens on loopback only (control/server.cc),
  // so any other host is refused when the file is loaded rather than silently ignored.
  std::optional<ListenAddress> metricsListen;  // none: off
  // The trust store of the passive certificate check (dataplane/cert): a PEM bundle, loaded once
  // at start (an error if unreadable or empty); requests each worker may have with the verifier.
  // A request is held from the ClientHello to the server's certificate, one round trip: 4,096
  // (about 70 MB of address space, ~17 KB each, touched only when used) carries ~40,000 new TLS
  // flows/s per worker at a 100 ms round trip; beyond it new TLS flows are denied
  // (`cert_slots_exhausted`), never passed unchecked.
  std::string trustStore = "/etc/ssl/certs/ca-certificates.crt";
  uint32_t certRequests = 4096;
  // cert_probe: {enabled, timeout_ms, per_second, per_address_per_second, positive_ttl_s,
  // negative_ttl_s}: the certificate probe of destinations (dataplane/cert/prober.h). It needs the
  // exception port (its connections leave through it): on by default when that port exists.
  bool certProbeEnabled = true;
  cert::ProbeConfig certProbe;
  // ha: {role_at_start: active|standby}: the role of one box of an active/standby pair when it
  // starts (dataplane/core/ha_role.h); keepalived switches it with `lbgctl ha`. Without `ha:`, a
  // single gateway, active as always.
  bool haConfigured = false;
  bool haStartStandby = false;
  // ha.sync: {local: ADDR:PORT, peer: ADDR:PORT, key_file: PATH}: flow-state sync with the
  // peer over the HA link (dataplane/ha), a kernel UDP socket bound to `local`. The key is read
  // here, once (mode 0600, at least 32 bytes). Without it, the boxes keep no flows on takeover.
  struct HaSync {
    ha::SyncEndpoint local, peer;
    std::string keyFile;
    ha::SyncKey key;
  };
  std::optional<HaSync> haSync;
  // ha.policy: {local: ADDR:PORT, peer: ADDR:PORT}: policy sync between the two boxes' control
  // planes (control/policy_sync/), TCP on the HA link, authenticated with ha.sync's key (so it
  // needs ha.sync). Without it, each box enforces the versions committed on it.
  struct HaPolicy {
    ha::SyncEndpoint local, peer;
  };
  std::optional<HaPolicy> haPolicy;
  PipelineConfig pipeline;

  static bool isVdev(const std::string& port) { return port.rfind("net_", 0) == 0; }
  // The DPDK device name of a port: the vdev name before the first comma, or the PCI address.
  static std::string deviceName(const std::string& port) { return port.substr(0, port.find(',')); }
};

Result<GatewayConfig> loadGatewayConfig(const std::string& path);

}  // namespace lbg::dataplane
