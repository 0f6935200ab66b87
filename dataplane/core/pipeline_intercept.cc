// The exception path: TCP flows to a service with `intercept: true` are handed to lbg-proxy
// through a port toward the host's kernel (a DPDK net_tap), where TPROXY gives them to the
// proxy's transparent listener (tools/proxy/tproxy-rules.sh, dataplane/proxy/README.md).
//
// The kernel must see the client's SYN to accept the connection, so the flow is handed over from
// its SYN: by the destination's DNS binding to a name of an intercept service (or its CIDR). A
// ClientHello held at the gateway comes after a handshake with the real server and cannot be
// moved to the proxy without translating sequence numbers for the whole connection. The proxy
// then judges the ClientHello's SNI by the same policy (intercept, splice, refuse).
//
// Both legs share the flow's 5-tuple: the proxy's upstream leg is bound to the client's address
// and port. So one entry routes them all: from the inside or outside port to the exception port;
// from the exception port by the source address: the client's → outside (the upstream leg),
// else → inside (the proxy's replies to the client). The legs' sequence spaces differ, so the
// normaliser and tracker see none of it; the flow ends by its idle timeout.
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/core/pipeline.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::Reason;

namespace {
constexpr uint8_t kTcp = 6;
constexpr uint8_t kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;
}  // namespace

bool Pipeline::decideIntercept(Entry& e, const Unit& u, const IpAddr& server, uint16_t port) {
  int svc = snap_->matchAddress(server, policy::L4::Tcp, port);
  if (svc >= 0 && !snap_->service(svc).intercept) return false;
  // Why it is handed over: the name DNS bound the address to (logged like decideByBinding's),
  // none when by the service's CIDR. The table's view of it lives only inside the callback: copied.
  char bound[256];
  size_t boundLen = 0;
  if (svc < 0) {
    dns_.anyName(server, now_, [&](std::string_view name) {
      const int s = snap_->matchName(name, policy::L4::Tcp, port);
      if (s < 0 || !snap_->service(s).intercept) return false;
      svc = s;
      boundLen = std::min(name.size(), sizeof(bound));
      std::memcpy(bound, name.data(), boundLen);
      return true;
    });
  }
  if (svc < 0) return false;
  identity_ = Identity{};
  identity_.name = std::string_view(bound, boundLen);
  const packet::PacketView& v = u.view;
  if (v.vlanCount > 0 || u.count != 1) {
    // The kernel side has no VLAN interfaces, and a fragmented SYN cannot be handed over as one
    // frame: never let the flow pass uninspected instead. IPv4 and IPv6 are handed over alike
    // (tproxy-rules.sh installs both families; lbg-proxy listens on both).
    ++counters_.intercept_unavailable;
    setVerdict(e, Action::Deny, Reason::InterceptUnavailable, svc,
               v.vlanCount > 0 ? "vlan" : "fragment");
    identity_ = Identity{};  // `bound` ends with this call
    return true;
  }
  std::memcpy(e.user.punt.serverMac, v.frame, 6);
  std::memcpy(e.user.punt.clientMac, v.frame + 6, 6);
  e.user.punt.proxyAnswered = false;
  e.meta.punted = true;
  ++counters_.intercept_flows;
  setVerdict(e, Action::Allow, Reason::Intercept, svc);
  identity_ = Identity{};
  return true;
}

bool Pipeline::bypassesProxy(const Entry& e, Reason r, int32_t service) const {
  return service >= 0 && !e.meta.punted && r != Reason::Intercept &&
         snap_->service(service).intercept;
}

void Pipeline::refuseBypass(Entry& e, int32_t service) {
  // A service with `intercept: true` is reached through lbg-proxy (tenant restriction) or not at
  // all. The hand-over is decided at the SYN, by the destination's CIDR or DNS binding; a flow
  // that was not handed over — its client resolved the name elsewhere (DoH, a hosts file, a
  // remembered address), UDP, or a gateway without an exception port — and then names the
  // service is refused, never allowed on the fast path without the tenant headers. The client's
  // next attempt, after a lookup the gateway sees, is handed over.
  ++counters_.intercept_bypass_refused;
  setVerdict(e, Action::Deny, Reason::InterceptUnavailable, service,
             config_.exceptionPort ? "not-handed-over" : "no-exception-port");
}

void Pipeline::punt(Entry& e, Unit& u, TxSink& tx) {
  // After a reload the flow is checked like any other (its service, port and interception).
  if (e.meta.epoch != snapEpoch_ && e.meta.verdict != Verdict::Pending) recheckVerdict(e);
  if (e.meta.verdict != Verdict::Allow) {  // refused since: nothing crosses
    if (u.count > 0) ++counters_.packets_denied;
    freeUnit(u);
    return;
  }
  for (uint16_t i = 0; i < u.count; ++i) {
    std::memcpy(rte_pktmbuf_mtod(u.mbufs[i], uint8_t*), config_.exceptionMac.data(), 6);
    tx.send(PortRole::Exception, u.mbufs[i]);
    ++counters_.intercept_to_proxy;
    ++counters_.tx_packets;
  }
  u.count = 0;
}

void Pipeline::fromException(Unit& u, TxSink& tx) {
  const packet::PacketView& v = u.view;
  Entry* e = u.keyed && v.ipProto == kTcp ? flows_->find(u.key, u.hash) : nullptr;
  if (e == nullptr && u.keyed) e = admitProbe(u);  // the gateway's own probe (pipeline_probe.cc)
  if (e == nullptr || !e->meta.punted || u.count != 1) {
    // ARP, IPv6 neighbour and router solicitations, the kernel's own traffic: not ours. The
    // kernel never needs an answer: tproxy-rules.sh pins its next hops to the tap's peer MAC.
    ++counters_.intercept_unmatched;
    freeUnit(u);
    return;
  }
  const bool fromClient = (!u.reversed) == e->meta.initiatorIsLo;
  e->meta.lastSeenNs = now_;
  ++e->meta.pkts[fromClient ? 0 : 1];
  e->meta.bytes[fromClient ? 0 : 1] += v.payloadLen;
  if (e->meta.epoch != snapEpoch_ && e->meta.verdict != Verdict::Pending) recheckVerdict(*e);
  if (e->meta.verdict != Verdict::Allow) {
    ++counters_.packets_denied;
    freeUnit(u);
    return;
  }
  if (!fromClient && !e->user.punt.proxyAnswered) {
    if ((v.tcpFlags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck)) {
      e->user.punt.proxyAnswered = true;
      e->meta.tcpState = flow::TcpState::Established;  // the idle timeout of a live connection
    } else if (v.tcpFlags & kTcpRst) {
      // No proxy listening: the kernel's rule reset the client's SYN. Refused, never passed on.
      ++counters_.intercept_refused;
      setVerdict(*e, Action::Deny, Reason::InterceptUnavailable, e->user.service, "proxy");
      // The reset itself goes on to the client, which gives up at once.
    }
  }
  uint8_t* eth = rte_pktmbuf_mtod(u.mbufs[0], uint8_t*);
  const PortRole out = fromClient ? PortRole::Outside : PortRole::Inside;
  std::memcpy(eth, fromClient ? e->user.punt.serverMac : e->user.punt.clientMac, 6);
  std::memcpy(eth + 6, fromClient ? e->user.punt.clientMac : e->user.punt.serverMac, 6);
  tx.send(out, u.mbufs[0]);
  u.count = 0;
  ++counters_.intercept_from_proxy;
  ++counters_.tx_packets;
}

}  // namespace lbg::dataplane
