#include "tools/audit/query.h"

#include <openssl/sha.h>

#include <cstring>

#include "dataplane/telemetry/log/chain.h"
#include "dataplane/telemetry/log/seal.h"
#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/segment_index.h"

namespace lbg::audit {

using namespace telemetry::logfmt;

bool QueryFilter::matches(const RecordFields& r) const {
  if (r.timeNs < fromNs || r.timeNs > toNs) return false;
  if (!eventType.empty() && r.eventType != eventType) return false;
  if (!srcIp.empty() && r.srcIp != srcIp) return false;
  if (!destIp.empty() && r.destIp != destIp) return false;
  if (!anyIp.empty() && r.srcIp != anyIp && r.destIp != anyIp) return false;
  if (!service.empty() && r.service != service) return false;
  if (!action.empty() && r.action != action) return false;
  if (!sni.empty() && r.sni != sni && r.hostname != sni) return false;
  if (!reason.empty() && r.reason != reason) return false;
  if (!measure.empty() && r.measure != measure) return false;
  return true;
}

namespace {

// Can the index rule the segment out?
bool indexExcludes(const SegmentIndex& ix, const QueryFilter& f) {
  if (!f.eventType.empty() && !ix.eventTypes.count(f.eventType)) return true;
  if (!f.srcIp.empty() && !ix.mayContain(TermKind::Src, f.srcIp)) return true;
  if (!f.destIp.empty() && !ix.mayContain(TermKind::Dest, f.destIp)) return true;
  if (!f.anyIp.empty() && !ix.mayContain(TermKind::Src, f.anyIp) &&
      !ix.mayContain(TermKind::Dest, f.anyIp))
    return true;
  if (!f.service.empty() && !ix.mayContain(TermKind::Service, f.service)) return true;
  if (!f.action.empty() && !ix.mayContain(TermKind::Action, f.action)) return true;
  if (!f.sni.empty() && !ix.mayContain(TermKind::Sni, f.sni) && !ix.mayContain(TermKind::Host, f.sni))
    return true;
  if (!f.reason.empty() && !ix.mayContain(TermKind::Reason, f.reason)) return true;
  if (!f.measure.empty() && !ix.mayContain(TermKind::Measure, f.measure)) return true;
  return false;
}

// A literal that every matching line must contain, to skip JSON parsing of most lines.
std::string prefilter(const QueryFilter& f) {
  if (!f.srcIp.empty()) return "\"" + f.srcIp + "\"";
  if (!f.destIp.empty()) return "\"" + f.destIp + "\"";
  if (!f.anyIp.empty()) return "\"" + f.anyIp + "\"";
  if (!f.eventType.empty()) return "\"" + f.eventType + "\"";
  return {};
}

}  // namespace

Result<QueryStats> runQuery(
    const std::string& dir, const VerifyKey& key, const QueryFilter& filter,
    const std::function<bool(std::string_view, const RecordFields&)>& onRecord) {
  auto listed = listSegments(dir);
  if (!listed) return listed.error();
  QueryStats st;
  std::string buf, side;
  RecordFields rf;
  const std::string needle = prefilter(filter);
  for (const auto& f : *listed) {
    if (!f.hasLog) continue;
    ++st.segments;
    if (f.hasSeal && readFileInto(f.seal, side, 0)) {
      auto seal = Seal::parse(side);
      if (seal && seal->verify(key)) {
        if (seal->maxNs < filter.fromNs || seal->minNs > filter.toNs) {
          ++st.skippedByTime;
          continue;
        }
        bool trusted = false;
        if (f.hasIndex && !seal->indexSha256.empty() && readFileInto(f.index, side, 0)) {
          unsigned char h[32];
          SHA256(reinterpret_cast<const unsigned char*>(side.data()), side.size(), h);
          if (toHex(h, 32) == seal->indexSha256) {
            auto ix = SegmentIndex::parse(side);
            if (ix) {
              trusted = true;
              if (indexExcludes(*ix, filter)) {
                ++st.skippedByIndex;
                continue;
              }
            }
          }
        }
        if (!trusted) ++st.untrustedIndexes;
      }
    }
    if (!readFileInto(f.log, buf, 64)) {
      ++st.unreadable;
      continue;
    }
    ++st.scanned;
    const size_t size = buf.size() - 64;
    size_t pos = 0;
    while (pos < size) {
      const char* nl = static_cast<const char*>(std::memchr(buf.data() + pos, '\n', size - pos));
      size_t end = nl ? size_t(nl - buf.data()) : size;
      std::string_view line(buf.data() + pos, end - pos);
      size_t start = pos;
      pos = end + 1;
      ++st.records;
      if (!needle.empty() && line.find(needle) == std::string_view::npos) continue;
      if (!parseRecordFields(line, buf.size() - start, rf)) continue;
      if (!filter.matches(rf)) continue;
      ++st.matched;
      if (!onRecord(line, rf)) return st;
      if (filter.limit != 0 && st.matched >= filter.limit) return st;
    }
  }
  return st;
}

}  // namespace lbg::audit
