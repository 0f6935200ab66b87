#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dataplane/telemetry/log/chain.h"

// Walks the records of one segment along the chain and names the first place where it breaks,
// telling a changed record from a deleted or moved one (FORMAT.md "Verification").
namespace lbg::telemetry::logfmt {

struct ScanIssue {
  uint64_t record = 0;  // 1-based line number in the segment file
  uint64_t seq = 0;     // the sequence number expected there (0 if unknown)
  uint64_t offset = 0;  // byte offset of that line
  std::string reason;
};

struct ScanResult {
  uint64_t records = 0;    // records verified in order before any issue
  uint64_t goodBytes = 0;  // file offset just after the last verified record
  uint64_t firstSeq = 0, lastSeq = 0;
  Hash lastHash{};
  uint64_t tailBytes = 0;  // bytes of an incomplete last line (no '\n'), if any
  std::optional<ScanIssue> issue;
};

// `prev`/`firstSeq`: where the chain must start. `sealedLast`: the seal's chain_last, which tells
// whether a mismatch at the last record is that record's fault. An incomplete last line is
// reported in tailBytes and (if `tailIsIssue`) as the issue.
ScanResult scanSegment(std::string_view data, const Hash& prev, uint64_t firstSeq,
                       const std::optional<Hash>& sealedLast, bool tailIsIssue);

}  // namespace lbg::telemetry::logfmt
