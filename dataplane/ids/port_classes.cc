#include "dataplane/ids/port_classes.h"

#include <algorithm>

namespace lbg::ids {

PortClasses::PortClasses(std::vector<uint16_t> ports) : ports_(std::move(ports)) {
  std::sort(ports_.begin(), ports_.end());
  ports_.erase(std::unique(ports_.begin(), ports_.end()), ports_.end());
}

uint32_t PortClasses::classOf(uint16_t p) const {
  auto it = std::lower_bound(ports_.begin(), ports_.end(), p);
  return it != ports_.end() && *it == p ? uint32_t(it - ports_.begin()) : uint32_t(ports_.size());
}

bool PortClasses::mayMatch(uint32_t c, const PortSet& set) const {
  if (c < ports_.size()) return set.matches(ports_[c]);
  // Membership in the set and in the list only change where a range or a listed port begins or
  // ends: some unlisted port matches iff one of those points (or 0) does.
  std::vector<uint32_t> points{0};
  for (const auto* list : {&set.include, &set.exclude})
    for (const auto& [lo, hi] : *list) points.insert(points.end(), {lo, uint32_t(hi) + 1});
  for (uint16_t p : ports_) points.push_back(uint32_t(p) + 1);
  for (uint32_t q : points)
    if (q <= 0xffff && classOf(uint16_t(q)) == ports_.size() && set.matches(uint16_t(q)))
      return true;
  return false;
}

}  // namespace lbg::ids
