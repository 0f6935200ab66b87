// libFuzzer target: the inspector tables (inspector.h) on arbitrary bytes, taken as a TCP client
// stream (with every capacity cut the pipeline could use) and as a UDP datagram. Checks the
// interface's contract, which the pipeline relies on without re-checking:
//   - the table always gives an inspector (the last one claims everything);
//   - a datagram is never answered NeedMore (nothing is held for UDP);
//   - Deny and NoName carry a reason, Name a non-empty valid host name;
//   - a NeedMore at or past the capacity does not happen (it becomes an inspect-limit deny);
//   - the HTTP head to follow ends inside the bytes given, and so does a judged TLS hello
//     (where the pipeline starts following its records);
//   - the same bytes give the same finding twice (no hidden state).

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "dataplane/inspect/hostname.h"
#include "dataplane/inspect/inspector.h"

using namespace lbg::inspect;

namespace {

void check(const InspectInput& in, const Finding& f) {
  if (in.datagram && f.outcome == Outcome::NeedMore) std::abort();
  if (!in.datagram && f.outcome == Outcome::NeedMore && in.bytes.size() >= in.capacity) {
    std::abort();
  }
  if ((f.outcome == Outcome::Deny || f.outcome == Outcome::NoName) &&
      f.reason == lbg::telemetry::Reason::None) {
    std::abort();
  }
  if (f.outcome == Outcome::Name) {
    if (f.name.empty()) std::abort();
    if (f.sni && !isHostname(reinterpret_cast<const uint8_t*>(f.name.data()), f.name.size(),
                             false)) {
      std::abort();
    }
  }
  if (f.head != nullptr && f.judgedEnd > in.leadOffset + in.bytes.size()) std::abort();
  if (!in.datagram && f.proto == lbg::telemetry::AppProto::Tls &&
      (f.outcome == Outcome::Name || f.outcome == Outcome::NoName) &&
      (f.judgedEnd <= in.leadOffset || f.judgedEnd > in.leadOffset + in.bytes.size())) {
    std::abort();
  }
}

bool same(const Finding& a, const Finding& b) {
  return a.outcome == b.outcome && a.proto == b.proto && a.reason == b.reason &&
         a.detail == b.detail && a.name == b.name && a.judgedEnd == b.judgedEnd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static InspectScratch s1, s2;
  const std::span<const uint8_t> bytes(data, size);
  for (const uint32_t capacity : {uint32_t(16384), uint32_t(size), uint32_t(size + 1)}) {
    if (capacity == 0) continue;
    const InspectInput in{bytes, 3, capacity, 443, false, size % 2 == 0};
    const Inspector& i = inspectorFor(streamInspectors(), in);
    const Finding a = i.inspect(in, s1);
    check(in, a);
    if (!same(a, i.inspect(in, s2))) std::abort();
  }
  const InspectInput dg{bytes, 0, uint32_t(size), 443, true, false};
  const Finding d = inspectorFor(datagramInspectors(), dg).inspect(dg, s1);
  check(dg, d);
  return 0;
}
