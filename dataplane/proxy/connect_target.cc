#include "dataplane/proxy/connect_target.h"

namespace lbg::proxy {

bool validServerName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  size_t labels = 0;
  bool lastAllDigits = true;
  while (true) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    lastAllDigits = true;
    for (unsigned char c : label) {
      const bool digit = c >= '0' && c <= '9';
      const bool ok = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
      if (!ok) return false;
      lastAllDigits = lastAllDigits && digit;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return labels >= 2 && !lastAllDigits;
}

std::optional<ConnectTarget> parseConnectTarget(std::string_view target) {
  const size_t colon = target.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view host = target.substr(0, colon);
  const std::string_view port = target.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.front() == '0') return std::nullopt;
  unsigned p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + unsigned(c - '0');
  }
  if (p == 0 || p > 65535) return std::nullopt;
  if (!validServerName(host)) return std::nullopt;
  ConnectTarget out;
  out.host.assign(host);
  if (out.host.back() == '.') out.host.pop_back();
  for (char& c : out.host) {
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  }
  out.port = uint16_t(p);
  return out;
}

}  // namespace lbg::proxy
