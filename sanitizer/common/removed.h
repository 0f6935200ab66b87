#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lbg::sanitizer {

// One kind of active content taken out of a file. kind e.g. "vbaProject", "javascript",
// "dde-field", "external-relationship"; location names the part or object where it was found.
struct RemovedItem {
  std::string kind;
  std::string location;
  uint32_t count = 1;
};

// Adds one removal, merging with an existing entry of the same kind and location so that a
// document with 10 000 JavaScript actions gives one line with count 10000, not 10 000 lines.
inline void addRemoved(std::vector<RemovedItem>& removed, std::string kind, std::string location,
                       uint32_t count = 1) {
  for (auto& item : removed) {
    if (item.kind == kind && item.location == location) {
      item.count += count;
      return;
    }
  }
  removed.push_back(RemovedItem{std::move(kind), std::move(location), count});
}

}  // namespace lbg::sanitizer
