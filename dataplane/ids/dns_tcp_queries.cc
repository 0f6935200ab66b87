#include "dataplane/ids/dns_tcp_queries.h"

#include <algorithm>
#include <cstring>

namespace lbg::ids {

DnsTcpStep stepDnsTcp(DnsTcpQueries& s, std::span<const uint8_t> in) {
  if (s.lost) return {in.size(), {}};
  size_t used = 0;
  while (used < in.size()) {
    if (s.lenHave < 2) {
      s.prefix[s.lenHave++] = in[used++];
      if (s.lenHave < 2) continue;
      s.length = uint16_t(s.prefix[0] << 8 | s.prefix[1]);
      s.left = s.length;
      s.have = 0;
      s.handedOut = false;
      if (s.length == 0) s.lenHave = 0;  // an empty message: nothing to read
      continue;
    }
    const size_t take = std::min<size_t>(s.left, in.size() - used);
    const size_t keep = std::min<size_t>(take, DnsTcpQueries::kKeep - s.have);
    std::memcpy(s.msg + s.have, in.data() + used, keep);
    s.have = uint16_t(s.have + keep);
    s.left = uint16_t(s.left - take);
    used += take;
    const bool ready = s.have == std::min<uint16_t>(s.length, DnsTcpQueries::kKeep);
    DnsTcpStep step{used, {}};
    if (ready && !s.handedOut) {
      s.handedOut = true;
      step.message = {s.msg, s.have};
    }
    if (s.left == 0) s.lenHave = 0;  // the next message's length follows
    if (!step.message.empty()) return step;
  }
  return {used, {}};
}

}  // namespace lbg::ids
