#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/fqdn.h"

namespace lbg::policy {

// Read-only index from FQDN patterns (exact names and "*." wildcards) to lists of ids, built once
// per snapshot and queried on the hot path.
//
// Layout: two open-addressing hash tables (exact names; wildcard bases, i.e. "example.com" for
// "*.example.com") over one flat string arena, load factor <= 1/2. Names are hashed right to
// left, so one pass over a query yields the hash of the whole name and of every label-aligned
// suffix; a lookup costs one probe for the exact name plus one per label, with no allocation.
// Id lists are ascending (file order), stored once in a flat array.
class NameIndex {
 public:
  // `patterns`: (normalised pattern, id) pairs as normalizeFqdnPattern() produces them.
  static NameIndex build(const std::vector<std::pair<std::string, uint32_t>>& patterns);

  // The first id (in ascending order) that `accept(id)` takes, looking first at exact entries for
  // `normalizedName`, then at wildcards from the most specific (longest base) to the least; -1 if
  // none. `normalizedName` must come from normalizeFqdnInto(). No allocation, no exceptions.
  template <class Accept>
  int64_t match(std::string_view normalizedName, Accept&& accept) const;

  size_t exactCount() const { return exact_.entries; }
  size_t wildcardCount() const { return wildcard_.entries; }

 private:
  struct Slot {
    uint64_t hash;
    uint32_t keyOffset;
    uint32_t keyLength;
    uint32_t idsOffset;
    uint32_t idsCount;  // 0 marks an empty slot
  };
  struct Table {
    std::vector<Slot> slots;
    size_t mask = 0;
    size_t entries = 0;
  };

  static constexpr uint64_t kSeed = 0xcbf29ce484222325ULL;
  static constexpr uint64_t kPrime = 0x100000001b3ULL;
  // FNV-1a steps spread low bits poorly; a final avalanche makes `hash & mask` usable.
  static uint64_t finish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
  }
  static uint64_t hashKey(std::string_view key);

  const Slot* find(const Table& t, uint64_t hash, std::string_view key) const {
    if (t.slots.empty()) return nullptr;
    for (size_t i = hash & t.mask;; i = (i + 1) & t.mask) {
      const Slot& s = t.slots[i];
      if (s.idsCount == 0) return nullptr;
      if (s.hash == hash && s.keyLength == key.size() &&
          std::memcmp(arena_.data() + s.keyOffset, key.data(), key.size()) == 0) {
        return &s;
      }
    }
  }
  template <class Accept>
  int64_t firstAccepted(const Slot* s, Accept& accept) const {
    if (s == nullptr) return -1;
    for (uint32_t i = 0; i < s->idsCount; ++i) {
      const uint32_t id = ids_[s->idsOffset + i];
      if (accept(id)) return id;
    }
    return -1;
  }
  static void fill(Table& t, std::vector<std::pair<std::string, std::vector<uint32_t>>>& entries,
                   std::string& arena, std::vector<uint32_t>& ids);

  bool hasWildcardLabels(size_t labels) const {
    return labels < 128 && (wildcardLabels_[labels >> 6] >> (labels & 63) & 1) != 0;
  }

  Table exact_;
  Table wildcard_;
  // Bit n set if some wildcard base has n labels ("example.com": 2).
  std::array<uint64_t, 2> wildcardLabels_{};
  std::string arena_;
  std::vector<uint32_t> ids_;
};

template <class Accept>
int64_t NameIndex::match(std::string_view name, Accept&& accept) const {
  if (name.empty() || name.size() > kMaxFqdnLength) return -1;
  // A valid name has at most 127 labels, so at most 126 dots.
  uint64_t suffixHash[kMaxFqdnLength / 2 + 1];
  uint16_t suffixStart[kMaxFqdnLength / 2 + 1];
  size_t suffixes = 0;
  uint64_t h = kSeed;
  for (size_t i = name.size(); i-- > 0;) {
    if (name[i] == '.' && suffixes < std::size(suffixStart)) {
      suffixHash[suffixes] = finish(h);
      suffixStart[suffixes] = uint16_t(i + 1);
      ++suffixes;
    }
    h = (h ^ uint8_t(name[i])) * kPrime;
  }
  int64_t id = firstAccepted(find(exact_, finish(h), name), accept);
  if (id >= 0) return id;
  // Suffixes were recorded right to left; the last one recorded is the longest.
  for (size_t k = suffixes; k-- > 0;) {
    // Suffix k has k + 1 labels; skip the probe (a likely cache miss) if no wildcard base does.
    if (!hasWildcardLabels(k + 1)) continue;
    const std::string_view base = name.substr(suffixStart[k]);
    id = firstAccepted(find(wildcard_, suffixHash[k], base), accept);
    if (id >= 0) return id;
  }
  return -1;
}

}  // namespace lbg::policy
