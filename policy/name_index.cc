#include "policy/name_index.h"

#include <algorithm>
#include <map>

namespace lbg::policy {

uint64_t NameIndex::hashKey(std::string_view key) {
  uint64_t h = kSeed;
  for (size_t i = key.size(); i-- > 0;) h = (h ^ uint8_t(key[i])) * kPrime;
  return finish(h);
}

void NameIndex::fill(Table& t, std::vector<std::pair<std::string, std::vector<uint32_t>>>& entries,
                     std::string& arena, std::vector<uint32_t>& ids) {
  size_t capacity = 1;
  while (capacity < entries.size() * 2) capacity <<= 1;
  t.slots.assign(entries.empty() ? 0 : capacity, Slot{0, 0, 0, 0, 0});
  t.mask = capacity - 1;
  t.entries = entries.size();
  for (auto& [key, list] : entries) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    Slot s{hashKey(key), uint32_t(arena.size()), uint32_t(key.size()), uint32_t(ids.size()),
           uint32_t(list.size())};
    arena += key;
    ids.insert(ids.end(), list.begin(), list.end());
    size_t i = s.hash & t.mask;
    while (t.slots[i].idsCount != 0) i = (i + 1) & t.mask;
    t.slots[i] = s;
  }
}

NameIndex NameIndex::build(const std::vector<std::pair<std::string, uint32_t>>& patterns) {
  // Ordered maps keep the build deterministic; fill() sorts each id list into file order.
  std::map<std::string, std::vector<uint32_t>> exact;
  std::map<std::string, std::vector<uint32_t>> wildcard;
  for (const auto& [pattern, id] : patterns) {
    const bool isWildcard = pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.';
    auto& list = isWildcard ? wildcard[pattern.substr(2)] : exact[pattern];
    list.push_back(id);
  }
  NameIndex index;
  std::vector<std::pair<std::string, std::vector<uint32_t>>> e(exact.begin(), exact.end());
  std::vector<std::pair<std::string, std::vector<uint32_t>>> w(wildcard.begin(), wildcard.end());
  fill(index.exact_, e, index.arena_, index.ids_);
  fill(index.wildcard_, w, index.arena_, index.ids_);
  for (const auto& [base, ids] : w) {
    const size_t labels = size_t(std::count(base.begin(), base.end(), '.')) + 1;
    if (labels < 128) index.wildcardLabels_[labels >> 6] |= uint64_t(1) << (labels & 63);
  }
  return index;
}

}  // namespace lbg::policy
