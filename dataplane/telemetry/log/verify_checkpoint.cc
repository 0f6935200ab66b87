// verifyLog's checkpoint check (FORMAT.md "Checkpoint").
#include "dataplane/telemetry/log/verify_parts.h"

#include "dataplane/telemetry/log/checkpoint.h"
#include "dataplane/telemetry/log/time_format.h"

namespace lbg::telemetry::logfmt::verify {

// The signed checkpoint names the newest record the writer made durable (FORMAT.md
// "Checkpoint"): that record must still be there, at its place, with its hash. This catches the
// deletion of the newest segments and the truncation of the open one, which seals cannot.
void checkCheckpoint(const std::string& dir, const VerifyKey& key,
                     const std::vector<Entry>& entries, VerifyResult& res, std::string& buf) {
  const std::string name(kCheckpointFile);
  const uint64_t newest = entries.back().files.number;
  auto add = [&](uint64_t seg, const std::string& file, uint64_t record, uint64_t seq,
                 uint64_t offset, std::string reason) {
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
        "checkpoint unreadable (line " + std::to_string(cp.error().line) +
            "): " + cp.error().message);
    return;
  }
  if (!cp->verify(key)) {
    add(newest, name, 0, 0, 0,
        "checkpoint signature invalid: not made by key " + key.keyId() + " (it names key " +
            cp->keyId + ", appliance '" + cp->appliance + "')");
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
        "the record the checkpoint names (seq " + std::to_string(cp->lastSeq) +
            ", ending at byte " + std::to_string(cp->segmentBytes) +
            ") is not there: segment cut and rewritten" + when);
}

}  // namespace lbg::telemetry::logfmt::verify
