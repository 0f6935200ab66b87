#include "dataplane/core/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace lbg::dataplane {

namespace {

Result<uint16_t> parsePort(std::string_view s, std::string_view whole) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > 65535) {
    return Error{"'" + std::string(whole) + "': port must be a number 0..65535, not '" +
                 std::string(s) + "'"};
  }
  return static_cast<uint16_t>(v);
}

}  // namespace

Result<ListenAddress> ListenAddress::parse(std::string_view text) {
  ListenAddress a;
  std::string_view port = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return Error{"'" + std::string(text) + "': '[' of an IPv6 address without ']'"};
    }
    a.host = std::string(text.substr(1, close - 1));
    in6_addr v6{};
    if (inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) {
      return Error{"'" + std::string(text) + "': '" + a.host + "' is not an IPv6 address"};
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{"'" + std::string(text) + "': expected ':PORT' after ']'"};
    }
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    a.host = std::string(text.substr(0, colon));
    if (a.host.find(':') != std::string::npos) {
      return Error{"'" + std::string(text) + "': write an IPv6 address in brackets, [ADDR]:PORT"};
    }
    if (a.host.empty()) return Error{"'" + std::string(text) + "': empty host before ':'"};
    port = text.substr(colon + 1);
  }
  auto p = parsePort(port, text);
  if (!p) return p.error();
  a.port = p.value();
  return a;
}

std::string ListenAddress::toString() const {
  const std::string p = std::to_string(port);
  if (host.empty()) return p;
  return host.find(':') != std::string::npos ? "[" + host + "]:" + p : host + ":" + p;
}

}  // namespace lbg::dataplane
