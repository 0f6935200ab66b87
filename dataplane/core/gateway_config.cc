#include "dataplane/core/gateway_config.h"

#include <grp.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <set>

namespace lbg::dataplane {

namespace {

Error errorAt(const std::string& file, const YAML::Node& n, const std::string& msg) {
  const auto m = n.Mark();
  return Error{msg, file, m.line + 1, m.column + 1};
}

std::optional<telemetry::SyslogTarget::Transport> parseTransport(const std::string& s) {
  using T = telemetry::SyslogTarget::Transport;
  if (s == "udp") return T::Udp;
  if (s == "tcp") return T::Tcp;
  if (s == "tls") return T::Tls;
  return std::nullopt;
}

}  // namespace

Result<GatewayConfig> loadGatewayConfig(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error{"cannot read file", path};
  } catch (const YAML::Exception& e) {
    return Error{e.msg, path, e.mark.line + 1, e.mark.column + 1};
  }
  if (!root.IsMap()) return Error{"gateway configuration must be a mapping", path, 1, 1};
  GatewayConfig c;
  static const std::set<std::string> kKeys = {
      "eal",     "ports", "workers",      "rx_burst", "policy",         "log",
      "control", "flows", "appliance_id", "metrics",  "stream_buffers", "hold_slots",
      "trust_store", "cert_requests", "cert_probe", "ha"};
  try {
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (!kKeys.count(key)) return errorAt(path, kv.first, "unknown key '" + key + "'");
    }
    if (root["eal"]) {
      if (!root["eal"].IsSequence()) return errorAt(path, root["eal"], "eal must be a list");
      for (const auto& a : root["eal"]) c.eal.push_back(a.as<std::string>());
    }
    const auto ports = root["ports"];
    if (!ports || !ports.IsMap()) return Error{"ports: {inside, outside} is required", path, 1, 1};
    if (!ports["inside"] || !ports["outside"]) {
      return errorAt(path, ports, "ports needs both inside and outside");
    }
    c.insidePort = ports["inside"].as<std::string>();
    c.outsidePort = ports["outside"].as<std::string>();
    if (GatewayConfig::deviceName(c.insidePort) == GatewayConfig::deviceName(c.outsidePort)) {
      return errorAt(path, ports, "inside and outside must be different ports");
    }
    if (ports["exception"]) {
      c.exceptionPort = ports["exception"].as<std::string>();
      const std::string name = GatewayConfig::deviceName(c.exceptionPort);
      if (name == GatewayConfig::deviceName(c.insidePort) ||
          name == GatewayConfig::deviceName(c.outsidePort)) {
        return errorAt(path, ports["exception"], "the exception port must be a port of its own");
      }
    }
    if (root["workers"]) {
      c.workers = root["workers"].as<uint32_t>();
      if (c.workers < 1 || c.workers > 32) {
        return errorAt(path, root["workers"], "workers must be 1..32");
      }
    }
    if (root["rx_burst"]) c.rxBurst = root["rx_burst"].as<uint16_t>();
    if (root["trust_store"]) c.trustStore = root["trust_store"].as<std::string>();
    if (c.trustStore.empty()) return errorAt(path, root["trust_store"], "trust_store must name a PEM file");
    if (root["cert_requests"]) {
      c.certRequests = root["cert_requests"].as<uint32_t>();
      if (c.certRequests < 1 || c.certRequests > 65536) {
        return errorAt(path, root["cert_requests"], "cert_requests must be 1..65536");
      }
    }
    if (const auto p = root["cert_probe"]) {
      static const std::set<std::string> kProbeKeys = {
          "enabled", "timeout_ms", "per_second", "per_address_per_second", "positive_ttl_s",
          "negative_ttl_s"};
      if (!p.IsMap()) return errorAt(path, p, "cert_probe must be a mapping");
      for (const auto& kv : p) {
        const std::string key = kv.first.as<std::string>();
        if (!kProbeKeys.count(key)) {
          return errorAt(path, kv.first, "unknown key 'cert_probe." + key + "'");
        }
      }
      cert::ProbeConfig& pc = c.certProbe;
      if (p["enabled"]) c.certProbeEnabled = p["enabled"].as<bool>();
      const struct {
        const char* key;
        uint32_t* value;
        uint32_t lo, hi;
      } kBounds[] = {{"timeout_ms", &pc.timeoutMs, 100, 60000},
                     {"per_second", &pc.perSecond, 1, 100000},
                     {"per_address_per_second", &pc.perAddressPerSecond, 1, 10000},
                     {"positive_ttl_s", &pc.positiveTtlSec, 1, 7 * 86400},
                     {"negative_ttl_s", &pc.negativeTtlSec, 1, 86400}};
      for (const auto& b : kBounds) {
        if (!p[b.key]) continue;
        *b.value = p[b.key].as<uint32_t>();
        if (*b.value < b.lo || *b.value > b.hi) {
          return errorAt(path, p[b.key], std::string("cert_probe.") + b.key + " must be " +
                                             std::to_string(b.lo) + ".." + std::to_string(b.hi));
        }
      }
    }
    if (const auto ha = root["ha"]) {
      if (!ha.IsMap()) return errorAt(path, ha, "ha must be a mapping");
      for (const auto& kv : ha) {
        const std::string key = kv.first.as<std::string>();
        if (key != "role_at_start" && key != "sync" && key != "policy") {
          return errorAt(path, kv.first, "unknown key 'ha." + key + "'");
        }
      }
      if (const auto sync = ha["sync"]) {
        if (!sync.IsMap()) return errorAt(path, sync, "ha.sync must be a mapping {local, peer, key_file}");
        for (const auto& kv : sync) {
          const std::string key = kv.first.as<std::string>();
          if (key != "local" && key != "peer" && key != "key_file") {
            return errorAt(path, kv.first, "unknown key 'ha.sync." + key + "'");
          }
        }
        GatewayConfig::HaSync hs;
        for (const char* field : {"local", "peer"}) {
          const auto n = sync[field];
          if (!n) return errorAt(path, sync, std::string("ha.sync.") + field + " is required (ADDR:PORT)");
          auto e = ha::SyncEndpoint::parse(n.as<std::string>());
          if (!e) return errorAt(path, n, std::string("ha.sync.") + field + ": " + e.error().message);
          (std::string_view(field) == "local" ? hs.local : hs.peer) = e.value();
        }
        if (hs.local.addr.ss_family != hs.peer.addr.ss_family) {
          return errorAt(path, sync, "ha.sync.local and ha.sync.peer must be both IPv4 or both IPv6");
        }
        const auto kf = sync["key_file"];
        if (!kf) return errorAt(path, sync, "ha.sync.key_file is required (the pair's shared key)");
        hs.keyFile = kf.as<std::string>();
        auto key = ha::loadSyncKey(hs.keyFile);
        if (!key) return errorAt(path, kf, "ha.sync.key_file: " + key.error().toString());
        hs.key = std::move(key.value());
        c.haSync = std::move(hs);
      }
      if (const auto pol = ha["policy"]) {
        if (!pol.IsMap()) return errorAt(path, pol, "ha.policy must be a mapping {local, peer}");
        for (const auto& kv : pol) {
          const std::string key = kv.first.as<std::string>();
          if (key != "local" && key != "peer") {
            return errorAt(path, kv.first, "unknown key 'ha.policy." + key + "'");
          }
        }
        if (!c.haSync) {
          return errorAt(path, pol, "ha.policy needs ha.sync: its key_file authenticates the policy sync too");
        }
        GatewayConfig::HaPolicy hp;
        for (const char* field : {"local", "peer"}) {
          const auto n = pol[field];
          if (!n) return errorAt(path, pol, std::string("ha.policy.") + field + " is required (ADDR:PORT)");
          auto e = ha::SyncEndpoint::parse(n.as<std::string>());
          if (!e) return errorAt(path, n, std::string("ha.policy.") + field + ": " + e.error().message);
          (std::string_view(field) == "local" ? hp.local : hp.peer) = e.value();
        }
        if (hp.local.addr.ss_family != hp.peer.addr.ss_family) {
          return errorAt(path, pol, "ha.policy.local and ha.policy.peer must be both IPv4 or both IPv6");
        }
        if (hp.local.text == hp.peer.text) {
          return errorAt(path, pol, "ha.policy.local and ha.policy.peer must differ (this box and the other)");
        }
        c.haPolicy = std::move(hp);
      }
      c.haConfigured = true;
      if (const auto r = ha["role_at_start"]) {
        const std::string role = r.as<std::string>();
        if (role != "active" && role != "standby") {
          return errorAt(path, r, "ha.role_at_start must be active or standby");
        }
        c.haStartStandby = role == "standby";
      }
    }
    if (c.rxBurst < 1 || c.rxBurst > 256) return Error{"rx_burst must be 1..256", path};
    if (!root["policy"]) return Error{"policy: PATH is required", path, 1, 1};
    c.policyPath = root["policy"].as<std::string>();
    if (const auto log = root["log"]) {
      static const std::set<std::string> kLogKeys = {
          "file",         "dir",         "key",   "segment_bytes", "segment_seconds",
          "retain_bytes", "retain_days", "syslog"};
      if (!log.IsMap()) return errorAt(path, log, "log must be a mapping");
      for (const auto& kv : log) {
        const std::string key = kv.first.as<std::string>();
        if (!kLogKeys.count(key)) return errorAt(path, kv.first, "unknown key 'log." + key + "'");
      }
      if (log["file"]) c.logFile = log["file"].as<std::string>();
      if (log["dir"]) c.logDir = log["dir"].as<std::string>();
      if (log["key"]) c.logKey = log["key"].as<std::string>();
      if (log["segment_bytes"]) c.logSegmentBytes = log["segment_bytes"].as<uint64_t>();
      if (log["segment_seconds"]) c.logSegmentSeconds = log["segment_seconds"].as<uint64_t>();
      if (log["retain_bytes"]) c.logRetainBytes = log["retain_bytes"].as<uint64_t>();
      if (log["retain_days"]) c.logRetainSeconds = log["retain_days"].as<uint64_t>() * 86400;
      if (const auto sl = log["syslog"]) {
        if (!sl.IsSequence()) return errorAt(path, sl, "log.syslog must be a list");
        static const std::set<std::string> kSyslogKeys = {
            "transport", "host", "port", "ca", "server_name", "cert", "key", "facility"};
        for (const auto& t : sl) {
          if (!t.IsMap()) return errorAt(path, t, "log.syslog entries are mappings");
          for (const auto& kv : t) {
            const std::string key = kv.first.as<std::string>();
            if (!kSyslogKeys.count(key))
              return errorAt(path, kv.first, "unknown key 'log.syslog." + key + "'");
          }
          GatewayConfig::SyslogExport e;
          if (const auto tr = t["transport"]) {
            const auto parsed = parseTransport(tr.as<std::string>());
            if (!parsed) {
              return errorAt(path, tr,
                             "log.syslog transport must be udp, tcp or tls, not '" +
                                 tr.as<std::string>() + "'");
            }
            e.transport = *parsed;
          }
          if (!t["host"]) return errorAt(path, t, "log.syslog entry needs host");
          e.host = t["host"].as<std::string>();
          if (t["port"]) e.port = t["port"].as<uint16_t>();
          if (t["ca"]) e.caFile = t["ca"].as<std::string>();
          if (t["server_name"]) e.serverName = t["server_name"].as<std::string>();
          if (t["cert"]) e.certFile = t["cert"].as<std::string>();
          if (t["key"]) e.keyFile = t["key"].as<std::string>();
          if (t["facility"]) e.facility = t["facility"].as<int>();
          c.logSyslog.push_back(e);
        }
      }
    }
    if (const auto ctl = root["control"]) {
      if (ctl["socket"]) c.controlSocket = ctl["socket"].as<std::string>();
      if (ctl["roles"]) c.rolesFile = ctl["roles"].as<std::string>();
      if (ctl["store"]) c.storeDir = ctl["store"].as<std::string>();
      if (ctl["proxy_stats"]) c.proxyStatsFile = ctl["proxy_stats"].as<std::string>();
      if (const auto g = ctl["group"]) {
        const std::string name = g.as<std::string>();
        const group* gr = ::getgrnam(name.c_str());
        uint32_t gid = 0;
        const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), gid);
        if (gr != nullptr) {
          c.controlGroup = static_cast<int>(gr->gr_gid);
        } else if (ec == std::errc() && end == name.data() + name.size()) {
          c.controlGroup = static_cast<int>(gid);
        } else {
          return Error{"control.group: no group '" + name + "'", path, g.Mark().line + 1,
                       g.Mark().column + 1};
        }
      }
    }
    if (const auto m = root["metrics"]) {
      auto a = ListenAddress::parse(m.as<std::string>());
      if (!a) return errorAt(path, m, "metrics: " + a.error().message);
      const std::string& host = a.value().host;
      if (!host.empty() && host != "127.0.0.1" && host != "localhost") {
        return errorAt(path, m,
                       "metrics: the exporter listens on 127.0.0.1 only (never on a data "
                       "or management interface), not on '" +
                           host + "'");
      }
      c.metricsListen = a.value();
    }
    if (root["appliance_id"]) c.applianceId = root["appliance_id"].as<std::string>();
    if (root["flows"]) c.pipeline.flowCapacity = root["flows"].as<uint32_t>();
    // Pools of each worker (pipeline.h): zero would deny every followed flow, and sizes beyond
    // these are typos that would ask for more memory than the box has.
    if (root["stream_buffers"]) {
      c.pipeline.streamBuffers = root["stream_buffers"].as<uint32_t>();
      if (c.pipeline.streamBuffers < 16 || c.pipeline.streamBuffers > 1u << 20) {
        return errorAt(path, root["stream_buffers"], "stream_buffers must be 16..1048576");
      }
    }
    if (root["hold_slots"]) {
      c.pipeline.holdSlots = root["hold_slots"].as<uint32_t>();
      if (c.pipeline.holdSlots < 64 || c.pipeline.holdSlots > 1u << 22) {
        return errorAt(path, root["hold_slots"], "hold_slots must be 64..4194304");
      }
    }
  } catch (const YAML::Exception& e) {
    return Error{e.msg, path, e.mark.line + 1, e.mark.column + 1};
  }
  return c;
}

}  // namespace lbg::dataplane
