#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/telemetry/log/ed25519_key.h"
#include "dataplane/telemetry/log/seal.h"

// Verification of a whole log directory against the appliance's public key (FORMAT.md
// "Verification"): seals, the chain inside and across segments, retention gaps. lbg-audit's
// `verify` and the writer's resume both use it.
namespace lbg::telemetry::logfmt {

struct VerifyOptions {
  int64_t fromNs = std::numeric_limits<int64_t>::min();  // segments wholly outside [from,to]
  int64_t toNs = std::numeric_limits<int64_t>::max();    // are checked by their seals only
  std::string expectAppliance;                            // empty: taken from the first seal
  // Called with the bytes of each segment file verify reads (at least 64 readable zero bytes
  // follow `data`), possibly from several threads at once, each segment at most once. Lets
  // `lbg-audit report` read the log once for verification and evidence.
  std::function<void(uint64_t segment, std::string_view data)> onSegmentData;
};

struct VerifyFinding {
  uint64_t segment = 0;
  std::string file;      // file name within the directory
  uint64_t record = 0;   // 1-based line in the segment; 0 = the segment as a whole
  uint64_t seq = 0;      // sequence number expected at that place; 0 if not known
  uint64_t offset = 0;   // byte offset of the record
  std::string reason;
  std::string toString() const;
};

struct SegmentStatus {
  uint64_t number = 0;
  std::string file;
  bool sealed = false;
  bool scanned = false;  // every record hashed (in the time range)
  bool ok = true;
  uint64_t records = 0, bytes = 0;
  uint64_t firstSeq = 0, lastSeq = 0;
  int64_t minNs = 0, maxNs = 0;
};

struct RetainedSegment {
  uint64_t segment = 0, firstSeq = 0, lastSeq = 0, records = 0;
  int64_t minNs = 0, maxNs = 0;
  Hash chainLast{};
  std::string reason;
};

struct VerifyResult {
  std::vector<VerifyFinding> findings;  // in log order; findings[0] is the first break
  std::vector<std::string> notes;       // not breaks (e.g. the open segment's unfinished line)
  std::vector<SegmentStatus> segments;
  std::vector<RetainedSegment> retained;  // segments deleted by retention, as the log declares
  std::string appliance, keyId;
  uint64_t bytesScanned = 0, recordsScanned = 0;
  bool ok() const { return findings.empty(); }
};

VerifyResult verifyLog(const std::string& dir, const VerifyKey& key, const VerifyOptions& opt = {});

}  // namespace lbg::telemetry::logfmt
