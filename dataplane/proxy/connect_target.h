#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lbg::proxy {

// A CONNECT request's authority-form target ("host:port", RFC 9110 §9.3.6). The host is a DNS
// name (see validServerName), lowercased, without a trailing dot; IP literals are refused
// because the policy allows names, and interception mints only for names.
struct ConnectTarget {
  std::string host;
  uint16_t port = 0;
};

std::optional<ConnectTarget> parseConnectTarget(std::string_view target);

// A name a certificate may be minted for or a connection made to: 1..253 bytes of LDH labels
// (letters, digits, '-', '_'; 1..63 each, no '-' at either end), at least two labels, the last
// not all digits. Anything else (commas, spaces, '*', NUL, percent signs…) has no place in a DNS
// name and would otherwise end up in a certificate's SAN list.
bool validServerName(std::string_view name);

}  // namespace lbg::proxy
