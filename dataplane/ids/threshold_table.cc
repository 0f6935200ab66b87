#include "dataplane/ids/threshold_table.h"

#include <cstring>

namespace lbg::ids {
namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

uint64_t hashOf(uint32_t key, const IpAddr& a, const IpAddr& b) {
  uint64_t w[4];
  std::memcpy(w, a.bytes.data(), 16);
  std::memcpy(w + 2, b.bytes.data(), 16);
  uint64_t h = mix(key + 0x9e3779b97f4a7c15ull);
  for (uint64_t x : w) h = mix(h ^ x);
  return h;
}

}  // namespace

ThresholdTable::ThresholdTable(uint32_t capacity) {
  uint32_t n = 1;
  while (n < capacity) n <<= 1;
  entries_.resize(capacity == 0 ? 0 : n);
}

ThresholdTable::Outcome ThresholdTable::check(uint32_t key, const Threshold& t, const IpAddr& src,
                                              const IpAddr& dst, uint64_t nowNs) {
  if (entries_.empty()) return Outcome::Full;
  IpAddr a, b;  // what is tracked; by_rule: nothing
  switch (t.track) {
    case Threshold::Track::BySrc:
      a = src;
      break;
    case Threshold::Track::ByDst:
      a = dst;
      break;
    case Threshold::Track::ByRule:
      break;
    case Threshold::Track::ByBoth:
      a = src, b = dst;
      break;
  }
  const uint32_t stored = key + 1;
  const uint64_t mask = entries_.size() - 1;
  const uint64_t home = hashOf(key, a, b);
  Entry* e = nullptr;
  Entry* reusable = nullptr;
  for (int i = 0; i < kMaxProbe; ++i) {
    Entry& c = entries_[(home + uint64_t(i)) & mask];
    if (c.key == stored && c.a == a && c.b == b) {
      e = &c;
      break;
    }
    if (reusable == nullptr && (c.key == 0 || c.expires <= nowNs)) reusable = &c;
    if (c.key == 0) break;  // the key would have been found before a free entry
  }
  const uint64_t window = uint64_t(t.seconds) * 1'000'000'000ull;
  if (e != nullptr && nowNs - e->start < window) {
    ++e->count;
  } else {
    if (e == nullptr) {
      if (reusable == nullptr) return Outcome::Full;
      e = reusable;
      e->key = stored, e->a = a, e->b = b;
    }
    e->start = nowNs;
    e->expires = nowNs + window;
    e->count = 1;
  }
  switch (t.type) {
    case Threshold::Type::Limit:
      return e->count <= t.count ? Outcome::Alert : Outcome::Suppress;
    case Threshold::Type::Threshold:
      if (e->count < t.count) return Outcome::Suppress;
      e->count = 0;
      return Outcome::Alert;
    case Threshold::Type::Both:
      return e->count == t.count ? Outcome::Alert : Outcome::Suppress;
    case Threshold::Type::DetectionFilter:
      return e->count > t.count ? Outcome::Alert : Outcome::Suppress;
  }
  return Outcome::Alert;
}

}  // namespace lbg::ids
