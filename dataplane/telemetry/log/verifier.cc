#include "dataplane/telemetry/log/verifier.h"

#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "dataplane/telemetry/log/checkpoint.h"
#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/segment_index.h"
#include "dataplane/telemetry/log/segment_scan.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::telemetry::logfmt {

std::string VerifyFinding::toString() const {
  std::string s = "segment " + std::to_string(segment) + " (" + file + ")";
  if (record > 0) s += ", record " + std::to_string(record);
  if (seq > 0) s += " (seq " + std::to_string(seq) + ")";
  if (record > 0) s += " at byte " + std::to_string(offset);
  return s + ": " + reason;
}

namespace {

std::string baseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct Entry {
  SegmentFiles files;
  std::optional<Seal> seal;
  bool sealValid = false;
};

// Retention records: lines whose event_type is "retention", parsed fully (they are few).
void collectRetention(std::string_view data, std::vector<RetainedSegment>& out) {
  static const std::string kNeedle =
      "\"event_type\":\"" + std::string(toString(LogEventType::Retention)) + "\"";
  size_t pos = 0;
  while ((pos = data.find(kNeedle, pos)) != std::string_view::npos) {
    size_t start = data.rfind('\n', pos);
    start = start == std::string_view::npos ? 0 : start + 1;
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) break;
    pos = end;
    auto j = nlohmann::json::parse(data.substr(start, end - start), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("event_type", "") != toString(LogEventType::Retention)) continue;
    const auto* ret = j.contains("retention") ? &j["retention"] : nullptr;
    if (ret == nullptr || !ret->is_object() || !ret->contains("deleted") ||
        !(*ret)["deleted"].is_array())
      continue;
    for (const auto& d : (*ret)["deleted"]) {
      try {
        RetainedSegment r;
        r.segment = d.at("segment").get<uint64_t>();
        r.firstSeq = d.at("first_seq").get<uint64_t>();
        r.lastSeq = d.at("last_seq").get<uint64_t>();
        r.records = d.at("records").get<uint64_t>();
        auto h = hashFromHex(d.at("chain_last").get<std::string>());
        if (!h) continue;
        r.chainLast = *h;
        r.minNs = parseRfc3339(d.value("min_time", "")).value_or(0);
        r.maxNs = parseRfc3339(d.value("max_time", "")).value_or(0);
        r.reason = ret->value("reason", "");
        out.push_back(r);
      } catch (const nlohmann::json::exception&) {
      }
    }
  }
}

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

SegmentWork checkSegment(const std::string& path, Hash startPrev, uint64_t startSeq, bool haveStart,
                         std::optional<Hash> sealedLast, bool scan, bool collect, std::string& buf,
                         uint64_t number, const VerifyOptions& opt) {
  SegmentWork w;
  w.done = true;
  auto r = readFileInto(path, buf);
  if (!r) {
    w.readError = r.error().toString();
    return w;
  }
  w.readOk = true;
  std::string_view data(buf.data(), buf.size() - 64);
  if (opt.onSegmentData) opt.onSegmentData(number, data);
  w.size = data.size();
  if (collect) collectRetention(data, w.retained);
  if (!scan) return w;
  if (!haveStart) {
    // Unsealed segment after a break: take its own first record as the start, so that the rest
    // is still checked.
    std::string_view first = data.substr(0, data.find('\n'));
    if (auto cf = parseChainFields(first)) {
      startPrev = cf->prev;
      startSeq = cf->seq;
    }
  }
  w.sr = scanSegment(data, startPrev, startSeq, sealedLast, sealedLast.has_value());
  w.scanned = true;
  return w;
}

// The signed checkpoint names the newest record the writer made durable (FORMAT.md
// "Checkpoint"): that record must still be there, at its place, with its hash. This catches the
// deletion of the newest segments and the truncation of the open one, which seals cannot.
void checkCheckpoint(const std::string& dir, const VerifyKey& key, const std::vector<Entry>& entries,
                     VerifyResult& res, std::string& buf) {
  const std::string name(kCheckpointFile);
  const uint64_t newest = entries.back().files.number;
  auto add = [&](uint64_t seg, const std::string& file, uint64_t record, uint64_t seq, uint64_t offset,
                 std::string reason) {
    res.findings.push_back({seg, file, record, seq, offset, std::move(reason)});
  };
  if (!readFileInto(checkpointPath(dir), buf, 0)) {
    add(newest, name, 0, 0, 0,
        "checkpoint file missing: the deletion of the newest segments or the truncation of the "
        "open segment cannot be ruled out");
    return;
  }
  auto cp = Checkpoint::parse(buf);
  if (!cp) {
    add(newest, name, 0, 0, 0,
        "checkpoint unreadable (line " + std::to_string(cp.error().line) + "): " + cp.error().message);
    return;
  }
  if (!cp->verify(key)) {
    add(newest, name, 0, 0, 0,
        "checkpoint signature invalid: not made by key " + key.keyId() + " (it names key " + cp->keyId +
            ", appliance '" + cp->appliance + "')");
    return;
  }
  if (!res.appliance.empty() && cp->appliance != res.appliance) {
    add(newest, name, 0, 0, 0, "checkpoint belongs to appliance '" + cp->appliance + "'");
    return;
  }
  if (cp->lastSeq == 0) return;  // written before the first record
  const std::string when = " (signed checkpoint of " + formatRfc3339(cp->writtenNs) + ")";
  // The end of the chain as found, for the messages.
  uint64_t endSeq = 0, endSeg = 0;
  for (const auto& st : res.segments)
    if (st.lastSeq != 0) endSeq = st.lastSeq, endSeg = st.number;
  const Entry* e = nullptr;
  for (const auto& x : entries)
    if (x.files.number == cp->segment) e = &x;
  const std::string logName = segmentBaseName(cp->segment) + ".jsonl";
  if (cp->segment > newest) {
    add(cp->segment, logName, 0, cp->lastSeq, 0,
        (cp->segment == newest + 1 ? "newest segment " + std::to_string(cp->segment)
                                   : "newest segments " + std::to_string(newest + 1) + ".." +
                                         std::to_string(cp->segment)) +
            " deleted: the log ends at seq " + std::to_string(endSeq) + " in segment " +
            std::to_string(endSeg) + " but records up to seq " + std::to_string(cp->lastSeq) +
            " in segment " + std::to_string(cp->segment) + " were written" + when);
    return;
  }
  if (e == nullptr || !e->files.hasLog) {
    add(cp->segment, logName, 0, cp->lastSeq, 0,
        "segment " + std::to_string(cp->segment) + " deleted: it held records up to seq " +
            std::to_string(cp->lastSeq) + when);
    return;
  }
  // One finding per place: a segment already reported broken is not reported twice.
  for (const auto& f : res.findings)
    if (f.segment == cp->segment) return;
  if (!readFileInto(e->files.log, buf, 0)) return;  // reported by the segment pass
  std::string_view data(buf);
  uint64_t segLast = 0, segRecords = 0;
  for (const auto& st : res.segments)
    if (st.number == cp->segment) segLast = st.lastSeq, segRecords = st.records;
  if (data.size() < cp->segmentBytes) {
    add(cp->segment, logName, segRecords + 1, segLast + 1, data.size(),
        "segment truncated at its end: it ends after seq " + std::to_string(segLast) + " (" +
            std::to_string(data.size()) + " bytes) but records up to seq " +
            std::to_string(cp->lastSeq) + " (" + std::to_string(cp->segmentBytes) +
            " bytes) were written" + when);
    return;
  }
  std::string_view upTo = data.substr(0, cp->segmentBytes);
  bool ok = upTo.size() >= 2 && upTo.back() == '\n';
  if (ok) {
    size_t nl = upTo.rfind('\n', upTo.size() - 2);
    std::string_view line = upTo.substr(nl == std::string_view::npos ? 0 : nl + 1);
    line.remove_suffix(1);
    auto cf = parseChainFields(line);
    ok = cf && cf->seq == cp->lastSeq && hashLine(line) == cp->chainLast;
  }
  if (!ok)
    add(cp->segment, logName, 0, cp->lastSeq, cp->segmentBytes,
        "the record the checkpoint names (seq " + std::to_string(cp->lastSeq) + ", ending at byte " +
            std::to_string(cp->segmentBytes) + ") is not there: segment cut and rewritten" + when);
}

}  // namespace

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
  auto add = [&](uint64_t seg, const std::string& file, uint64_t record, uint64_t seq,
                 uint64_t offset, std::string reason) {
    res.findings.push_back({seg, file, record, seq, offset, std::move(reason)});
  };

  // Pass 1: seals (cheap: one signature per segment).
  std::vector<Entry> entries;
  std::string buf;
  for (auto& f : *listed) {
    Entry e{f, std::nullopt, false};
    std::string logName = baseName(f.log);
    if (!f.hasLog) {
      add(f.number, logName, 0, 0, 0, "segment file missing (its seal or index is still there)");
      entries.push_back(std::move(e));
      continue;
    }
    if (f.hasSeal) {
      auto r = readFileInto(f.seal, buf, 0);
      if (!r) {
        add(f.number, baseName(f.seal), 0, 0, 0, "cannot read seal: " + r.error().toString());
      } else {
        auto seal = Seal::parse(buf);
        if (!seal) {
          add(f.number, baseName(f.seal), 0, 0, 0,
              "seal unreadable (line " + std::to_string(seal.error().line) +
                  "): " + seal.error().message);
        } else {
          e.seal = std::move(*seal);
          if (res.appliance.empty())
            res.appliance = opt.expectAppliance.empty() ? e.seal->appliance : opt.expectAppliance;
          if (!e.seal->verify(key)) {
            add(f.number, baseName(f.seal), 0, 0, 0,
                "seal signature invalid: not made by key " + key.keyId() + " (the seal names key " +
                    e.seal->keyId + ", appliance '" + e.seal->appliance +
                    "'): segment replaced or seal altered");
          } else if (e.seal->appliance != res.appliance) {
            add(f.number, baseName(f.seal), 0, 0, 0,
                "segment belongs to appliance '" + e.seal->appliance + "', not '" + res.appliance +
                    "'");
          } else if (e.seal->segment != f.number) {
            add(f.number, baseName(f.seal), 0, 0, 0,
                "seal is for segment " + std::to_string(e.seal->segment) + ": segment renamed");
          } else {
            e.sealValid = true;
          }
        }
      }
    }
    entries.push_back(std::move(e));
  }
  if (res.appliance.empty()) res.appliance = opt.expectAppliance;

  // Pass 2: walk segments in order along the chain.
  std::optional<Hash> chainEnd;  // hash of the last record of the previous segment
  uint64_t nextSeq = 0;
  std::optional<uint64_t> prevNumber;
  const uint64_t firstNumber = entries.front().files.number;
  std::vector<RetainedSegment> retained;
  bool needRetention = false;

  // Sealed segments are checked in parallel (each starts from its own signed seal; the links
  // between them are checked below from the seals); the walk below then reads the results in order.
  const bool retentionGap = firstNumber != 1;
  std::vector<SegmentWork> work(entries.size());
  {
    std::vector<size_t> todo;
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      if (!e.files.hasLog || !e.sealValid) continue;
      bool inRange = e.seal->maxNs >= opt.fromNs && e.seal->minNs <= opt.toNs;
      if (inRange || retentionGap) todo.push_back(i);
    }
    std::atomic<size_t> next{0};
    auto worker = [&] {
      std::string b;
      for (size_t k; (k = next.fetch_add(1)) < todo.size();) {
        const Entry& e = entries[todo[k]];
        bool inRange = e.seal->maxNs >= opt.fromNs && e.seal->minNs <= opt.toNs;
        work[todo[k]] = checkSegment(e.files.log, e.seal->chainPrev, e.seal->firstSeq, true,
                                     e.seal->chainLast, inRange, retentionGap, b, e.files.number, opt);
      }
    };
    size_t n = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 8, todo.size()});
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
  }

  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& e = entries[i];
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
      add(f.number, logName, 0, 0, 0,
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
        add(f.number, logName, 1, e.seal->firstSeq, 0,
            "chain break between segments: this segment does not continue segment " +
                std::to_string(*prevNumber) + " (segment replaced, or its predecessor altered)");
    } else if (chainEnd) {
      startPrev = *chainEnd;
      startSeq = nextSeq;
    } else if (f.number == 1 && !res.appliance.empty()) {
      startPrev = genesisHash(res.appliance);
      startSeq = 1;
    }
    if (f.number == firstNumber) {
      if (f.number == 1) {
        if (e.sealValid && (e.seal->chainPrev != genesisHash(res.appliance) || e.seal->firstSeq != 1))
          add(f.number, logName, 1, 1, 0,
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
        add(f.number, logName, 0, 0, 0, "cannot read: " + w->readError);
        st.ok = false;
      } else {
        retained.insert(retained.end(), w->retained.begin(), w->retained.end());
        if (inRange) {
          const ScanResult& sr = w->sr;
          st.scanned = true;
          res.bytesScanned += w->size;
          res.recordsScanned += sr.records;
          if (sr.issue) {
            add(f.number, logName, sr.issue->record, sr.issue->seq, sr.issue->offset,
                sr.issue->reason);
          } else if (e.sealValid) {
            const Seal& s = *e.seal;
            if (sr.records < s.records)
              add(f.number, logName, sr.records + 1, sr.lastSeq + 1, sr.goodBytes,
                  "segment truncated: it ends after record " + std::to_string(sr.records) +
                      " (seq " + std::to_string(sr.lastSeq) + ") but the seal covers " +
                      std::to_string(s.records) + " records up to seq " + std::to_string(s.lastSeq));
            else if (sr.records > s.records)
              add(f.number, logName, s.records + 1, s.lastSeq + 1, 0,
                  "records added after the segment was sealed");
            else if (sr.lastHash != s.chainLast)
              add(f.number, logName, sr.records, sr.lastSeq, 0,
                  "record altered: the last record does not match the seal's chain_last");
            else if (w->size != s.bytes)
              add(f.number, logName, 0, 0, 0,
                  "segment size " + std::to_string(w->size) + " differs from the sealed " +
                      std::to_string(s.bytes) + " bytes");
          } else {
            st.records = sr.records;
            st.firstSeq = sr.firstSeq;
            st.lastSeq = sr.lastSeq;
            st.bytes = w->size;
            if (sr.tailBytes > 0)
              res.notes.push_back("segment " + std::to_string(f.number) +
                                  " (open): last line incomplete (" +
                                  std::to_string(sr.tailBytes) + " bytes): being written or cut");
            res.notes.push_back("segment " + std::to_string(f.number) +
                                " is open (not sealed yet): its records are chained but not signed");
          }
          if (!e.sealValid) {
            chainEnd = sr.lastHash;
            nextSeq = sr.lastSeq + 1;
          }
        }
      }
    }
    // Index integrity: the seal signs the index's hash.
    if (e.sealValid && f.hasIndex && !e.seal->indexSha256.empty()) {
      if (readFileInto(f.index, buf, 0)) {
        unsigned char h[32];
        SHA256(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), h);
        if (toHex(h, 32) != e.seal->indexSha256)
          add(f.number, baseName(f.index), 0, 0, 0, "index altered (hash differs from the seal)");
      }
    } else if (e.sealValid && !e.seal->indexSha256.empty() && !f.hasIndex) {
      res.notes.push_back("segment " + std::to_string(f.number) +
                          ": index missing (queries scan the segment)");
    }
    if (!f.hasSeal && !last) {
      add(f.number, logName, 0, 0, 0,
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

  checkCheckpoint(dir, key, entries, res, buf);

  // Segments before the oldest one present must have been deleted by retention, and the log
  // must say so: the entry for the one just before must end where the oldest present begins.
  res.retained = retained;
  if (needRetention) {
    const Entry& first = entries.front();
    std::map<uint64_t, RetainedSegment> bySeg;
    for (auto& r : retained) bySeg[r.segment] = r;
    // Retention deletes oldest first, and each retention record is written before the deletion
    // into a later segment; so the record that deleted the segment just before the oldest one
    // present explains the whole gap (the records that deleted earlier ones went with their
    // segments, legitimately).
    std::string name = baseName(first.files.log);
    auto it = bySeg.find(firstNumber - 1);
    if (it == bySeg.end()) {
      res.findings.insert(res.findings.begin(),
                          VerifyFinding{firstNumber, name, 0, 0, 0,
                                        "segments 1.." + std::to_string(firstNumber - 1) +
                                            " missing without a retention record explaining "
                                            "their deletion"});
    } else if (first.sealValid) {
      const RetainedSegment& before = it->second;
      if (before.chainLast != first.seal->chainPrev || before.lastSeq + 1 != first.seal->firstSeq)
        res.findings.insert(res.findings.begin(),
                            VerifyFinding{firstNumber, name, 1, first.seal->firstSeq, 0,
                                          "chain break: the oldest segment does not continue the "
                                          "segment that retention deleted before it"});
    }
  }
  // Log order: the first finding is the first broken place, whichever pass found it.
  std::stable_sort(res.findings.begin(), res.findings.end(),
                   [](const VerifyFinding& a, const VerifyFinding& b) {
                     return a.segment < b.segment;  // within a segment: the order found
                   });
  return res;
}

}  // namespace lbg::telemetry::logfmt
