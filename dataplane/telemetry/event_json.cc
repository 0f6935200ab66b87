#include "dataplane/telemetry/event_json.h"

#include <ctime>

namespace lbg::telemetry {

namespace {

std::string_view protoName(uint8_t p) {
  switch (p) {
    case 6:
      return "TCP";
    case 17:
      return "UDP";
    case 1:
      return "ICMP";
    case 58:
      return "IPv6-ICMP";
    default:
      return "OTHER";
  }
}

std::string_view tcpStateName(uint8_t s) {
  static constexpr std::string_view kNames[] = {"none",     "syn_sent", "syn_recv", "established",
                                                "fin_wait", "closing",  "closed"};
  return s < std::size(kNames) ? kNames[s] : "unknown";
}

void appendKey(std::string_view k, std::string& out) {
  out += '"';
  out += k;
  out += "\":";
}

void appendUint(uint64_t v, std::string& out) {
  out += std::to_string(v);
}

void appendFiveTuple(const Event& e, std::string& out) {
  appendKey("src_ip", out);
  appendJsonString(e.src.toString(), out);
  out += ',';
  appendKey("src_port", out);
  appendUint(e.srcPort, out);
  out += ',';
  appendKey("dest_ip", out);
  appendJsonString(e.dst.toString(), out);
  out += ',';
  appendKey("dest_port", out);
  appendUint(e.dstPort, out);
  out += ',';
  appendKey("proto", out);
  appendJsonString(protoName(e.proto), out);
}

void appendPolicy(const Event& e, std::string& out) {
  appendKey("policy", out);
  out += "{\"version\":";
  appendUint(e.policyVersion, out);
  out += ",\"service\":";
  if (e.serviceLen) {
    appendJsonString({e.service, e.serviceLen}, out);
  } else {
    out += "null";
  }
  out += '}';
}

// Closes the record with its α′ measure id.
void appendMeasure(MeasureId m, std::string& out) {
  out += ',';
  appendKey("measure", out);
  appendJsonString(toString(m), out);
  out += '}';
}

}  // namespace

std::string_view toString(Reason r) {
  const auto i = static_cast<size_t>(r);
  return i < std::size(kReasons) ? kReasons[i].name : "unknown";
}

std::string_view toString(AppProto p) {
  switch (p) {
    case AppProto::Tls:
      return "tls";
    case AppProto::Http:
      return "http";
    case AppProto::Dns:
      return "dns";
    case AppProto::Quic:
      return "quic";
    case AppProto::Icmp:
      return "icmp";
    case AppProto::Unknown:
      break;
  }
  return "unknown";
}

std::string_view toString(EndReason r) {
  switch (r) {
    case EndReason::Timeout:
      return "timeout";
    case EndReason::Closed:
      return "closed";
    case EndReason::Evicted:
      return "evicted";
    case EndReason::Shutdown:
      return "shutdown";
  }
  return "unknown";
}

void appendTimestamp(uint64_t unixNs, std::string& out) {
  const time_t secs = static_cast<time_t>(unixNs / 1000000000ull);
  const unsigned micros = static_cast<unsigned>((unixNs / 1000ull) % 1000000ull);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  char frac[16];
  snprintf(frac, sizeof(frac), ".%06uZ", micros);
  out += frac;
}

void appendJsonString(std::string_view s, std::string& out) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      // Wire names are ASCII when valid; anything else is shown byte by byte, never passed raw.
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void appendEventJson(const Event& e, std::string& out) {
  out += '{';
  appendKey("timestamp", out);
  out += '"';
  appendTimestamp(e.timestampNs, out);
  out += "\",";
  if (e.kind == EventKind::DnsBinding) {
    appendKey("event_type", out);
    appendJsonString(toString(LogEventType::Dns), out);
    out += ',';
    appendKey("flow_id", out);
    appendUint(e.flowId, out);
    out += ",\"dns\":{\"type\":\"answer\",\"rrname\":";
    appendJsonString({e.name, e.nameLen}, out);
    out += ",\"rdata\":";
    appendJsonString(e.addr.toString(), out);
    out += ",\"ttl\":";
    appendUint(e.ttl, out);
    out += "},";
    appendPolicy(e, out);
    appendMeasure(defaultMeasure(LogEventType::Dns), out);
    return;
  }
  if (e.kind == EventKind::DenySummary) {
    appendKey("event_type", out);
    appendJsonString(toString(LogEventType::Ddos), out);
    out += ',';
    appendFiveTuple(e, out);
    out += ',';
    appendKey("action", out);
    out += "\"deny\",";
    appendKey("reason", out);
    appendJsonString(toString(e.reason), out);
    out += ",\"ddos\":{\"packets\":";
    appendUint(e.pkts[0], out);
    out += ",\"bytes\":";
    appendUint(e.bytes[0], out);
    out += ",\"start\":\"";
    appendTimestamp(e.startNs, out);
    out += "\",\"end\":\"";
    appendTimestamp(e.endNs, out);
    out += "\"}";
    appendMeasure(defaultMeasure(LogEventType::Ddos), out);
    return;
  }
  if (e.kind == EventKind::Alert) {
    // Suricata EVE's alert record: the rule that matched and what was done with the packet.
    appendKey("flow_id", out);
    appendUint(e.flowId, out);
    out += ',';
    appendKey("event_type", out);
    appendJsonString(toString(LogEventType::Alert), out);
    out += ',';
    appendFiveTuple(e, out);
    out += ',';
    appendKey("app_proto", out);
    appendJsonString(toString(e.appProto), out);
    out += ",\"alert\":{\"action\":";
    out += e.blocked ? "\"blocked\"" : "\"allowed\"";
    out += ",\"gid\":";
    appendUint(e.sigGid, out);
    out += ",\"signature_id\":";
    appendUint(e.sigId, out);
    out += ",\"rev\":";
    appendUint(e.sigRev, out);
    out += ",\"signature\":";
    appendJsonString({e.name, e.nameLen}, out);
    out += ",\"category\":";
    appendJsonString({e.detail, e.detailLen}, out);
    out += ",\"severity\":";
    appendUint(e.severity, out);
    out += "},";
    appendPolicy(e, out);
    appendMeasure(defaultMeasure(LogEventType::Alert), out);
    return;
  }
  appendKey("flow_id", out);
  appendUint(e.flowId, out);
  out += ',';
  appendKey("event_type", out);
  appendJsonString(toString(LogEventType::Flow), out);
  out += ",\"phase\":";
  out += e.kind == EventKind::FlowVerdict ? "\"verdict\"," : "\"end\",";
  appendFiveTuple(e, out);
  out += ',';
  appendKey("app_proto", out);
  appendJsonString(toString(e.appProto), out);
  out += ',';
  appendKey("action", out);
  out += e.action == Action::Allow ? "\"allow\"" : "\"deny\"";
  out += ',';
  appendKey("reason", out);
  if (e.detailLen) {
    std::string r(toString(e.reason));
    r += ':';
    r.append(e.detail, e.detailLen);
    appendJsonString(r, out);
  } else {
    appendJsonString(toString(e.reason), out);
  }
  out += ',';
  appendPolicy(e, out);
  if (e.hasSni) {
    out += ",\"tls\":{\"sni\":";
    appendJsonString({e.name, e.nameLen}, out);
    if (e.alpnLen) {
      out += ",\"alpn\":[";
      appendJsonString({e.alpn, e.alpnLen}, out);
      out += ']';
    }
    out += '}';
  }
  if (e.hasHost) {
    out += ",\"http\":{\"hostname\":";
    appendJsonString({e.name, e.nameLen}, out);
    out += '}';
  }
  if (!e.hasSni && !e.hasHost && e.nameLen) {
    // The name a DNS answer bound the address to: why a flow without a name of its own was
    // allowed (dns-binding) or handed to lbg-proxy (intercept).
    out += ",\"dns\":{\"rrname\":";
    appendJsonString({e.name, e.nameLen}, out);
    out += '}';
  }
  if (e.appMasterLen) {
    out += ",\"app\":{\"protocol\":";
    appendJsonString({e.appMaster, e.appMasterLen}, out);
    out += ",\"name\":";
    appendJsonString({e.appName, e.appNameLen}, out);
    out += ",\"guessed\":";
    out += e.appGuessed ? "true" : "false";
    out += ",\"risk\":";
    appendUint(e.appRisk, out);
    out += '}';
  }
  if (e.kind == EventKind::FlowEnd) {
    out += ",\"flow\":{\"pkts_toserver\":";
    appendUint(e.pkts[0], out);
    out += ",\"pkts_toclient\":";
    appendUint(e.pkts[1], out);
    out += ",\"bytes_toserver\":";
    appendUint(e.bytes[0], out);
    out += ",\"bytes_toclient\":";
    appendUint(e.bytes[1], out);
    out += ",\"start\":\"";
    appendTimestamp(e.startNs, out);
    out += "\",\"end\":\"";
    appendTimestamp(e.endNs, out);
    out += "\",\"age\":";
    appendUint((e.endNs - e.startNs) / 1000000000ull, out);
    out += ",\"state\":";
    appendJsonString(e.proto == 6 ? tcpStateName(e.tcpState) : "none", out);
    out += ",\"reason\":";
    appendJsonString(toString(e.endReason), out);
    out += '}';
  }
  // The measure the verdict evidences is the reason's (AP-DEST, or AP-ENCRYPT for protocol-mismatch).
  appendMeasure(e.reason == Reason::None || static_cast<size_t>(e.reason) >= std::size(kReasons)
                    ? defaultMeasure(LogEventType::Flow)
                    : reasonInfo(e.reason).measure,
                out);
}

}  // namespace lbg::telemetry
