#include "dataplane/ids/address_classes.h"

#include <algorithm>

namespace lbg::ids {
namespace {

using U128 = unsigned __int128;

U128 toInt(const IpAddr& a) {
  U128 v = 0;
  for (uint8_t b : a.bytes) v = v << 8 | b;
  return v;
}

IpAddr fromInt(U128 v) {
  IpAddr a;
  for (int i = 15; i >= 0; --i, v >>= 8) a.bytes[size_t(i)] = uint8_t(v);
  return a;
}

U128 hostBits(uint8_t prefix) {
  return prefix >= 128 ? 0 : ~U128(0) >> prefix;
}

Cidr masked(const Cidr& c) {
  return {fromInt(toInt(c.addr) & ~hostBits(c.prefix)), c.prefix};
}

void canonicalList(std::vector<Cidr>& list) {
  for (Cidr& c : list) c = masked(c);
  auto key = [](const Cidr& c) { return std::pair(c.addr, c.prefix); };
  std::sort(list.begin(), list.end(),
            [&](const Cidr& a, const Cidr& b) { return key(a) < key(b); });
  list.erase(std::unique(list.begin(), list.end(),
                         [&](const Cidr& a, const Cidr& b) { return key(a) == key(b); }),
             list.end());
}

bool sameList(const std::vector<Cidr>& a, const std::vector<Cidr>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Cidr& x, const Cidr& y) {
    return x.addr == y.addr && x.prefix == y.prefix;
  });
}

}  // namespace

AddressSet AddressClasses::canonical(const AddressSet& set) {
  AddressSet out = set;
  canonicalList(out.include);
  canonicalList(out.exclude);
  return out;
}

bool AddressClasses::same(const AddressSet& a, const AddressSet& b) {
  return sameList(a.include, b.include) && sameList(a.exclude, b.exclude);
}

AddressClasses::AddressClasses(std::vector<AddressSet> sets) {
  if (sets.size() > kMaxSets) sets.resize(kMaxSets);
  for (AddressSet& s : sets) sets_.push_back(canonical(s));
  // Membership changes only where a prefix starts or ends: the masks at those points (and at
  // address 0) are all the masks an address can have.
  std::vector<U128> points{0};
  for (const AddressSet& s : sets_)
    for (const auto* list : {&s.include, &s.exclude})
      for (const Cidr& c : *list) {
        const U128 start = toInt(c.addr), last = start | hostBits(c.prefix);
        points.push_back(start);
        if (last != ~U128(0)) points.push_back(last + 1);
      }
  for (U128 p : points) {
    const uint32_t m = maskOf(fromInt(p));
    if (std::find(masks_.begin(), masks_.end(), m) == masks_.end()) masks_.push_back(m);
  }
}

uint32_t AddressClasses::maskOf(const IpAddr& a) const {
  uint32_t m = 0;
  for (size_t i = 0; i < sets_.size(); ++i)
    if (sets_[i].matches(a)) m |= uint32_t(1) << i;
  return m;
}

uint32_t AddressClasses::classOf(const IpAddr& a) const {
  const uint32_t m = maskOf(a);
  for (uint32_t c = 0; c < masks_.size(); ++c)
    if (masks_[c] == m) return c;
  return 0;  // not reached: every address has one of the masks (see the constructor)
}

bool AddressClasses::mayMatch(uint32_t c, const AddressSet& set) const {
  if (set.include.empty() && set.exclude.empty()) return true;
  const AddressSet k = canonical(set);
  for (size_t i = 0; i < sets_.size(); ++i)
    if (same(sets_[i], k)) return masks_[c] >> i & 1;
  return true;
}

}  // namespace lbg::ids
