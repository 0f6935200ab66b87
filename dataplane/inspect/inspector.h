#pragma once

// The inspector interface: what an inspector needs from a flow and what it returns. The pipeline
// (dataplane/core/pipeline_inspect.cc) owns sequence numbers, holding, the policy and the verdict;
// an inspector owns only the reading of client bytes. A flow waiting for its verdict is offered to
// the inspectors of its transport in table order (inspectors.cc); the first that claims the bytes
// judges them, every time more bytes arrive, until it returns something other than NeedMore.
//
// Dispatch is one indirect call per pending packet through a constant table of plain function
// pointers (no virtual objects, no allocation): parsers write into the worker's InspectScratch and
// a Finding's views point into the flow's bytes or into that scratch, valid until the next call.
//
// To add an inspector (the certificate check, the IDS, …): a folder with its parser, its
// `inspector.cc` defining one `Inspector`, its tests and fuzz target; one line in inspectors.cc.

#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/inspect/http/request.h"
#include "dataplane/inspect/quic/client_hello.h"
#include "dataplane/inspect/tls/client_hello.h"
#include "dataplane/telemetry/event.h"

namespace lbg::inspect {

// What an inspector needs from a flow.
struct InspectInput {
  // TCP: the contiguous client stream from the first message byte (after the bytes servers
  // tolerate before it, stream_lead.h), growing as packets arrive. UDP: one client datagram.
  std::span<const uint8_t> bytes;
  uint32_t leadOffset;  // TCP: stream bytes skipped before `bytes`
  uint32_t capacity;    // TCP: the most stream bytes the pipeline can hold for one flow
  uint16_t serverPort;
  bool datagram;   // UDP
  bool midstream;  // TCP: the flow's SYN was not seen
};

// What it returns.
enum class Outcome : uint8_t {
  NeedMore,  // consistent so far, not complete: keep holding the client's bytes
  Name,      // the server is named (SNI, Host): judge the name
  NoName,    // nothing names the server: judge by the DNS binding of its address, else deny
             // with `reason`/`detail`
  Deny,      // refused as it stands (ambiguity is denied): deny with `reason`/`detail`
};

struct Finding {
  Outcome outcome = Outcome::NeedMore;
  telemetry::AppProto proto = telemetry::AppProto::Unknown;
  telemetry::Reason reason = telemetry::Reason::None;
  std::string_view detail;
  std::string_view name;  // SNI or Host; logged with the verdict, also on a Deny
  std::string_view alpn;
  bool sni = false;
  bool host = false;
  bool encryptedName = false;  // ECH/ESNI offered: the real name is hidden (the policy decides)
  // TLS: the handshake versions the client offers (protocol-on-port checks them).
  uint16_t tlsLegacyVersion = 0;
  bool tlsOffers13 = false;
  bool tlsEarlyData = false;  // 0-RTT offered: application data may precede a second hello
  // HTTP: the judged head; HTTP and TLS: the stream offset just past the judged message (the
  // pipeline follows what comes after it: core/http_follow.cc, core/tls_follow.cc).
  const HttpRequestHead* head = nullptr;
  uint32_t judgedEnd = 0;
};

// Parser outputs, one per worker, reused by every call (large: kept off the stack of the hot path).
struct InspectScratch {
  TlsClientHello hello;
  TlsClientHello second;
  HttpRequestHead head;
  QuicClientHello quic;
};

struct Inspector {
  std::string_view name;
  // Whether these bytes are this inspector's to judge (a cheap look at the first bytes).
  bool (*claims)(const InspectInput& in);
  Finding (*inspect)(const InspectInput& in, InspectScratch& scratch);
};

// The ordered tables: TCP streams (tls, http, then `other` which claims anything) and UDP
// datagrams (quic, then `other`). Never empty; the last entry claims every input.
using InspectorTable = std::span<const Inspector* const>;
InspectorTable streamInspectors();
InspectorTable datagramInspectors();
// The first inspector of `table` that claims `in`.
const Inspector& inspectorFor(InspectorTable table, const InspectInput& in);

// Shared by inspectors: NeedMore while the pipeline can still hold more, else an inspect-limit
// deny saying what did not fit.
inline Finding needMoreOrLimit(const InspectInput& in, telemetry::AppProto proto,
                               std::string_view what) {
  Finding f;
  f.proto = proto;
  if (in.bytes.size() >= in.capacity) {
    f.outcome = Outcome::Deny;
    f.reason = telemetry::Reason::InspectLimit;
    f.detail = what;
  }
  return f;
}

// The entries, each defined beside its parser.
extern const Inspector kTlsInspector;    // tls/inspector.cc
extern const Inspector kHttpInspector;   // http/inspector.cc
extern const Inspector kQuicInspector;   // quic/inspector.cc
extern const Inspector kOtherInspector;  // inspectors.cc

}  // namespace lbg::inspect
