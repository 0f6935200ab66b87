// QUIC over UDP: the ClientHello inside the client's first Initial names the server (SNI), read
// with the public Initial keys (client_hello.h), so that QUIC flows are judged like TLS ones.
// Anything else on the datagram (not an Initial, a version we cannot decrypt, a ClientHello that
// continues in the next datagram) names nothing and is judged by the DNS binding of the address,
// as every UDP/443 flow was before the SNI was read.

#include "dataplane/inspect/inspector.h"
#include "dataplane/inspect/quic/initial.h"

namespace lbg::inspect {

using telemetry::AppProto;
using telemetry::Reason;

namespace {

bool claimsQuic(const InspectInput& in) {
  return in.datagram && looksLikeQuicInitial(in.bytes);
}

Finding inspectQuic(const InspectInput& in, InspectScratch& s) {
  QuicClientHello& q = s.quic;
  const Status st = parseQuicClientHello(in.bytes, q);
  Finding f;
  f.proto = AppProto::Quic;
  if (st == Status::Done) {
    const TlsClientHello& hello = q.tls;
    f.sni = hello.hasSni;
    f.name = {hello.sni, hello.sniLen};
    if (hello.alpnCount > 0) f.alpn = {hello.alpn[0], hello.alpnLen[0]};
    f.encryptedName = hello.ech;
    f.tlsLegacyVersion = hello.legacyVersion;
    f.tlsOffers13 = hello.offersTls13;
    f.outcome = hello.hasSni ? Outcome::Name : Outcome::NoName;
    if (!hello.hasSni) f.reason = Reason::NoSni;
    return f;
  }
  if (st == Status::Invalid && q.reason != QuicReason::UnsupportedVersion &&
      q.reason != QuicReason::NotInitial) {
    // A client Initial that a server could read otherwise than we do (conflicting CRYPTO data, a
    // ClientHello the TLS parser refuses): ambiguity is denied, as over TCP.
    f.outcome = Outcome::Deny;
    f.reason = Reason::Ambiguous;
    f.detail = q.reason == QuicReason::Tls ? toString(q.tls.reason) : toString(q.reason);
    return f;
  }
  f.outcome = Outcome::NoName;
  f.reason = Reason::NoMatch;
  f.detail = st == Status::NeedMore ? "quic-hello-split" : "quic-unread";
  return f;
}

}  // namespace

const Inspector kQuicInspector{"quic", claimsQuic, inspectQuic};

}  // namespace lbg::inspect
