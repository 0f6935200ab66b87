#include "dataplane/core/pipeline.h"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "dataplane/core/link_plumbing.h"
#include "dataplane/core/tcp_reset.h"
#include "dataplane/inspect/quic/initial.h"
#include "dataplane/packet/icmp_quote.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::AppProto;
using telemetry::Reason;

namespace {

#define LBG_COUNT_REASON_(name, help) +1
static_assert(1 LBG_DECODE_DROP_REASONS(LBG_COUNT_REASON_) <= Pipeline::kDecodeReasons);
#undef LBG_COUNT_REASON_

constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmp6 = 58;
constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;
constexpr uint16_t kEtherArp = 0x0806;

}  // namespace

Result<std::unique_ptr<Pipeline>> Pipeline::create(const PipelineConfig& config,
                                                   uint32_t workerIndex, SnapshotSlot& policy,
                                                   inspect::DnsBindingTable& dns,
                                                   rte_mempool* pool) {
  std::unique_ptr<Pipeline> p(new Pipeline(config, workerIndex, policy, dns, pool));
  auto flows = Table::create(config.flowCapacity, config.timeouts,
                             config.embryonicFlows != 0 ? config.embryonicFlows
                                                        : std::max(16u, config.flowCapacity / 4));
  if (!flows) return flows.error();
  p->flows_ = std::move(flows.value());
  auto streams = flow::StreamBufferPool::create(config.streamBuffers, config.streamBufferBytes);
  if (!streams) return streams.error();
  p->streams_ = std::move(streams.value());
  if (auto r = p->createStreamGuard(config); !r) return r.error();  // pipeline_stream.cc
  p->createCertCheck(config);                                        // pipeline_cert.cc
  packet::ReassemblerConfig fc;
  fc.maxDatagrams = config.fragmentDatagrams;
  fc.timeoutNs = config.fragmentTimeoutNs;
  auto frags = packet::FragmentReassembler::create(fc);
  if (!frags) return frags.error();
  p->frags_ = std::move(frags.value());
  auto queries = inspect::DnsQueryTable::create(config.dnsPendingQueries, config.dnsQueryTimeoutNs);
  if (!queries) return queries.error();
  p->dnsQueries_ = std::move(queries.value());
  p->guard_ = makeGuard(config);
  p->denied_ = makeDenySummary(config);
  p->floods_ = makeFloodGuard(config);
  if (config.appIdSlots > 0) {
    inspect::AppIdConfig ac;
    ac.flowSlots = config.appIdSlots;
    ac.maxPackets = config.appIdPackets;
    auto appid = inspect::AppId::create(ac);
    if (!appid) return appid.error();
    p->appid_ = std::move(appid.value());
  }
  return p;
}

Pipeline::Pipeline(const PipelineConfig& config, uint32_t workerIndex, SnapshotSlot& policy,
                   inspect::DnsBindingTable& dns, rte_mempool* pool)
    : config_(config),
      worker_(workerIndex),
      policySlot_(policy),
      dns_(dns),
      pool_(pool),
      hold_(config.holdSlots),
      events_(config.eventRingSize) {
  decodeOptions_.verifyIpv4Checksum = config.verifyChecksums;
  // Flow ids are unique per appliance run: the worker index in the top byte.
  nextFlowId_ = (uint64_t(workerIndex) << 56) | 1;
  std::random_device rd;
  tlsNameSeed_ = uint64_t(rd()) << 32 | rd();
}

// ---------------------------------------------------------------------------------------------
// 1–2. rx and decode: processBurst() and its schedule are in pipeline_burst.cc.

void Pipeline::processDecoded(Unit& u, Ingress ingress, TxSink& tx) {
  if (ingress == Ingress::ExceptionPort) return fromException(u, tx);  // pipeline_intercept.cc
  rte_mbuf* m = u.mbufs[0];
  const auto status = u.status;
  if (ingress == Ingress::ByAddress) {
    if (status == packet::DecodeStatus::L2Only) {
      u.fromInside = true;  // ARP in a capture: its port is unknown, direction is irrelevant
    } else if (snap_->isInside(u.view.src)) {
      u.fromInside = true;
    } else {
      if (!snap_->isInside(u.view.dst)) ++counters_.direction_unknown;
      u.fromInside = false;  // fail closed: unknown sources are treated as outside
    }
  } else {
    u.fromInside = ingress == Ingress::InsidePort;
  }
  if (status == packet::DecodeStatus::L2Only) {
    // Only ARP crosses at layer 2. Any other ethertype (PPPoE, MPLS, …) could tunnel IP past the
    // filter, so it is dropped.
    if (u.view.etherType == kEtherArp) {
      ++counters_.l2_passed;
      forward(u, tx);
    } else {
      ++counters_.l2_dropped;
      rte_pktmbuf_free(m);
    }
    return;
  }
  if (status == packet::DecodeStatus::Fragment) {
    if (!guardFloodAdmit(u, guard::FloodKind::Fragment)) return;  // 3. guard, per destination
    const auto r = frags_->add(u.view, reinterpret_cast<uint64_t>(m), now_);
    switch (r.status) {
      case packet::ReassemblyStatus::Held:
        ++counters_.fragments_held;
        return;
      case packet::ReassemblyStatus::Complete: {
        ++counters_.fragments_reassembled;
        Unit whole{};
        whole.view = r.view;
        whole.status = packet::DecodeStatus::Ok;
        whole.fromInside = u.fromInside;
        whole.byAddress = u.byAddress;
        whole.mbufs = reinterpret_cast<rte_mbuf* const*>(r.handles.data());
        whole.count = static_cast<uint16_t>(r.handles.size());
        processUnit(whole, tx);
        return;
      }
      case packet::ReassemblyStatus::Rejected:
        counters_.fragments_dropped += r.handles.size();
        for (uint64_t h : r.handles) rte_pktmbuf_free(reinterpret_cast<rte_mbuf*>(h));
        return;
    }
    return;
  }
  processUnit(u, tx);
}

void Pipeline::processUnit(Unit& u, TxSink& tx) {
  const uint8_t proto = u.view.ipProto;
  if (proto == kIcmp || proto == kIcmp6) {
    if (guardFloodAdmit(u, guard::FloodKind::Icmp)) handleIcmp(u, tx);
    return;
  }
  if (proto == kUdp && !guardFloodAdmit(u, guard::FloodKind::Udp)) return;
  stageFlow(u, tx);  // 3. guard runs inside it, only for a packet that would create a flow
}

Pipeline::Entry* Pipeline::insertFlow(const Unit& u) {
  Entry* e = flows_->insert(u.key, u.hash, now_, [this](Entry& victim) {
    ++counters_.flows_evicted;
    endFlow(victim, telemetry::EndReason::Evicted);
  });
  if (e == nullptr) {
    ++counters_.flow_table_full;
    return nullptr;
  }
  ++counters_.flows_new;
  e->user.firstSeenNs = now_;
  e->user.flowId = nextFlowId_++;
  e->user.service = -1;
  e->meta.verdict = Verdict::Pending;
  e->user.hold = HoldPool::Queue{};
  return e;
}

void Pipeline::handleIcmp(Unit& u, TxSink& tx) {
  // IPv6 neighbour and multicast listener discovery, as the RFCs send them (link_plumbing.h).
  if (u.view.ipProto == kIcmp6 && isIcmp6LinkPlumbing(u.view)) {
    ++counters_.icmp_passed;
    forward(u, tx);
    return;
  }
  // An error about a packet of an allowed flow goes to that packet's sender (PMTU discovery needs
  // "fragmentation needed" / "packet too big"), but only from the side the flow's other end is
  // on. Echo, redirects and errors about anything else: default deny. ICMP never keeps a flow
  // alive and never creates one.
  packet::IcmpQuote q;
  if (packet::parseIcmpErrorQuote(u.view, q)) {
    bool reversed = false;
    flow::FlowKey key = flow::makeKey(q.src, q.srcPort, q.dst, q.dstPort, q.proto, reversed);
    flow::setVlans(key, u.view.vlanCount, u.view.vlanTci);  // errors come on the flow's VLAN
    const Entry* e = flows_->find(key, flow::hashKey(key));
    if (e != nullptr && e->meta.verdict == Verdict::Allow) {
      const bool senderIsInitiator = (!reversed) == e->meta.initiatorIsLo;
      const bool senderInside = senderIsInitiator == e->meta.initiatorInside;
      if (u.fromInside != senderInside) {
        ++counters_.icmp_passed;
        forward(u, tx);
        return;
      }
    }
  }
  ++counters_.icmp_dropped;
  freeUnit(u);
}

// ---------------------------------------------------------------------------------------------
// 4. flow

void Pipeline::stageFlow(Unit& u, TxSink& tx) {
  const packet::PacketView& v = u.view;
  if (!u.keyed) {  // reassembled datagrams are keyed here; plain packets in the decode pass
    u.key = flow::makeKey(v.src, v.srcPort, v.dst, v.dstPort, v.ipProto, u.reversed);
    flow::setVlans(u.key, v.vlanCount, v.vlanTci);
    u.hash = flow::hashKey(u.key);
    u.keyed = true;
  }
  const flow::FlowKey& key = u.key;
  const uint32_t hash = u.hash;
  const bool reversed = u.reversed;
  Entry* e = flows_->find(key, hash);
  if (e != nullptr && v.ipProto == kTcp && (v.tcpFlags & (kTcpSyn | kTcpAck)) == kTcpSyn &&
      e->meta.tcpState == flow::TcpState::Closed) {
    // A new connection reuses the 5-tuple of a closed one: end the old flow, judge the new one
    // from scratch (it must not inherit the old verdict).
    endFlow(*e, telemetry::EndReason::Closed);
    flows_->erase(e);
    e = nullptr;
  }
  bool created = false;
  if (e == nullptr) {
    if (!guardAdmitNew(u)) return;  // 3. guard (pipeline_guard.cc)
    e = insertFlow(u);
    if (e == nullptr) {
      if (guardCounted_) guard_->release(u.view.src);
      freeUnit(u);
      return;
    }
    created = true;
    // A capture that starts with the server's SYN-ACK still names the client: its receiver.
    // Live, a SYN-ACK for a flow we never saw start is an inbound packet and stays one.
    const bool synAckFirst = u.byAddress && v.ipProto == kTcp &&
                             (v.tcpFlags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck);
    e->meta.initiatorIsLo = synAckFirst ? reversed : !reversed;
    e->meta.sawSyn = v.ipProto == kTcp && (v.tcpFlags & (kTcpSyn | kTcpAck)) == kTcpSyn;
    e->meta.initiatorInside = synAckFirst ? snap_->isInside(v.dst) : u.fromInside;
    e->user.guardCounted = guardCounted_;
  }
  const bool fromInitiator = (!reversed) == e->meta.initiatorIsLo;
  const int dir = fromInitiator ? 0 : 1;
  e->meta.lastSeenNs = now_;
  ++e->meta.pkts[dir];
  e->meta.bytes[dir] += v.payloadLen;
  if (e->meta.punted) return punt(*e, u, tx);  // handed to lbg-proxy (pipeline_intercept.cc)
  if (!admitPacket(*e, u, created, fromInitiator, tx)) return;  // pipeline_stream.cc
  if (v.ipProto == kTcp) {
    const auto ev = flow::trackTcp(e->meta, v, fromInitiator);
    if (ev != flow::TcpEvent::Ok && ev != flow::TcpEvent::Midstream) ++counters_.tcp_invalid;
  }
  if (e->meta.embryonic) flows_->noteProgress(*e);  // handshake done / answered: out of reach

  if (created) decideFirstPacket(*e, u, fromInitiator);
  if (e->meta.punted) return punt(*e, u, tx);
  // A verdict given under an older policy is checked against the current one (one compare on the
  // hot line; the check itself runs once per flow and reload).
  if (e->meta.epoch != snapEpoch_ && e->meta.verdict != Verdict::Pending) recheckVerdict(*e);
  // The packet count is on the entry's hot line: established flows past the first packets never
  // read the appid fields.
  const bool identifying = e->meta.pkts[0] + e->meta.pkts[1] <= config_.appIdPackets;
  if (identifying) stageAppId(*e, u, created);

  switch (e->meta.verdict) {
    case Verdict::Allow:
      if (!e->meta.synced && syncOut_ != nullptr) syncFirst(*e, u);  // HA (pipeline_sync.cc)
      // A service that demands applications: payload waits for nDPI's answer (app_hold.cc).
      if (identifying && holdUntilIdentified(*e, u, fromInitiator, tx)) return;
      if (e->meta.follow) {
        if (e->meta.follow & kFollowProbe) return waitProbe(u, tx);  // pipeline_probe.cc
        // Every later request head (http_follow.cc) or cleartext handshake record (tls_follow.cc)
        // is judged before it leaves.
        if ((e->meta.follow & kFollowHttp) && fromInitiator) {
          followHttp(*e, u, tx);
          return;
        }
        if ((e->meta.follow & kFollowTls) && fromInitiator) {
          followTls(*e, u, tx);
          return;
        }
        if ((e->meta.follow & kFollowCert) && !fromInitiator) {
          checkServerFlight(*e, u, tx);  // the certificate is checked first (pipeline_cert.cc)
          return;
        }
      }
      if (stageInspectAllowed(*e, u, fromInitiator)) {
        forwardAllowed(*e, u, fromInitiator, tx);  // 7. ids first (pipeline_ids.cc)
      } else {
        freeUnit(u);
      }
      return;
    case Verdict::Deny:
      applyVerdict(*e, u, fromInitiator, tx);
      return;
    case Verdict::Pending:
      handlePending(*e, u, fromInitiator, tx);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// 5–6. inspect and policy

void Pipeline::decideFirstPacket(Entry& e, Unit& u, bool fromInitiator) {
  const packet::PacketView& v = u.view;
  identity_ = Identity{};
  if (!e.meta.initiatorInside) {
    // The first packet we see of this flow came from outside: either a connection attempt from
    // the internet or the second half of a flow we never saw start. Neither is allowed.
    setVerdict(e, Action::Deny, Reason::Inbound, -1);
    return;
  }
  if (v.ipProto != kTcp && v.ipProto != kUdp) {
    setVerdict(e, Action::Deny, Reason::UnsupportedProtocol, -1);
    return;
  }
  const auto l4 = v.ipProto == kTcp ? policy::L4::Tcp : policy::L4::Udp;
  const IpAddr& server = fromInitiator ? v.dst : v.src;
  const uint16_t port = fromInitiator ? v.dstPort : v.srcPort;
  if (l4 == policy::L4::Udp && port == 443 && snap_->quic() == policy::QuicMode::Block) {
    e.user.appProto = AppProto::Quic;
    // Clients fall back to TCP/TLS, where interception and tenant restriction work.
    setVerdict(e, Action::Deny, Reason::Quic, -1,
               inspect::looksLikeQuicInitial({v.frame + v.payloadOffset, v.payloadLen})
                   ? std::string_view("initial")
                   : std::string_view{});
    return;
  }
  if (!snap_->portUsed(l4, port)) {
    setVerdict(e, Action::Deny, Reason::PortNotAllowed, -1);
    return;
  }
  if (config_.exceptionPort && l4 == policy::L4::Tcp && decideIntercept(e, u, server, port)) return;
  const int byAddress = snap_->matchAddress(server, l4, port);
  if (byAddress >= 0) {
    if (port == 53) e.user.appProto = AppProto::Dns;  // answers become bindings, UDP or TCP
    setVerdict(e, Action::Allow, Reason::Cidr, byAddress);
    return;
  }
  // TCP streams and QUIC Initials (UDP/443 when QUIC is allowed) name their server: judged by
  // the inspectors (pipeline_inspect.cc) when a listed name could allow the port.
  const bool named = l4 == policy::L4::Tcp || port == 443;
  if (named && snap_->portHasNames(l4, port)) {
    // With sni_dns: enforce a name can only be allowed at an address DNS bound to it; when the
    // address has no binding at all, no name will do, and the handshake is refused at once.
    if (snap_->sniDns() == policy::SniDnsMode::Enforce &&
        !dns_.anyName(server, now_, [](std::string_view) { return true; })) {
      setVerdict(e, Action::Deny, Reason::NoMatch, -1, "unresolved");
      return;
    }
    // A name-based rule could allow it: wait for the ClientHello or request head. The handshake
    // passes; client payload is held until the verdict.
    return;
  }
  if (!decideByBinding(e, server, l4, port)) setVerdict(e, Action::Deny, Reason::NoMatch, -1);
}

bool Pipeline::stageInspectAllowed(Entry& e, Unit& u, bool fromInitiator) {
  const packet::PacketView& v = u.view;
  // DNS on resolver flows (UDP or TCP port 53): queries are noted, matching answers bind
  // (pipeline_dns.cc). The packet's own fields first: most packets never read the entry's cold
  // appProto line.
  if (v.payloadLen == 0 || (fromInitiator ? v.dstPort : v.srcPort) != 53 ||
      e.user.appProto != AppProto::Dns) {
    return true;
  }
  return inspectDns(e, u, fromInitiator);
}

void Pipeline::stageAppId(Entry& e, const Unit& u, bool created) {
  if (appid_ == nullptr) return;
  if (created) {
    const uint32_t slot = appid_->acquire();  // kNoSlot when the pool is empty: counted there
    e.user.appSlotPlus1 = slot == inspect::AppId::kNoSlot ? 0 : slot + 1;
    if (e.user.appSlotPlus1 == 0) ++counters_.appid_unidentified;
  }
  if (e.user.appSlotPlus1 == 0) return;
  const packet::PacketView& v = u.view;
  const uint32_t l3Len = v.frameLen - v.l3Offset;
  const auto r =
      appid_->process(e.user.appSlotPlus1 - 1, v.frame + v.l3Offset,
                      static_cast<uint16_t>(l3Len > 65535 ? 65535 : l3Len), now_ / 1000000ull);
  if (r.finished) {
    finishAppId(e);
    enforceApp(e);
  }
}

void Pipeline::enforceApp(Entry& e) {
  // Only an allowed flow of a service that demands applications, judged by this snapshot (its
  // service index is valid here), once identification is over or impossible.
  if (e.meta.verdict != Verdict::Allow || e.user.policyVersion != snap_->version() ||
      !snap_->serviceDemandsApps(e.user.service)) {
    return;
  }
  if (e.user.appSlotPlus1 != 0) return;  // still identifying: decided when it finishes
  std::string_view protocol, application;
  if (appid_ != nullptr && e.user.appDone && !e.user.appGuessed) {
    protocol = appid_->protocolName(e.user.appMaster);
    application = appid_->protocolName(e.user.appApp ? e.user.appApp : e.user.appMaster);
  }
  if (!protocol.empty() && snap_->serviceAllowsApp(e.user.service, protocol, application)) return;
  // Something else, or nothing DPI could name (guessed, no slot, appid off): fail closed.
  identity_ = Identity{};
  setVerdict(e, Action::Deny, Reason::AppMismatch, -1,
             protocol.empty() ? std::string_view("unidentified") : application);
}

void Pipeline::finishAppId(Entry& e) {
  if (appid_ == nullptr || e.user.appSlotPlus1 == 0) return;
  const auto r = appid_->result(e.user.appSlotPlus1 - 1);
  e.user.appMaster = r.master != 0 ? r.master : r.app;
  e.user.appApp = r.app;
  e.user.appGuessed = r.guessed;
  e.user.appRisk = r.risk;
  e.user.appDone = r.finished;
  appid_->release(e.user.appSlotPlus1 - 1);
  e.user.appSlotPlus1 = 0;
}

void Pipeline::recheckVerdict(Entry& e) {
  e.meta.epoch = snapEpoch_;
  if (e.meta.verdict != Verdict::Allow || snap_->reload() == policy::ReloadMode::Keep) return;
  const bool loIsClient = e.meta.initiatorIsLo;
  const IpAddr& server = loIsClient ? e.key.hi : e.key.lo;
  const uint16_t port = loIsClient ? e.key.hiPort : e.key.loPort;
  const auto l4 = e.key.proto == kTcp ? policy::L4::Tcp : policy::L4::Udp;
  const int service = snap_->serviceById(e.user.serviceId);
  std::string_view why;
  if (service < 0) {
    why = "service-removed";
  } else if (!snap_->serviceAllowsPort(service, l4, port)) {
    why = "port-removed";
  } else if (e.user.reason == Reason::Cidr && snap_->matchAddress(server, l4, port) != service) {
    why = "address-removed";
  } else if (e.meta.punted && e.user.reason != Reason::CertProbe &&
             !snap_->service(service).intercept) {
    why = "intercept-removed";  // the proxy holds the connection: it cannot go back to the fast path
  } else if (!e.meta.punted && snap_->service(service).intercept) {
    why = "intercept-added";  // it cannot move to the proxy: it would go on without tenant headers
  }
  if (why.empty()) {
    // Still allowed by the same service: its index and the version now refer to this snapshot.
    e.user.service = service;
    e.user.policyVersion = snap_->version();
    enforceApp(e);  // the new version may demand applications of it
    return;
  }
  identity_ = Identity{};
  setVerdict(e, Action::Deny, Reason::PolicyChanged, -1, why);
}

void Pipeline::setVerdict(Entry& e, Action a, Reason r, int32_t service, std::string_view detail) {
  if (a == Action::Allow && bypassesProxy(e, r, service)) return refuseBypass(e, service);
  if (e.meta.synced && a != Action::Allow) syncGone(e);  // the HA peer forgets it
  e.meta.verdict = a == Action::Allow ? Verdict::Allow : Verdict::Deny;
  e.meta.epoch = snapEpoch_;
  e.user.reason = r;
  e.user.service = service;
  e.user.serviceId = snap_->serviceId(service);
  e.user.policyVersion = snap_->version();
  if (a == Action::Allow) {
    ++counters_.flows_allowed;
  } else {
    ++counters_.flows_denied;
  }
  telemetry::Event* ev = events_.reserve();
  if (ev == nullptr) {
    ++counters_.events_lost;
    return;
  }
  describeFlow(e, snap_, *ev);
  ev->kind = telemetry::EventKind::FlowVerdict;
  ev->timestampNs = now_;
  if (!identity_.name.empty()) {
    telemetry::Event::copyText(ev->name, ev->nameLen, sizeof(ev->name), identity_.name);
    ev->hasSni = identity_.sni;
    ev->hasHost = identity_.host;
    if (!identity_.sni && !identity_.host) {
      // A DNS-bound name: logged as the TLS/HTTP name would be, under dns.rrname.
      ev->hasSni = false;
    }
  }
  if (!identity_.alpn.empty()) {
    telemetry::Event::copyText(ev->alpn, ev->alpnLen, sizeof(ev->alpn), identity_.alpn);
  }
  if (!detail.empty()) {
    telemetry::Event::copyText(ev->detail, ev->detailLen, sizeof(ev->detail), detail);
  }
  events_.commit();
}

// ---------------------------------------------------------------------------------------------
// 8. verdict

void Pipeline::applyVerdict(Entry& e, Unit& u, bool fromInitiator, TxSink& tx) {
  const PortRole towardServer = e.meta.initiatorInside ? PortRole::Outside : PortRole::Inside;
  if (e.meta.verdict == Verdict::Allow) {
    releaseHeld(e, tx, towardServer);
    forwardAllowed(e, u, fromInitiator, tx);  // denied by the IDS in between: the deny path
    return;
  }
  // Deny: nothing of the flow crosses. The first denied packet of an inside-initiated TCP flow
  // triggers resets (once per flow: a reset per packet would let an outsider amplify traffic).
  if (e.key.proto == kTcp && snap_->denyAction() == policy::DenyAction::Reset &&
      e.meta.tcpState != flow::TcpState::Closed && !(e.meta.flags & kFlowResetDone) &&
      e.meta.initiatorInside && (u.view.tcpFlags & kTcpRst) == 0 && u.view.ipVersion != 0) {
    e.meta.flags |= kFlowResetDone;
    const PortRole clientSide = PortRole::Inside;
    const PortRole sourceSide = fromInitiator ? clientSide : otherPort(clientSide);
    // Reset the server too once it has seen the handshake, so that it frees its side.
    const bool serverToo = !fromInitiator || e.user.serverSawHandshake || u.view.payloadLen > 0;
    sendResets(u.view, sourceSide, serverToo, tx);
  }
  if (e.meta.follow & kFollowCert) endCertCheck(e);  // its request slot is free at once
  freeHeld(e);
  if (u.count > 0) ++counters_.packets_denied;
  freeUnit(u);
}

void Pipeline::forward(Unit& u, TxSink& tx) {
  const PortRole out = u.fromInside ? PortRole::Outside : PortRole::Inside;
  for (uint16_t i = 0; i < u.count; ++i) {
    tx.send(out, u.mbufs[i]);
    ++counters_.tx_packets;
  }
  u.count = 0;
}

void Pipeline::releaseHeld(Entry& e, TxSink& tx, PortRole out) {
  if (idsScans(e)) return idsReleaseHeld(e, tx, out);  // in stream order (pipeline_ids.cc)
  e.meta.flags &= uint8_t(~kFlowHolding);
  hold_.drain(e.user.hold, [&](rte_mbuf* m) {
    tx.send(out, m);
    ++counters_.tx_packets;
  });
}

void Pipeline::freeHeld(Entry& e) {
  if (!(e.meta.flags & kFlowHolding)) return;  // the hold is off the hot lines: most have none
  e.meta.flags &= uint8_t(~kFlowHolding);
  hold_.drain(e.user.hold, [](rte_mbuf* m) { rte_pktmbuf_free(m); });
}

void Pipeline::sendResets(const packet::PacketView& p, PortRole sourceSide, bool bothWays,
                          TxSink& tx) {
  for (int toward = 0; toward < (bothWays ? 2 : 1); ++toward) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
      ++counters_.reset_alloc_failed;
      return;
    }
    const bool towardSource = toward == 0;
    uint8_t* buf = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 128));
    const size_t len = buf ? buildTcpReset(p, towardSource, buf, 128) : 0;
    if (len == 0) {
      rte_pktmbuf_free(m);
      continue;
    }
    rte_pktmbuf_trim(m, static_cast<uint16_t>(128 - len));
    tx.send(towardSource ? sourceSide : otherPort(sourceSide), m);
    ++counters_.resets_sent;
    ++counters_.tx_packets;
  }
}

// ---------------------------------------------------------------------------------------------
// 9. log, and flow ends

void Pipeline::describeFlow(const Entry& e, const policy::Snapshot* snap, telemetry::Event& ev) {
  std::memset(static_cast<void*>(&ev), 0, sizeof(ev));
  const bool loIsClient = e.meta.initiatorIsLo;
  ev.src = loIsClient ? e.key.lo : e.key.hi;
  ev.dst = loIsClient ? e.key.hi : e.key.lo;
  ev.srcPort = loIsClient ? e.key.loPort : e.key.hiPort;
  ev.dstPort = loIsClient ? e.key.hiPort : e.key.loPort;
  ev.proto = e.key.proto;
  ev.flowId = e.user.flowId;
  ev.policyVersion = e.user.policyVersion;
  ev.appProto = e.user.appProto;
  ev.action = e.meta.verdict == Verdict::Allow ? Action::Allow : Action::Deny;
  ev.reason = e.meta.verdict == Verdict::Pending ? Reason::None : e.user.reason;
  ev.tcpState = static_cast<uint8_t>(e.meta.tcpState);
  ev.startNs = e.user.firstSeenNs;
  ev.endNs = e.meta.lastSeenNs;
  for (int d = 0; d < 2; ++d) {
    ev.pkts[d] = e.meta.pkts[d];
    ev.bytes[d] = e.meta.bytes[d];
  }
  // The service index belongs to the snapshot that gave the verdict; another one may differ.
  if (e.user.service >= 0 && snap != nullptr && e.user.policyVersion == snap->version() &&
      static_cast<size_t>(e.user.service) < snap->serviceCount()) {
    telemetry::Event::copyText(ev.service, ev.serviceLen, sizeof(ev.service),
                               snap->service(e.user.service).name);
  }
}

void Pipeline::emitEnd(const Entry& e, telemetry::EndReason why) {
  telemetry::Event* ev = events_.reserve();
  if (ev == nullptr) {
    ++counters_.events_lost;
    return;
  }
  describeFlow(e, snap_, *ev);
  ev->kind = telemetry::EventKind::FlowEnd;
  ev->timestampNs = now_;
  ev->endReason = why;
  if (appid_ != nullptr && (e.user.appMaster != 0 || e.user.appApp != 0)) {
    telemetry::Event::copyText(ev->appMaster, ev->appMasterLen, sizeof(ev->appMaster),
                               appid_->protocolName(e.user.appMaster));
    telemetry::Event::copyText(
        ev->appName, ev->appNameLen, sizeof(ev->appName),
        appid_->protocolName(e.user.appApp ? e.user.appApp : e.user.appMaster));
    ev->appGuessed = e.user.appGuessed;
    ev->appRisk = e.user.appRisk;
  }
  events_.commit();
}

void Pipeline::endFlow(Entry& e, telemetry::EndReason why) {
  ++counters_.flows_ended;
  if (e.meta.synced) syncGone(e);
  guardRelease(e);
  idsRelease(e);
  if (e.meta.follow & kFollowCert) endCertCheck(e);
  finishAppId(e);  // a flow shorter than the identification window keeps what nDPI saw
  freeHeld(e);
  if (e.user.stream.active()) streams_->detach(e.user.stream);
  flow::guardRelease(*rings_, e.guard);
  emitEnd(e, why);
}

void Pipeline::housekeeping(uint64_t nowNs) {
  now_ = nowNs;
  snap_ = policySlot_.enter(worker_);
  snapEpoch_ = static_cast<uint32_t>(snap_->version());
  guardFlushDenied(false);
  flows_->expire(nowNs, config_.expireBudget, [this](Entry& e) {
    endFlow(e, e.meta.tcpState == flow::TcpState::Closed ? telemetry::EndReason::Closed
                                                         : telemetry::EndReason::Timeout);
  });
  frags_->expire(nowNs, [this](uint64_t handle) {
    ++counters_.fragments_dropped;
    rte_pktmbuf_free(reinterpret_cast<rte_mbuf*>(handle));
  });
}

void Pipeline::drainAll(uint64_t nowNs) {
  now_ = nowNs;
  snap_ = policySlot_.enter(worker_);
  std::vector<Entry*> all;  // shutdown path, not per packet
  flows_->forEach([&](const Entry& e) { all.push_back(const_cast<Entry*>(&e)); });
  for (Entry* e : all) {
    endFlow(*e, telemetry::EndReason::Shutdown);
    flows_->erase(e);
  }
  guardFlushDenied(true);
  frags_->expire(UINT64_MAX, [this](uint64_t handle) {
    ++counters_.fragments_dropped;
    rte_pktmbuf_free(reinterpret_cast<rte_mbuf*>(handle));
  });
}

}  // namespace lbg::dataplane
