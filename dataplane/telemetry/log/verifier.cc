#include "dataplane/telemetry/log/verifier.h"

#include <algorithm>

#include "dataplane/telemetry/log/verify_parts.h"

namespace lbg::telemetry::logfmt {

std::string VerifyFinding::toString() const {
  std::string s = "segment " + std::to_string(segment) + " (" + file + ")";
  if (record > 0) s += ", record " + std::to_string(record);
  if (seq > 0) s += " (seq " + std::to_string(seq) + ")";
  if (record > 0) s += " at byte " + std::to_string(offset);
  return s + ": " + reason;
}

namespace verify {

std::string baseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void addFinding(VerifyResult& res, uint64_t segment, const std::string& file, uint64_t record,
                uint64_t seq, uint64_t offset, std::string reason) {
  res.findings.push_back({segment, file, record, seq, offset, std::move(reason)});
}

}  // namespace verify

// The passes are in verify_*.cc (verify_parts.h); this is their order.
VerifyResult verifyLog(const std::string& dir, const VerifyKey& key, const VerifyOptions& opt) {
  VerifyResult res;
  res.keyId = key.keyId();
  auto listed = listSegments(dir);
  if (!listed) {
    res.findings.push_back({0, dir, 0, 0, 0, listed.error().toString()});
    return res;
  }
  if (listed->empty()) {
    res.findings.push_back({0, dir, 0, 0, 0, "no log segments in this directory"});
    return res;
  }
  std::string buf;
  const std::vector<verify::Entry> entries = verify::readSeals(*listed, key, opt, res, buf);
  const std::vector<verify::SegmentWork> work = verify::checkSealedSegments(entries, opt);
  const verify::ChainWalk walk = verify::walkChain(entries, work, opt, res, buf);
  verify::checkCheckpoint(dir, key, entries, res, buf);
  res.retained = walk.retained;
  verify::checkRetentionGap(entries, walk, res);
  // Log order: the first finding is the first broken place, whichever pass found it.
  std::stable_sort(res.findings.begin(), res.findings.end(),
                   [](const VerifyFinding& a, const VerifyFinding& b) {
                     return a.segment < b.segment;  // within a segment: the order found
                   });
  return res;
}

}  // namespace lbg::telemetry::logfmt
