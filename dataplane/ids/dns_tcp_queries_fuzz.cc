// libFuzzer target: arbitrary client bytes of a DNS-over-TCP connection, cut into segments by the
// input's first byte, through the question reader. Beyond "no crash" (ASan/UBSan): every step
// consumes at least one byte and no more than it was given, a message is never longer than
// kKeep, and the messages handed out do not depend on where the segments were cut.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dataplane/ids/dns_tcp_queries.h"

namespace {

std::string run(const uint8_t* data, size_t size, size_t cut) {
  lbg::ids::DnsTcpQueries s;
  std::string out;
  for (size_t at = 0; at < size; at += cut) {
    std::span<const uint8_t> in(data + at, std::min(cut, size - at));
    while (!in.empty()) {
      const lbg::ids::DnsTcpStep st = lbg::ids::stepDnsTcp(s, in);
      if (st.used == 0 || st.used > in.size()) std::abort();
      if (st.message.size() > lbg::ids::DnsTcpQueries::kKeep) std::abort();
      if (!st.message.empty()) {
        out += std::to_string(st.message.size()) + ":";
        out.append(reinterpret_cast<const char*>(st.message.data()), st.message.size());
      }
      in = in.subspan(st.used);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t cut = size_t(data[0] & 0x3f) + 1;
  if (run(data + 1, size - 1, cut) != run(data + 1, size - 1, size)) std::abort();
  return 0;
}
