// TLS over TCP: the ClientHello names the server (SNI); a second handshake message behind it
// before the server spoke must not name another (hello_tail.h).

#include "dataplane/inspect/inspector.h"
#include "dataplane/inspect/tls/hello_tail.h"

namespace lbg::inspect {

using telemetry::AppProto;
using telemetry::Reason;

namespace {

bool claimsTls(const InspectInput& in) {
  return !in.bytes.empty() && in.bytes[0] == 0x16;
}

Finding inspectTls(const InspectInput& in, InspectScratch& s) {
  TlsClientHello& hello = s.hello;
  const Status st = parseClientHello(in.bytes, hello);
  if (st == Status::NeedMore) return needMoreOrLimit(in, AppProto::Tls, "client-hello-size");
  Finding f;
  f.proto = AppProto::Tls;
  if (st != Status::Done) {
    f.outcome = Outcome::Deny;
    f.reason = Reason::Ambiguous;
    f.detail = toString(hello.reason);
    return f;
  }
  f.sni = hello.hasSni;
  f.name = {hello.sni, hello.sniLen};
  if (hello.alpnCount > 0) f.alpn = {hello.alpn[0], hello.alpnLen[0]};
  f.encryptedName = hello.ech;
  f.tlsLegacyVersion = hello.legacyVersion;
  f.tlsOffers13 = hello.offersTls13;
  f.tlsEarlyData = hello.earlyData;
  f.judgedEnd = in.leadOffset + uint32_t(helloRecordsEnd(in.bytes, hello));
  const HelloTail tail = checkHelloTail(in.bytes, hello, s.second);
  if (tail == HelloTail::OtherName) {
    f.outcome = Outcome::Deny;
    f.reason = Reason::SniChanged;
    f.detail = {s.second.sni, s.second.sniLen};
  } else if (tail == HelloTail::Extra) {
    f.outcome = Outcome::Deny;
    f.reason = Reason::Ambiguous;
    f.detail = "tls-second-handshake";
  } else if (!hello.hasSni) {
    f.outcome = Outcome::NoName;
    f.reason = Reason::NoSni;
  } else {
    f.outcome = Outcome::Name;
  }
  return f;
}

}  // namespace

const Inspector kTlsInspector{"tls", claimsTls, inspectTls};

}  // namespace lbg::inspect
