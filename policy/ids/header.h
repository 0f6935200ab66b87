#pragma once

#include <map>
#include <string>
#include <string_view>

#include "policy/ids/rule.h"

namespace lbg::ids {

// Rule variables ($HOME_NET, $HTTP_PORTS, ...). Values use the header syntax and may name other
// variables. defaults() gives Suricata's suricata.yaml values with HOME_NET set to the segment.
struct Variables {
  std::map<std::string, std::string, std::less<>> addresses;
  std::map<std::string, std::string, std::less<>> ports;
  static Variables defaults(std::string homeNet = "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]");
};

// Parses an address field (`any`, `$VAR`, CIDR, `!x`, `[a,b,...]`). On error returns false and
// sets `error`.
bool parseAddressSet(std::string_view text, const Variables& vars, AddressSet& out,
                     std::string& error);
bool parsePortSet(std::string_view text, const Variables& vars, PortSet& out, std::string& error);
bool parseProtocol(std::string_view text, Protocol& out);

}  // namespace lbg::ids
