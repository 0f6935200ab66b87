// HTTP/1.x over TCP: the request head names the server (Host). The pipeline follows the later
// heads of the connection (core/http_follow.cc) from `judgedEnd`.

#include "dataplane/inspect/inspector.h"

namespace lbg::inspect {

using telemetry::AppProto;
using telemetry::Reason;

namespace {

// "GET ", "POST ", "OPTIONS " …: an upper-case token then a space, within the first 16 bytes.
bool claimsHttp(const InspectInput& in) {
  const auto s = in.bytes;
  size_t i = 0;
  while (i < s.size() && i < 16 && s[i] >= 'A' && s[i] <= 'Z') ++i;
  if (i == s.size()) return i > 0;  // still could be (NeedMore decides)
  return i >= 3 && s[i] == ' ';
}

Finding inspectHttp(const InspectInput& in, InspectScratch& s) {
  HttpRequestHead& head = s.head;
  const Status st = parseHttpRequestHead(in.bytes, head);
  if (st == Status::NeedMore) return needMoreOrLimit(in, AppProto::Http, "request-head-size");
  Finding f;
  f.proto = AppProto::Http;
  if (st != Status::Done) {
    const bool connect = head.reason == HttpReason::Connect;
    f.outcome = Outcome::Deny;
    f.reason = connect ? Reason::HttpConnect : Reason::Ambiguous;
    if (!connect) f.detail = toString(head.reason);
  } else if (!head.hasHost) {
    f.outcome = Outcome::NoName;
    f.reason = Reason::NoMatch;
    f.detail = "no-host";
  } else {
    f.outcome = Outcome::Name;
    f.host = true;
    f.name = {head.host, head.hostLen};
    f.head = &head;
    f.judgedEnd = in.leadOffset + head.headLength;
  }
  return f;
}

}  // namespace

const Inspector kHttpInspector{"http", claimsHttp, inspectHttp};

}  // namespace lbg::inspect
