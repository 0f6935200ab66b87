// 5–6. inspect and policy for flows waiting for their verdict: the client's bytes are held and
// offered to the inspector of their transport (dataplane/inspect/inspector.h); what it finds is
// judged here, the same way for every inspector:
//
//   hold    TCP: checksum, stream buffer, hold queue      holdClientBytes()
//   read    the bytes servers tolerate first, skipped     inspect::skipStreamLead()
//   inspect the first inspector of the table that claims  inspect::inspectorFor()
//   judge   name / DNS binding / deny, by the policy      judgeFinding()
//   apply   release or free what was held                 applyVerdict()

#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/core/pipeline.h"
#include "dataplane/inspect/stream_lead.h"

namespace lbg::dataplane {

using telemetry::Action;
using telemetry::AppProto;
using telemetry::Reason;

namespace {
constexpr uint8_t kUdp = 17;
constexpr uint8_t kTcpSyn = 0x02, kTcpAck = 0x10;
}  // namespace

bool Pipeline::protocolFits(Entry& e, int service, policy::L4 l4, uint16_t port,
                            const inspect::Finding* f) {
  if (f == nullptr) return true;  // judged before any client byte (CIDR, DNS binding at the SYN)
  using policy::PortProtocol;
  using telemetry::AppProto;
  const PortProtocol want = snap_->portProtocol(service, l4, port);
  std::string_view seen;
  if (want == PortProtocol::Tls) {
    if (f->proto != AppProto::Tls && f->proto != AppProto::Quic) {
      seen = f->proto == AppProto::Http ? "http" : "other";
    } else if (f->tlsLegacyVersion < 0x0303) {
      seen = "tls-version";  // TLS 1.1 or older: 1.2 and 1.3 both say 0x0303 here
    }
  } else if (want == PortProtocol::Http && f->proto != AppProto::Http) {
    seen = f->proto == AppProto::Tls ? "tls" : "other";
  }
  if (seen.empty()) return true;
  setVerdict(e, Action::Deny, Reason::ProtocolMismatch, -1, seen);
  return false;
}

bool Pipeline::decideByBinding(Entry& e, const IpAddr& server, policy::L4 proto, uint16_t port,
                               const inspect::Finding* f) {
  int service = -1;
  // The bound name is logged: it is why the address was trusted. The table's view of it lives
  // only inside the callback, so it is copied; the verdict event copies it again at once.
  char bound[256];
  size_t boundLen = 0;
  dns_.anyName(server, now_, [&](std::string_view name) {
    const int s = snap_->matchName(name, proto, port);
    if (s < 0) return false;
    service = s;
    boundLen = std::min(name.size(), sizeof(bound));
    std::memcpy(bound, name.data(), boundLen);
    return true;
  });
  if (service < 0) return false;
  if (!protocolFits(e, service, proto, port, f)) return true;
  identity_.name = std::string_view(bound, boundLen);
  setVerdict(e, Action::Allow, Reason::DnsBinding, service);
  identity_ = Identity{};
  return true;
}

void Pipeline::decideByName(Entry& e, const inspect::Finding& f, policy::L4 l4, uint16_t port,
                            const IpAddr& server) {
  const Reason how = f.sni ? Reason::Sni : Reason::Host;
  const int service = snap_->matchName(f.name, l4, port);
  if (service < 0) {
    setVerdict(e, Action::Deny, Reason::NoMatch, -1);
    return;
  }
  if (!protocolFits(e, service, l4, port, &f)) return;
  // SNI/Host spoofing guard: the name must have been resolved to this address through DNS for a
  // name of the same service, or a client could name an allowed service while connecting anywhere.
  if (snap_->sniDns() != policy::SniDnsMode::Off) {
    const bool bound = dns_.anyName(server, now_, [&](std::string_view bn) {
      return snap_->matchName(bn, l4, port) == service;
    });
    if (!bound) {
      if (snap_->sniDns() == policy::SniDnsMode::Enforce) {
        setVerdict(e, Action::Deny, Reason::SniDnsMismatch, service);
        return;
      }
      setVerdict(e, Action::Allow, how, service, "dns-unverified");
      return;
    }
  }
  setVerdict(e, Action::Allow, how, service);
}

void Pipeline::judgeFinding(Entry& e, const inspect::Finding& f, policy::L4 l4, uint16_t port,
                            const IpAddr& server) {
  e.user.appProto = f.proto;
  identity_.sni = f.sni;
  identity_.host = f.host;
  identity_.name = f.name;
  identity_.alpn = f.alpn;
  switch (f.outcome) {
    case inspect::Outcome::NeedMore:
      return;
    case inspect::Outcome::Deny:
      setVerdict(e, Action::Deny, f.reason, -1, f.detail);
      return;
    case inspect::Outcome::Name:
    case inspect::Outcome::NoName:
      break;
  }
  if (f.encryptedName && snap_->ech() == policy::EchMode::Block) {
    // The real server name is encrypted; the outer name proves nothing.
    setVerdict(e, Action::Deny, Reason::Ech, -1);
  } else if (f.outcome == inspect::Outcome::NoName) {
    if (!decideByBinding(e, server, l4, port, &f)) {
      setVerdict(e, Action::Deny, f.reason, -1, f.detail);
    }
  } else if (f.head == nullptr || armHttpFollow(e, *f.head, f.judgedEnd)) {
    decideByName(e, f, l4, port, server);
  }
  // An allowed TLS connection stays judged until its encrypted phase (tls_follow.cc).
  if (f.proto == AppProto::Tls && l4 == policy::L4::Tcp && e.meta.verdict == Verdict::Allow) {
    armTlsFollow(e, f);
  }
}

bool Pipeline::holdClientBytes(Entry& e, Unit& u) {
  const packet::PacketView& v = u.view;
  if (!e.user.stream.active()) {
    const uint32_t base =
        e.meta.sawSyn ? e.meta.isn[0] + 1 : ((v.tcpFlags & kTcpSyn) ? v.seq + 1 : v.seq);
    if (!streams_->attach(e.user.stream, base)) {
      ++counters_.stream_exhausted;
      setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "stream-buffers");
      return false;
    }
  }
  // Data carried in a SYN (TCP Fast Open) starts one past the SYN's sequence number.
  const uint32_t dataSeq = (v.tcpFlags & kTcpSyn) ? v.seq + 1 : v.seq;
  const auto added =
      flow::streamAdd(*streams_, e.user.stream, dataSeq, v.frame + v.payloadOffset, v.payloadLen);
  if (added == flow::StreamStatus::Conflict) {
    setVerdict(e, Action::Deny, Reason::StreamConflict, -1);
    return false;
  }
  if (added == flow::StreamStatus::OutOfWindow) {
    setVerdict(e, Action::Deny, Reason::InspectLimit, -1, "stream-window");
    return false;
  }
  if (e.user.hold.count + u.count > config_.maxHeldPerFlow) {
    setVerdict(e, Action::Deny, Reason::InspectLimit, -1, "held-packets");
    return false;
  }
  e.meta.flags |= kFlowHolding;
  for (uint16_t i = 0; i < u.count; ++i) {
    if (!hold_.push(e.user.hold, u.mbufs[i])) {
      // Already held mbufs of this unit are freed with the flow's hold queue.
      for (uint16_t j = i; j < u.count; ++j) rte_pktmbuf_free(u.mbufs[j]);
      ++counters_.hold_exhausted;
      setVerdict(e, Action::Deny, Reason::ResourceExhausted, -1, "hold-pool");
      u.count = 0;
      return false;
    }
    ++counters_.packets_held;
  }
  u.count = 0;  // owned by the hold queue now
  return true;
}

void Pipeline::inspectStream(Entry& e, const packet::PacketView& v) {
  const auto whole = flow::streamContiguous(*streams_, e.user.stream);
  if (whole.empty()) return;  // first bytes still missing (out of order)
  // Empty lines before a request and non-handshake records before a ClientHello are tolerated
  // by servers: walked over, so that SNI and Host are still read (inspect/stream_lead.h).
  const auto lead = inspect::skipStreamLead(whole);
  if (lead.status == inspect::Status::Invalid) {
    setVerdict(e, Action::Deny, Reason::Ambiguous, -1, "tls-lead-records");
    return;
  }
  if (lead.status == inspect::Status::NeedMore) {
    if (whole.size() >= streams_->bytesEach()) {
      setVerdict(e, Action::Deny, Reason::InspectLimit, -1, "stream-lead");
    }
    return;
  }
  const inspect::InspectInput in{whole.subspan(lead.offset),
                                 uint32_t(lead.offset),
                                 streams_->bytesEach(),
                                 v.dstPort,
                                 false,
                                 !e.meta.sawSyn};
  const auto& inspector = inspect::inspectorFor(inspect::streamInspectors(), in);
  judgeFinding(e, inspector.inspect(in, scratch_), policy::L4::Tcp, v.dstPort, v.dst);
}

void Pipeline::inspectDatagram(Entry& e, const packet::PacketView& v) {
  const inspect::InspectInput in{
      {v.frame + v.payloadOffset, v.payloadLen}, 0, v.payloadLen, v.dstPort, true, false};
  const auto& inspector = inspect::inspectorFor(inspect::datagramInspectors(), in);
  judgeFinding(e, inspector.inspect(in, scratch_), policy::L4::Udp, v.dstPort, v.dst);
  // One datagram decides: nothing is held for UDP (a datagram inspector never asks for more).
  if (e.meta.verdict == Verdict::Pending) setVerdict(e, Action::Deny, Reason::NoMatch, -1);
}

void Pipeline::handlePending(Entry& e, Unit& u, bool fromInitiator, TxSink& tx) {
  const packet::PacketView& v = u.view;
  if (v.payloadLen == 0) {
    // Handshake, pure ACKs, FIN and RST carry no data to judge and pass while pending.
    if (fromInitiator && (v.tcpFlags & kTcpAck)) e.user.serverSawHandshake = true;
    forward(u, tx);
    return;
  }
  identity_ = Identity{};
  if (!fromInitiator) {
    // The server spoke first. On a port where TLS or HTTP is declared (a cloud service's tcp/443
    // by default) that is not the declared protocol, whose client speaks first: the flow is
    // denied at once and the server's bytes never reach the client, instead of being judged as
    // "another protocol" by the address alone.
    if (snap_->portDeclaresProtocol(policy::L4::Tcp, v.srcPort)) {
      setVerdict(e, Action::Deny, Reason::ProtocolMismatch, -1, "server-first");
      applyVerdict(e, u, fromInitiator, tx);
      return;
    }
    // Elsewhere (SMTP, FTP, SSH banners…): only the DNS binding can vouch for it.
    if (!decideByBinding(e, u.view.src, policy::L4::Tcp, v.srcPort)) {
      setVerdict(e, Action::Deny, Reason::NoMatch, -1, "server-first");
    }
    applyVerdict(e, u, fromInitiator, tx);
    return;
  }
  if (config_.verifyChecksums && !packet::l4ChecksumValid(v)) {
    // The server would drop it; so do we, without letting its bytes reach the inspector.
    ++counters_.bad_checksum;
    freeUnit(u);
    return;
  }
  if (v.ipProto == kUdp) {
    inspectDatagram(e, v);
  } else if (holdClientBytes(e, u)) {
    inspectStream(e, v);
  }
  if (e.meta.verdict == Verdict::Pending) return;
  enforceApp(e);  // identification may have finished before the name was complete
  idsJudged(e);  // 7. ids: the names the inspector found (pipeline_ids.cc)
  if (e.meta.verdict == Verdict::Allow && (e.meta.follow & kFollowHttp)) {
    resumeHttpCarry(e, u, tx);  // bytes after the first head are judged before release
    return;
  }
  // Allowed by SNI: the server's certificate is checked before its flight reaches the client
  // (pipeline_cert.cc). Before adoptJudged(): the SNI lies in the stream buffer.
  if (e.meta.verdict == Verdict::Allow && identity_.sni && verifier_ != nullptr &&
      e.user.appProto == telemetry::AppProto::Tls && e.user.reason == Reason::Sni &&
      snap_->service(e.user.service).certCheck != policy::CertCheck::Off) {
    armCertCheck(e, identity_.name);
  }
  if (e.meta.verdict == Verdict::Allow && (e.meta.follow & kFollowTls)) {
    // Records after the judged hello are walked before release; the guard keeps the judged
    // bytes while the buffer may still hold a hello that is not complete.
    adoptJudged(e, false);
    if (e.meta.verdict != Verdict::Allow) {
      streams_->detach(e.user.stream);
      applyVerdict(e, u, fromInitiator, tx);
      return;
    }
    if (awaitProbe(e, u, tx)) return;  // a TLS 1.3 destination proves itself first
    resumeTlsCarry(e, u, tx);
    return;
  }
  adoptJudged(e);  // pipeline_stream.cc: the guard keeps what was released
  if (e.meta.verdict == Verdict::Allow && e.user.appSlotPlus1 != 0 &&
      snap_->serviceDemandsApps(e.user.service)) {
    return;  // held until nDPI names the application (app_hold.cc)
  }
  applyVerdict(e, u, fromInitiator, tx);
}

}  // namespace lbg::dataplane
