#pragma once

#include <cstdint>
#include <vector>

#include "policy/ids/rule.h"

namespace lbg::ids {

// Tells a flow's server port apart for the engine's stream groups, as Suricata's port grouping
// does (its `detect.grouping.tcp-whitelist`): each listed port is a class of its own, every other
// port is one more class. A rule written for port 25565 is then not in the database an HTTP flow
// on port 80 is scanned with.
class PortClasses {
 public:
  PortClasses() = default;
  explicit PortClasses(std::vector<uint16_t> ports);

  size_t classCount() const { return ports_.size() + 1; }
  // The class of port `p`: its index in the list, else the last class.
  uint32_t classOf(uint16_t p) const;
  // Whether a port of class `c` can match `set` (exact: for the last class, whether some port
  // not listed is in the set).
  bool mayMatch(uint32_t c, const PortSet& set) const;

 private:
  std::vector<uint16_t> ports_;  // sorted, no duplicates
};

}  // namespace lbg::ids
