// libFuzzer target: the TLS record follower (tls/record_follow.h) driven the way the pipeline
// drives it (core/tls_follow.cc): walk, stop at a later ClientHello, read it again from its first
// byte until complete. The property that matters against evasion: which hellos are found, where
// the walk ends and why it refuses do not depend on how the bytes are cut into segments. Input:
// byte 0 = segment size, byte 1 = flags (TLS 1.3 offered, early data), the rest = the client
// stream after the judged hello.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/inspect/tls/record_follow.h"

namespace {

using lbg::inspect::FollowStep;
using lbg::inspect::Status;

struct Walk {
  std::vector<std::string> hellos;
  int end = 0;  // 0 still following, 1 end, 2 encrypted, 3 invalid
  int reason = 0;
  bool operator==(const Walk&) const = default;
};

Walk walk(const uint8_t* data, size_t size, size_t cut, bool offers13, bool early) {
  Walk w;
  auto s = lbg::inspect::tlsFollowStart(offers13, early, true);
  static lbg::inspect::TlsClientHello hello;
  size_t pos = 0;
  for (size_t avail = 0; avail < size && w.end == 0;) {
    avail = avail + cut < size ? avail + cut : size;
    while (pos < avail && w.end == 0) {
      const auto r = lbg::inspect::tlsFollowWalk(s, {data + pos, avail - pos});
      if (r.consumed > avail - pos) std::abort();
      if (r.step == FollowStep::Walked && r.consumed != avail - pos) std::abort();
      pos += r.consumed;
      if (r.step == FollowStep::Walked) break;
      if (r.step == FollowStep::End) w.end = 1;
      if (r.step == FollowStep::Invalid) {
        w.end = 3;
        w.reason = 100 + int(r.reason);
      }
      if (r.step != FollowStep::Hello) break;
      const auto before = s;
      const auto h = lbg::inspect::tlsFollowHello(s, {data + pos, avail - pos}, hello);
      if (h.status != Status::Done || h.encrypted) {
        // The state moves only past a complete hello.
        if (std::memcmp(&before, &s, sizeof(s)) != 0) std::abort();
      }
      if (h.status == Status::NeedMore) break;
      if (h.status == Status::Invalid) {
        w.end = 3;
        w.reason = int(h.reason);
      } else if (h.encrypted) {
        w.end = 2;
      } else {
        if (h.consumed == 0 || h.consumed > avail - pos) std::abort();
        w.hellos.emplace_back(hello.sni, hello.sniLen);
        pos += h.consumed;
      }
    }
  }
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t cut = data[0] == 0 ? 1 : data[0];
  const bool offers13 = data[1] & 1, early = data[1] & 2;
  const Walk one = walk(data + 2, size - 2, size, offers13, early);
  if (!(walk(data + 2, size - 2, cut, offers13, early) == one)) std::abort();
  if (!(walk(data + 2, size - 2, 1, offers13, early) == one)) std::abort();
  return 0;
}
