#include "policy/base/ip_addr.h"

#include <arpa/inet.h>

namespace lbg {

std::string IpAddr::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (isV4()) {
    inet_ntop(AF_INET, &bytes[12], buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  }
  return buf;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  uint8_t b[16];
  if (inet_pton(AF_INET, s.c_str(), b) == 1) return fromV4(b);
  if (inet_pton(AF_INET6, s.c_str(), b) == 1) return fromV6(b);
  return std::nullopt;
}

}  // namespace lbg
