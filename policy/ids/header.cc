#include "policy/ids/header.h"

#include <charconv>
#include <cstring>

namespace lbg::ids {
namespace {

constexpr int kMaxVariableDepth = 8;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits the inside of `[...]` at top-level commas.
bool splitList(std::string_view s, std::vector<std::string_view>& parts, std::string& error) {
  int nest = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '[') ++nest;
    if (s[i] == ']' && --nest < 0) return error = "unbalanced ']'", false;
    if (s[i] == ',' && nest == 0) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (nest != 0) return error = "unbalanced '['", false;
  parts.push_back(trim(s.substr(start)));
  return true;
}

// One walker for both field kinds: a leaf parser adds an item to include or exclude.
template <class Leaf>
bool walk(std::string_view text, bool negated, int depth,
          const std::map<std::string, std::string, std::less<>>& vars, Leaf&& leaf, bool& sawAny,
          std::string& error) {
  text = trim(text);
  if (depth > kMaxVariableDepth) return error = "variables nest too deep", false;
  if (text.empty()) return error = "empty address or port", false;
  if (text.front() == '!') return walk(text.substr(1), !negated, depth, vars, leaf, sawAny, error);
  if (text.front() == '[') {
    if (text.back() != ']') return error = "unbalanced '['", false;
    std::vector<std::string_view> parts;
    if (!splitList(text.substr(1, text.size() - 2), parts, error)) return false;
    for (auto p : parts)
      if (!walk(p, negated, depth, vars, leaf, sawAny, error)) return false;
    return true;
  }
  if (text.front() == '$') {
    auto it = vars.find(text.substr(1));
    if (it == vars.end()) return error = "unknown variable " + std::string(text), false;
    return walk(it->second, negated, depth + 1, vars, leaf, sawAny, error);
  }
  if (text == "any") {
    if (negated) return error = "'!any' matches nothing", false;
    sawAny = true;
    return true;
  }
  return leaf(text, negated);
}

bool parseUint(std::string_view s, uint64_t max, uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out <= max;
}

}  // namespace

Variables Variables::defaults(std::string homeNet) {
  Variables v;
  v.addresses["HOME_NET"] = std::move(homeNet);
  v.addresses["EXTERNAL_NET"] = "!$HOME_NET";
  for (const char* n : {"HTTP_SERVERS", "SMTP_SERVERS", "SQL_SERVERS", "DNS_SERVERS",
                        "TELNET_SERVERS", "DC_SERVERS", "DNP3_SERVER", "DNP3_CLIENT",
                        "MODBUS_CLIENT", "MODBUS_SERVER", "ENIP_CLIENT", "ENIP_SERVER"})
    v.addresses[n] = "$HOME_NET";
  v.addresses["AIM_SERVERS"] = "$EXTERNAL_NET";
  v.ports = {{"HTTP_PORTS", "80"},
             {"SHELLCODE_PORTS", "!80"},
             {"ORACLE_PORTS", "1521"},
             {"SSH_PORTS", "22"},
             {"DNP3_PORTS", "20000"},
             {"MODBUS_PORTS", "502"},
             {"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"},
             {"FTP_PORTS", "21"},
             {"GENEVE_PORTS", "6081"},
             {"VXLAN_PORTS", "4789"},
             {"TEREDO_PORTS", "3544"}};
  return v;
}

bool parseAddressSet(std::string_view text, const Variables& vars, AddressSet& out,
                     std::string& error) {
  out = {};
  bool sawAny = false;
  auto leaf = [&](std::string_view s, bool negated) {
    Cidr c;
    std::string_view addr = s;
    int prefix = -1;
    if (auto slash = s.find('/'); slash != std::string_view::npos) {
      uint64_t p;
      if (!parseUint(s.substr(slash + 1), 128, p))
        return error = "bad prefix in " + std::string(s), false;
      prefix = int(p);
      addr = s.substr(0, slash);
    }
    auto ip = IpAddr::parse(addr);
    if (!ip) return error = "bad address " + std::string(s), false;
    if (ip->isV4()) {
      if (prefix > 32) return error = "bad prefix in " + std::string(s), false;
      c.prefix = uint8_t(prefix < 0 ? 128 : 96 + prefix);
    } else {
      c.prefix = uint8_t(prefix < 0 ? 128 : prefix);
    }
    c.addr = *ip;
    (negated ? out.exclude : out.include).push_back(c);
    return true;
  };
  if (!walk(text, false, 0, vars.addresses, leaf, sawAny, error)) return false;
  if (sawAny) out.include.clear();
  return true;
}

bool parsePortSet(std::string_view text, const Variables& vars, PortSet& out, std::string& error) {
  out = {};
  bool sawAny = false;
  auto leaf = [&](std::string_view s, bool negated) {
    uint64_t lo = 0, hi = 65535;
    auto colon = s.find(':');
    bool ok = colon == std::string_view::npos
                  ? (parseUint(s, 65535, lo) && (hi = lo, true))
                  : ((colon == 0 || parseUint(s.substr(0, colon), 65535, lo)) &&
                     (colon + 1 == s.size() || parseUint(s.substr(colon + 1), 65535, hi)));
    if (!ok || lo > hi) return error = "bad port " + std::string(s), false;
    (negated ? out.exclude : out.include).emplace_back(uint16_t(lo), uint16_t(hi));
    return true;
  };
  if (!walk(text, false, 0, vars.ports, leaf, sawAny, error)) return false;
  if (sawAny) out.include.clear();
  return true;
}

bool parseProtocol(std::string_view text, Protocol& out) {
  static constexpr std::pair<const char*, Protocol> kNames[] = {
      {"ip", Protocol::Ip},     {"tcp", Protocol::Tcp},   {"udp", Protocol::Udp},
      {"icmp", Protocol::Icmp}, {"http", Protocol::Http}, {"http1", Protocol::Http},
      {"tls", Protocol::Tls},   {"dns", Protocol::Dns},   {"pkthdr", Protocol::Ip}};
  for (auto& [n, p] : kNames)
    if (text == n) return out = p, true;
  return false;
}

bool Cidr::contains(const IpAddr& a) const {
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.bytes.data(), addr.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (addr.bytes[full] & mask);
}

bool AddressSet::matches(const IpAddr& a) const {
  bool in = include.empty();
  for (auto& c : include)
    if (c.contains(a)) {
      in = true;
      break;
    }
  if (!in) return false;
  for (auto& c : exclude)
    if (c.contains(a)) return false;
  return true;
}

bool PortSet::matches(uint16_t p) const {
  bool in = include.empty();
  for (auto& [lo, hi] : include)
    if (p >= lo && p <= hi) {
      in = true;
      break;
    }
  if (!in) return false;
  for (auto& [lo, hi] : exclude)
    if (p >= lo && p <= hi) return false;
  return true;
}

}  // namespace lbg::ids
