#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/segment_scan.h"
#include "dataplane/telemetry/log/verifier.h"

// The parts of verifyLog (verifier.cc), one responsibility per file; not for other callers.
namespace lbg::telemetry::logfmt::verify {

// One segment as listed, with its seal if it parsed.
struct Entry {
  SegmentFiles files;
  std::optional<Seal> seal;
  bool sealValid = false;
};

// The expensive part of checking one segment: read it, walk its chain, pick up retention records.
// Independent per sealed segment (its start comes from its own seal), so it runs in parallel.
struct SegmentWork {
  bool done = false, readOk = false;
  std::string readError;
  ScanResult sr;
  uint64_t size = 0;
  bool scanned = false;
  std::vector<RetainedSegment> retained;
};

std::string baseName(const std::string& path);
void addFinding(VerifyResult& res, uint64_t segment, const std::string& file, uint64_t record,
                uint64_t seq, uint64_t offset, std::string reason);

// verify_seals.cc: pass 1 (every seal's signature, appliance and number), a scanned segment
// against its seal, and the index against the hash its seal signs.
std::vector<Entry> readSeals(const std::vector<SegmentFiles>& listed, const VerifyKey& key,
                             const VerifyOptions& opt, VerifyResult& res, std::string& buf);
void compareWithSeal(const Seal& s, const ScanResult& sr, uint64_t size, uint64_t number,
                     const std::string& logName, VerifyResult& res);
void checkIndex(const Entry& e, VerifyResult& res, std::string& buf);

// verify_segment.cc: reading and hashing segments, the sealed ones in parallel.
SegmentWork checkSegment(const std::string& path, Hash startPrev, uint64_t startSeq, bool haveStart,
                         std::optional<Hash> sealedLast, bool scan, bool collect, std::string& buf,
                         uint64_t number, const VerifyOptions& opt);
std::vector<SegmentWork> checkSealedSegments(const std::vector<Entry>& entries,
                                             const VerifyOptions& opt);

// verify_chain.cc: pass 2, the segments in order along the chain.
struct ChainWalk {
  std::vector<RetainedSegment> retained;  // retention records read on the way
  bool needRetention = false;             // the oldest segment present is not segment 1
};
ChainWalk walkChain(const std::vector<Entry>& entries, const std::vector<SegmentWork>& work,
                    const VerifyOptions& opt, VerifyResult& res, std::string& buf);

// verify_retention.cc: retention records, and the gap before the oldest segment present.
void collectRetention(std::string_view data, std::vector<RetainedSegment>& out);
void checkRetentionGap(const std::vector<Entry>& entries, const ChainWalk& walk, VerifyResult& res);

// verify_checkpoint.cc: the signed checkpoint of the log's head.
void checkCheckpoint(const std::string& dir, const VerifyKey& key,
                     const std::vector<Entry>& entries, VerifyResult& res, std::string& buf);

}  // namespace lbg::telemetry::logfmt::verify
