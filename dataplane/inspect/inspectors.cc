// The ordered inspector tables (inspector.h). Order matters only where two could claim the same
// bytes; `other` comes last and claims everything.

#include "dataplane/inspect/inspector.h"

namespace lbg::inspect {

using telemetry::Reason;

namespace {

bool claimsAny(const InspectInput&) {
  return true;
}

// Neither TLS nor HTTP (nor QUIC): only a DNS binding of the server address can identify the
// service.
Finding inspectOther(const InspectInput& in, InspectScratch&) {
  Finding f;
  f.outcome = Outcome::NoName;
  f.reason = in.midstream ? Reason::Midstream : Reason::NoMatch;
  f.detail = "unidentified";
  return f;
}

// Pointers, not copies: the entries live in other files.
const Inspector* const kStream[] = {&kTlsInspector, &kHttpInspector, &kOtherInspector};
const Inspector* const kDatagram[] = {&kQuicInspector, &kOtherInspector};

}  // namespace

const Inspector kOtherInspector{"other", claimsAny, inspectOther};

InspectorTable streamInspectors() {
  return kStream;
}
InspectorTable datagramInspectors() {
  return kDatagram;
}

const Inspector& inspectorFor(InspectorTable table, const InspectInput& in) {
  for (const Inspector* i : table) {
    if (i->claims(in)) return *i;
  }
  return *table.back();
}

}  // namespace lbg::inspect
