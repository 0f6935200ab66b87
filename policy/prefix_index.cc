#include "policy/prefix_index.h"

#include <algorithm>
#include <map>

namespace lbg::policy {

PrefixIndex::Key PrefixIndex::maskFor(uint8_t length) {
  std::array<uint8_t, 16> bytes{};
  for (int bit = 0; bit < length && bit < 128; ++bit) bytes[bit / 8] |= uint8_t(0x80 >> (bit % 8));
  Key k;
  std::memcpy(k.data(), bytes.data(), 16);
  return k;
}

PrefixIndex PrefixIndex::build(const std::vector<std::pair<Prefix, uint32_t>>& prefixes) {
  // length -> masked key -> ids. Keys are masked here, so a prefix written with host bits still
  // lands where lookups look (the parser rejects those anyway).
  std::map<uint8_t, std::map<Key, std::vector<uint32_t>>, std::greater<>> byLength;
  for (const auto& [prefix, id] : prefixes) {
    const uint8_t length = std::min<uint8_t>(prefix.length, 128);
    const Key mask = maskFor(length);
    const Key full = load(prefix.addr);
    byLength[length][Key{full[0] & mask[0], full[1] & mask[1]}].push_back(id);
  }
  PrefixIndex index;
  for (auto& [length, keys] : byLength) {
    Table t;
    t.length = length;
    t.mask = maskFor(length);
    size_t capacity = 2;
    while (capacity < keys.size() * 2) capacity <<= 1;
    t.slots.assign(capacity, Slot{{0, 0}, 0, 0});
    t.slotMask = capacity - 1;
    for (auto& [key, list] : keys) {
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      Slot s{key, uint32_t(index.ids_.size()), uint32_t(list.size())};
      index.ids_.insert(index.ids_.end(), list.begin(), list.end());
      size_t i = hash(key) & t.slotMask;
      while (t.slots[i].idsCount != 0) i = (i + 1) & t.slotMask;
      t.slots[i] = s;
      ++index.entries_;
    }
    index.tables_.push_back(std::move(t));
  }
  return index;
}

}  // namespace lbg::policy
