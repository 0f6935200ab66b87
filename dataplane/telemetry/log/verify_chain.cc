// verifyLog's pass 2: the segments in order along the chain (gaps, links between segments, the
// genesis, open segments), using the segment reads of verify_segment.cc.
#include "dataplane/telemetry/log/verify_parts.h"

namespace lbg::telemetry::logfmt::verify {

ChainWalk walkChain(const std::vector<Entry>& entries, const std::vector<SegmentWork>& work,
                    const VerifyOptions& opt, VerifyResult& res, std::string& buf) {
  ChainWalk out;
  std::vector<RetainedSegment>& retained = out.retained;
  bool& needRetention = out.needRetention;
  std::optional<Hash> chainEnd;  // hash of the last record of the previous segment
  uint64_t nextSeq = 0;
  std::optional<uint64_t> prevNumber;
  const uint64_t firstNumber = entries.front().files.number;

  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const SegmentFiles& f = e.files;
    std::string logName = baseName(f.log);
    bool last = i + 1 == entries.size();
    if (!f.hasLog) {
      chainEnd.reset();
      prevNumber = f.number;
      continue;
    }
    SegmentStatus st;
    st.number = f.number;
    st.file = logName;
    st.sealed = e.sealValid;
    size_t findingsBefore = res.findings.size();

    if (prevNumber && f.number != *prevNumber + 1) {
      addFinding(res, f.number, logName, 0, 0, 0,
                 f.number == *prevNumber + 2
                     ? "segment " + std::to_string(*prevNumber + 1) + " missing (deleted)"
                     : "segments " + std::to_string(*prevNumber + 1) + ".." +
                           std::to_string(f.number - 1) + " missing (deleted)");
      chainEnd.reset();
    }
    if (f.hasSeal && !e.sealValid) {
      // Reported in pass 1; its records cannot be trusted, the chain restarts after it.
      st.ok = false;
      res.segments.push_back(st);
      chainEnd.reset();
      prevNumber = f.number;
      continue;
    }

    // Where must this segment's chain start?
    Hash startPrev{};
    uint64_t startSeq = 0;
    if (e.sealValid) {
      startPrev = e.seal->chainPrev;
      startSeq = e.seal->firstSeq;
      if (chainEnd && (*chainEnd != e.seal->chainPrev || nextSeq != e.seal->firstSeq))
        addFinding(res, f.number, logName, 1, e.seal->firstSeq, 0,
                   "chain break between segments: this segment does not continue segment " +
                       std::to_string(*prevNumber) +
                       " (segment replaced, or its predecessor altered)");
    } else if (chainEnd) {
      startPrev = *chainEnd;
      startSeq = nextSeq;
    } else if (f.number == 1 && !res.appliance.empty()) {
      startPrev = genesisHash(res.appliance);
      startSeq = 1;
    }
    if (f.number == firstNumber) {
      if (f.number == 1) {
        if (e.sealValid &&
            (e.seal->chainPrev != genesisHash(res.appliance) || e.seal->firstSeq != 1))
          addFinding(res, f.number, logName, 1, 1, 0,
                     "the first segment does not start this appliance's chain (genesis mismatch)");
      } else {
        needRetention = true;
      }
    }

    bool inRange = true;
    if (e.sealValid) {
      st.records = e.seal->records;
      st.bytes = e.seal->bytes;
      st.firstSeq = e.seal->firstSeq;
      st.lastSeq = e.seal->lastSeq;
      st.minNs = e.seal->minNs;
      st.maxNs = e.seal->maxNs;
      inRange = e.seal->maxNs >= opt.fromNs && e.seal->minNs <= opt.toNs;
    }
    bool haveStart = e.sealValid || chainEnd || (f.number == 1 && !res.appliance.empty());
    if (inRange || needRetention) {
      std::optional<Hash> sealedLast;
      if (e.sealValid) sealedLast = e.seal->chainLast;
      SegmentWork local;
      const SegmentWork* w = &work[i];
      if (!w->done) {
        local = checkSegment(f.log, startPrev, startSeq, haveStart, sealedLast, inRange,
                             needRetention || !e.sealValid, buf, f.number, opt);
        w = &local;
      }
      if (!w->readOk) {
        addFinding(res, f.number, logName, 0, 0, 0, "cannot read: " + w->readError);
        st.ok = false;
      } else {
        retained.insert(retained.end(), w->retained.begin(), w->retained.end());
        if (inRange) {
          const ScanResult& sr = w->sr;
          st.scanned = true;
          res.bytesScanned += w->size;
          res.recordsScanned += sr.records;
          if (sr.issue) {
            addFinding(res, f.number, logName, sr.issue->record, sr.issue->seq, sr.issue->offset,
                       sr.issue->reason);
          } else if (e.sealValid) {
            compareWithSeal(*e.seal, sr, w->size, f.number, logName, res);
          } else {
            st.records = sr.records;
            st.firstSeq = sr.firstSeq;
            st.lastSeq = sr.lastSeq;
            st.bytes = w->size;
            if (sr.tailBytes > 0)
              res.notes.push_back("segment " + std::to_string(f.number) +
                                  " (open): last line incomplete (" + std::to_string(sr.tailBytes) +
                                  " bytes): being written or cut");
            res.notes.push_back(
                "segment " + std::to_string(f.number) +
                " is open (not sealed yet): its records are chained but not signed");
          }
          if (!e.sealValid) {
            chainEnd = sr.lastHash;
            nextSeq = sr.lastSeq + 1;
          }
        }
      }
    }
    checkIndex(e, res, buf);
    if (!f.hasSeal && !last) {
      addFinding(res, f.number, logName, 0, 0, 0,
                 "segment not sealed although later segments exist (seal deleted?)");
    }
    if (e.sealValid) {
      chainEnd = e.seal->chainLast;
      nextSeq = e.seal->lastSeq + 1;
    }
    st.ok = res.findings.size() == findingsBefore;
    res.segments.push_back(st);
    prevNumber = f.number;
  }
  return out;
}

}  // namespace lbg::telemetry::logfmt::verify
