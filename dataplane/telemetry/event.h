#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "policy/ip_addr.h"

namespace lbg::telemetry {

// Why a flow got its verdict. Values are logged as the strings of kReasonNames (the `reason`
// field), so the list is declared once here.
#define LBG_VERDICT_REASONS(X)                   \
  X(None, "none")                                \
  X(Sni, "sni")                                  \
  X(Host, "host")                                \
  X(DnsBinding, "dns-binding")                   \
  X(Cidr, "cidr")                                \
  X(PortNotAllowed, "port-not-allowed")          \
  X(NoMatch, "no-match")                         \
  X(NoSni, "no-sni")                             \
  X(SniDnsMismatch, "sni-dns-mismatch")          \
  X(Ech, "ech")                                  \
  X(Quic, "quic")                                \
  X(Inbound, "inbound")                          \
  X(Midstream, "midstream")                      \
  X(Ambiguous, "ambiguous")                      \
  X(Malformed, "malformed")                      \
  X(StreamConflict, "stream-conflict")           \
  X(InspectLimit, "inspect-limit")               \
  X(HttpConnect, "http-connect")                 \
  X(UnsupportedProtocol, "unsupported-protocol") \
  X(ResourceExhausted, "resource-exhausted")                                           \
  X(PolicyChanged, "policy-changed")                                                   \
  X(AppMismatch, "app-mismatch")                                                       \
  X(RequestHost, "request-host")                                                       \
  X(HttpFraming, "http-framing")                                                       \
  X(SniChanged, "sni-changed")                                                         \
  X(ProtocolMismatch, "protocol-mismatch") /* AP-ENCRYPT: not the port's protocol */

enum class Reason : uint8_t {
#define LBG_REASON_ENUM_(id, text) id,
  LBG_VERDICT_REASONS(LBG_REASON_ENUM_)
#undef LBG_REASON_ENUM_
};
std::string_view toString(Reason r);

enum class EventKind : uint8_t { FlowVerdict, FlowEnd, DnsBinding };
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

  static void copyText(char* dst, uint8_t& dstLen, size_t cap, std::string_view s) {
    const size_t n = s.size() < cap ? s.size() : cap;
    std::memcpy(dst, s.data(), n);
    dstLen = static_cast<uint8_t>(n);
  }
};

}  // namespace lbg::telemetry
