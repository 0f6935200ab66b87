#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "policy/base/ip_addr.h"
#include "policy/model.h"

namespace lbg::policy {

// Read-only longest-prefix-match index from prefixes to lists of ids, built once per snapshot and
// queried on the hot path.
//
// Layout: one open-addressing hash table per prefix length that occurs (load <= 1/2), keyed by
// the masked address as two 64-bit words; tables are kept longest length first. A lookup masks
// the query once per occurring length (at most 129, typically a handful) and probes; no
// allocation. Id lists are ascending (file order).
class PrefixIndex {
 public:
  static PrefixIndex build(const std::vector<std::pair<Prefix, uint32_t>>& prefixes);

  // The first id accepted by `accept(id)` under the longest prefix that contains `a` and has an
  // accepted id; shorter prefixes are tried only when no id of a longer one is accepted. -1 if
  // none.
  template <class Accept>
  int64_t match(const IpAddr& a, Accept&& accept) const;

  bool containsAny(const IpAddr& a) const {
    return match(a, [](uint32_t) { return true; }) >= 0;
  }
  size_t size() const { return entries_; }

 private:
  using Key = std::array<uint64_t, 2>;
  struct Slot {
    Key key;
    uint32_t idsOffset;
    uint32_t idsCount;  // 0 marks an empty slot
  };
  struct Table {
    uint8_t length;
    Key mask;
    std::vector<Slot> slots;
    size_t slotMask;
  };

  static Key load(const IpAddr& a) {
    Key k;
    std::memcpy(k.data(), a.bytes.data(), 16);
    return k;
  }
  static Key maskFor(uint8_t length);
  static uint64_t hash(const Key& k) {
    uint64_t h = k[0] * 0x9e3779b97f4a7c15ULL ^ (k[1] + 0x632be59bd9b4e019ULL);
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    return h ^ (h >> 32);
  }

  std::vector<Table> tables_;
  std::vector<uint32_t> ids_;
  size_t entries_ = 0;
};

template <class Accept>
int64_t PrefixIndex::match(const IpAddr& a, Accept&& accept) const {
  const Key full = load(a);
  for (const Table& t : tables_) {
    const Key k{full[0] & t.mask[0], full[1] & t.mask[1]};
    for (size_t i = hash(k) & t.slotMask;; i = (i + 1) & t.slotMask) {
      const Slot& s = t.slots[i];
      if (s.idsCount == 0) break;
      if (s.key == k) {
        for (uint32_t j = 0; j < s.idsCount; ++j) {
          const uint32_t id = ids_[s.idsOffset + j];
          if (accept(id)) return id;
        }
        break;
      }
    }
  }
  return -1;
}

}  // namespace lbg::policy
