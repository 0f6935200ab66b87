#pragma once

#include <cstdint>
#include <vector>

#include "policy/ids/rule.h"

namespace lbg::ids {

// Tells addresses apart by which of a few address sets of the rules' headers they are in
// ($HOME_NET, $EXTERNAL_NET, ...), so the engine can give a flow a stream database holding only
// the rules whose addresses its two addresses can match (Suricata's signature group heads do the
// same by address and port). A class is one membership mask that some address has: classOf() is
// exact, and mayMatch() says whether an address of that class can be in a set.
class AddressClasses {
 public:
  static constexpr size_t kMaxSets = 8;

  AddressClasses() = default;
  // Up to kMaxSets sets (others are ignored: mayMatch() answers true for any set not classed).
  // The classes are the distinct masks found at the sets' prefix boundaries: membership only
  // changes where a prefix begins or ends, so every address has one of those masks.
  explicit AddressClasses(std::vector<AddressSet> sets);

  size_t classCount() const { return masks_.size(); }
  // The class of `a` (an index below classCount()). No allocation; a few prefix compares.
  uint32_t classOf(const IpAddr& a) const;
  // Whether an address of class `c` can match `set`: exact for the classed sets and `any`.
  bool mayMatch(uint32_t c, const AddressSet& set) const;

  // `set` with its prefixes masked, sorted and without duplicates (so `[$HOME_NET,
  // $HTTP_SERVERS]` is the same set as `$HOME_NET`), to compare sets by value.
  static AddressSet canonical(const AddressSet& set);
  static bool same(const AddressSet& a, const AddressSet& b);

 private:
  uint32_t maskOf(const IpAddr& a) const;
  std::vector<AddressSet> sets_;  // canonical
  std::vector<uint32_t> masks_;   // class -> membership bits (bit i: in sets_[i])
};

}  // namespace lbg::ids
