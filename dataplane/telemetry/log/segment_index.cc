#include "dataplane/telemetry/log/segment_index.h"

#include "dataplane/telemetry/log/json_integer.h"

#include <nlohmann/json.hpp>

namespace lbg::telemetry::logfmt {

namespace {

// FNV-1a 64 with a final avalanche (splitmix64): stable across builds and platforms, which
// std::hash is not — the index is written by one program and read by another.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr std::string_view kMagic = "lbg-index/1";

}  // namespace

uint64_t termHash(TermKind kind, std::string_view value) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto step = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  };
  step(static_cast<unsigned char>(kind));
  step(':');
  for (unsigned char c : value) step(c);
  return mix(h);
}

bool SegmentIndex::mayContain(TermKind kind, std::string_view value) const {
  if (bloom.empty()) return true;  // no filter: cannot exclude
  uint64_t h = termHash(kind, value);
  uint64_t bits = uint64_t(bloom.size()) * 8;
  uint64_t h1 = h, h2 = mix(h ^ 0x9e3779b97f4a7c15ULL) | 1;
  for (uint32_t i = 0; i < bloomK; ++i) {
    uint64_t bit = (h1 + i * h2) & (bits - 1);
    if ((bloom[bit >> 3] & (1u << (bit & 7))) == 0) return false;
  }
  return true;
}

void IndexBuilder::term(TermKind k, std::string_view v) {
  if (!v.empty()) terms_.insert(termHash(k, v));
}

void IndexBuilder::add(const RecordFields& r) {
  ++index_.records;
  if (r.timeNs != 0) {
    if (!haveTime_ || r.timeNs < index_.minNs) index_.minNs = r.timeNs;
    if (!haveTime_ || r.timeNs > index_.maxNs) index_.maxNs = r.timeNs;
    haveTime_ = true;
  }
  ++index_.eventTypes[r.eventType.empty() ? std::string("?") : r.eventType];
  term(TermKind::EventType, r.eventType);
  term(TermKind::Src, r.srcIp);
  term(TermKind::Dest, r.destIp);
  term(TermKind::Service, r.service);
  term(TermKind::Action, r.action);
  term(TermKind::Sni, r.sni);
  term(TermKind::Host, r.hostname);
  term(TermKind::Reason, r.reason);
  term(TermKind::Measure, r.measure);
}

SegmentIndex IndexBuilder::finish() {
  // ~10 bits per distinct term and k = 7: about 1 % false positives.
  uint64_t bits = 1024 * 8;
  while (bits < terms_.size() * 10 && bits < (uint64_t(1) << 26)) bits <<= 1;
  index_.bloom.assign(bits / 8, 0);
  for (uint64_t h : terms_) {
    uint64_t h1 = h, h2 = mix(h ^ 0x9e3779b97f4a7c15ULL) | 1;
    for (uint32_t i = 0; i < index_.bloomK; ++i) {
      uint64_t bit = (h1 + i * h2) & (bits - 1);
      index_.bloom[bit >> 3] |= uint8_t(1u << (bit & 7));
    }
  }
  terms_.clear();
  return std::move(index_);
}

std::string SegmentIndex::serialize() const {
  nlohmann::json h;
  h["format"] = kMagic;
  h["segment"] = segment;
  h["records"] = records;
  h["min_ns"] = minNs;
  h["max_ns"] = maxNs;
  h["event_types"] = eventTypes;
  h["bloom_k"] = bloomK;
  h["bloom_bytes"] = bloom.size();
  std::string out = h.dump();
  out.push_back('\n');
  out.append(reinterpret_cast<const char*>(bloom.data()), bloom.size());
  return out;
}

Result<SegmentIndex> SegmentIndex::parse(std::string_view text) {
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return Error{"index: no header line"};
  nlohmann::json h = nlohmann::json::parse(text.substr(0, nl), nullptr, false);
  if (h.is_discarded() || !h.is_object()) return Error{"index: header is not JSON"};
  SegmentIndex ix;
  try {
    if (h.at("format").get<std::string>() != kMagic) return Error{"index: unknown format"};
    const auto segment = jsonInteger<uint64_t>(h, "segment");
    const auto records = jsonInteger<uint64_t>(h, "records");
    const auto minNs = jsonInteger<int64_t>(h, "min_ns");
    const auto maxNs = jsonInteger<int64_t>(h, "max_ns");
    const auto bloomK = jsonInteger<uint32_t>(h, "bloom_k");
    const auto bloomBytes = jsonInteger<uint64_t>(h, "bloom_bytes");
    if (!segment || !records || !minNs || !maxNs || !bloomK || !bloomBytes) {
      return Error{"index: a header field is missing or not an integer in range"};
    }
    ix.segment = *segment;
    ix.records = *records;
    ix.minNs = *minNs;
    ix.maxNs = *maxNs;
    ix.bloomK = *bloomK;
    const nlohmann::json& types = h.at("event_types");
    if (!types.is_object()) return Error{"index: event_types is not an object"};
    for (const auto& [type, count] : types.items()) {
      const auto n = jsonInteger<uint64_t>(count);
      if (!n) return Error{"index: event_types holds a count that is not an integer"};
      ix.eventTypes[type] = *n;
    }
    const uint64_t n = *bloomBytes;
    if (ix.bloomK == 0 || ix.bloomK > 32) return Error{"index: bad bloom_k"};
    if (n != 0 && (n & (n - 1)) != 0) return Error{"index: bloom size not a power of two"};
    if (n != text.size() - nl - 1) return Error{"index: bloom size does not match the file"};
    ix.bloom.assign(text.begin() + nl + 1, text.end());
  } catch (const nlohmann::json::exception& e) {
    return Error{std::string("index: ") + e.what()};
  }
  return ix;
}

}  // namespace lbg::telemetry::logfmt
