#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "dataplane/telemetry/log/vocabulary.h"
#include "policy/base/ip_addr.h"

namespace lbg::telemetry {

// Why a flow got its verdict: `Reason` and its logged names are declared once, in the log's
// vocabulary (log/vocabulary.h, LBG_VERDICT_REASONS).
std::string_view toString(Reason r);

// DenySummary: denied packets of one source and reason over an interval (dataplane/guard
// deny_summary.h): src, dst (the first destination), dstPort, proto, reason, pkts[0], bytes[0],
// startNs, endNs. Alert: an IDS rule matched (sigId, sigRev, sigGid, severity, blocked; the
// rule's msg in name, its category in detail).
enum class EventKind : uint8_t { FlowVerdict, FlowEnd, DnsBinding, DenySummary, Alert };
enum class Action : uint8_t { Allow, Deny };
enum class AppProto : uint8_t { Unknown, Tls, Http, Dns, Quic, Icmp };
enum class EndReason : uint8_t { Timeout, Closed, Evicted, Shutdown };
std::string_view toString(AppProto p);
std::string_view toString(EndReason r);

// One fixed-size record per event, copied into a worker's SPSC ring and serialised to JSON by the
// service thread. Strings are fixed arrays (truncated, never allocated) so the worker's cost is a
// bounded memcpy.
struct Event {
  EventKind kind;
  Action action;
  Reason reason;
  AppProto appProto;
  uint8_t proto;  // IP protocol number
  uint8_t tcpState;
  EndReason endReason;
  uint8_t nameLen;  // SNI / Host / DNS rrname
  uint8_t serviceLen;
  uint8_t detailLen;
  uint8_t alpnLen;
  bool hasSni;
  bool hasHost;
  uint16_t srcPort, dstPort;
  uint32_t ttl;          // DNS
  uint64_t timestampNs;  // unix time, ns
  uint64_t flowId;
  uint64_t policyVersion;
  uint64_t startNs, endNs;
  uint64_t pkts[2], bytes[2];  // [0] toserver, [1] toclient
  IpAddr src, dst;             // src = flow initiator (client)
  IpAddr addr;                 // DNS answer address
  char name[254];
  char service[64];
  char detail[48];
  char alpn[32];
  // nDPI's application identification (flow end events; empty when appid did not run).
  uint8_t appMasterLen, appNameLen;
  bool appGuessed;
  uint64_t appRisk;  // ndpi_risk bitmask
  char appMaster[24];
  char appName[32];
  // IDS alert (EventKind::Alert): the rule's ids and severity (its priority); its msg goes in
  // `name`, its classtype's description in `detail`; `blocked` when it dropped the packet.
  uint32_t sigId, sigRev, sigGid;
  uint8_t severity;
  bool blocked;

  static void copyText(char* dst, uint8_t& dstLen, size_t cap, std::string_view s) {
    const size_t n = s.size() < cap ? s.size() : cap;
    std::memcpy(dst, s.data(), n);
    dstLen = static_cast<uint8_t>(n);
  }
};

}  // namespace lbg::telemetry
