#pragma once

// Test-only: reads a capture with libpcap and rebuilds, per TCP direction, the in-order byte
// stream from its first byte (what the pipeline hands the inspectors), plus the UDP payloads.
// Simple on purpose: Ethernet/VLAN/SLL/raw-IP links, IPv4 and IPv6 without extension headers, no IP
// fragments; overlapping TCP bytes keep the first copy; the stream stops at the first gap.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace lbg::inspect::testing {

struct Endpoint {
  std::string ip;  // inet_ntop text form
  uint16_t port;
  auto operator<=>(const Endpoint&) const = default;
};

struct Direction {
  Endpoint src, dst;
  auto operator<=>(const Direction&) const = default;
};

struct Capture {
  std::map<Direction, std::vector<uint8_t>> tcpStreams;
  std::map<Direction, std::vector<std::vector<uint8_t>>> udpPayloads;  // in capture order
  std::string error;  // non-empty if the file could not be read
};

Capture readCapture(const std::string& path);

// Calls f(l3, len, timestampMs) for every IPv4/IPv6 packet of the capture, in order. Returns an
// error text, empty on success.
std::string forEachIpPacket(const std::string& path,
                            const std::function<void(const uint8_t*, size_t, uint64_t)>& f);

}  // namespace lbg::inspect::testing
