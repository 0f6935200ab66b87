#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace lbg {

// One address type for both families: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so tables and
// flow keys need no family switch. Trivially copyable; safe on the hot path.
struct IpAddr {
  std::array<uint8_t, 16> bytes{};

  static IpAddr fromV4(const uint8_t* networkOrder4) {
    IpAddr a;
    a.bytes[10] = 0xff;
    a.bytes[11] = 0xff;
    std::memcpy(&a.bytes[12], networkOrder4, 4);
    return a;
  }
  static IpAddr fromV4(uint32_t hostOrder) {
    const uint8_t b[4] = {uint8_t(hostOrder >> 24), uint8_t(hostOrder >> 16), uint8_t(hostOrder >> 8),
                          uint8_t(hostOrder)};
    return fromV4(b);
  }
  static IpAddr fromV6(const uint8_t* networkOrder16) {
    IpAddr a;
    std::memcpy(a.bytes.data(), networkOrder16, 16);
    return a;
  }
  bool isV4() const {
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(bytes.data(), kPrefix, 12) == 0;
  }
  uint32_t v4HostOrder() const {
    return uint32_t(bytes[12]) << 24 | uint32_t(bytes[13]) << 16 | uint32_t(bytes[14]) << 8 | bytes[15];
  }

  // Text form: dotted quad for IPv4, RFC 5952 for IPv6.
  std::string toString() const;
  // Accepts dotted quad or any inet_pton IPv6 form; nullopt on anything else.
  static std::optional<IpAddr> parse(std::string_view text);

  auto operator<=>(const IpAddr&) const = default;
};

}  // namespace lbg
