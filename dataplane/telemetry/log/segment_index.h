#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "dataplane/telemetry/log/record_fields.h"
#include "policy/base/result.h"

// The sidecar index of a sealed segment (FORMAT.md "Index"): time range, counts per event type
// and a Bloom filter over the values queries select on, so that a selective query over a month
// reads only the segments that may hold a match. The seal signs the index's SHA-256.
namespace lbg::telemetry::logfmt {

// Term kinds; a term is kind + ':' + value (e.g. "s:10.0.0.5").
enum class TermKind : char {
  EventType = 't', Src = 's', Dest = 'd', Service = 'v', Action = 'a', Sni = 'n', Host = 'h',
  Reason = 'r', Measure = 'm',
};

uint64_t termHash(TermKind kind, std::string_view value);

struct SegmentIndex {
  uint64_t segment = 0;
  uint64_t records = 0;
  int64_t minNs = 0, maxNs = 0;  // over records with a valid timestamp
  std::map<std::string, uint64_t> eventTypes;
  uint32_t bloomK = 7;
  std::vector<uint8_t> bloom;  // size a power of two, in bytes

  bool mayContain(TermKind kind, std::string_view value) const;
  bool overlaps(int64_t fromNs, int64_t toNs) const { return records > 0 && maxNs >= fromNs && minNs <= toNs; }

  std::string serialize() const;
  static Result<SegmentIndex> parse(std::string_view text);
};

class IndexBuilder {
 public:
  explicit IndexBuilder(uint64_t segment) { index_.segment = segment; }
  void add(const RecordFields& r);
  SegmentIndex finish();

 private:
  void term(TermKind k, std::string_view v);
  SegmentIndex index_;
  bool haveTime_ = false;
  std::unordered_set<uint64_t> terms_;
};

}  // namespace lbg::telemetry::logfmt
