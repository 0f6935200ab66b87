// LogWriter at start: picks the chain up from the segments, seals and checkpoint on disk.
#include "dataplane/telemetry/log/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "dataplane/telemetry/log/checkpoint.h"
#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/segment_scan.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::telemetry {

using namespace logfmt;

namespace {

uint64_t fileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

}  // namespace

// Picks the chain up where the previous run left it. The newest sealed segment's tail must match
// its seal; an unsealed segment (the previous run stopped without close()) is checked record by
// record, an unfinished last line is cut off, and then it is sealed. A segment that does not
// verify is left exactly as found (verify will point at it) and an alarm enters the new segment.
Result<Ok> LogWriter::resume() {
  auto listed = listSegments(config_.dir);
  if (!listed) return listed.error();
  head_ = genesisHash(config_.applianceId);
  nextSeq_ = 1;
  segNumber_ = 1;
  std::string buf;
  const VerifyKey& pub = key_.publicKey();
  std::optional<SegmentFiles> open;
  for (const auto& f : *listed) {
    if (!f.hasSeal) {
      if (f.hasLog) open = f;  // only the newest may be unsealed; others are verify's business
      continue;
    }
    if (!readFileInto(f.seal, buf, 0)) continue;
    auto seal = Seal::parse(buf);
    if (!seal || !seal->verify(pub) || seal->appliance != config_.applianceId) {
      owedAlarms_.push_back("segment " + std::to_string(f.number) +
                            ": seal does not verify with this appliance's key");
      continue;
    }
    SealedSegment s;
    s.number = f.number;
    s.diskBytes = fileSize(f.log) + fileSize(f.seal) + fileSize(f.index);
    s.seal = std::move(*seal);
    sealed_.push_back(std::move(s));
  }
  if (!listed->empty()) segNumber_ = listed->back().number + 1;
  if (!sealed_.empty()) {
    const Seal& last = sealed_.back().seal;
    head_ = last.chainLast;
    nextSeq_ = last.lastSeq + 1;
    SegmentFiles f = segmentFiles(config_.dir, last.segment);
    if (readFileInto(f.log, buf, 0)) {
      std::string_view data(buf);
      bool tailOk = data.size() == last.bytes && data.size() >= 2 && data.back() == '\n';
      if (tailOk) {
        size_t nl = data.rfind('\n', data.size() - 2);
        size_t start = nl == std::string_view::npos ? 0 : nl + 1;
        tailOk = hashLine(data.substr(start, data.size() - 1 - start)) == last.chainLast;
      }
      if (!tailOk)
        owedAlarms_.push_back("segment " + std::to_string(last.segment) +
                              ": its last record no longer matches its seal");
    }
  }
  if (open && open->number == listed->back().number &&
      (sealed_.empty() || open->number > sealed_.back().number)) {
    auto r = readFileInto(open->log, buf, kPadding);
    if (!r) return r.error();
    std::string_view data(buf.data(), buf.size() - kPadding);
    if (data.empty()) {
      ::unlink(open->log.c_str());
      segNumber_ = open->number;
      return Ok{};
    }
    ScanResult sr = scanSegment(data, head_, nextSeq_, std::nullopt, false);
    if (sr.issue) {
      owedAlarms_.push_back("segment " + std::to_string(open->number) + ", record " +
                            std::to_string(sr.issue->record) + ": " + sr.issue->reason +
                            " (found when the writer restarted; segment left unsealed)");
      head_ = sr.lastHash;
      nextSeq_ = sr.lastSeq + 1;
      segNumber_ = open->number + 1;
      return Ok{};
    }
    if (sr.tailBytes > 0) {
      if (::truncate(open->log.c_str(), off_t(sr.goodBytes)) != 0)
        return Error{"log: cannot cut the unfinished record", open->log};
      owedAlarms_.push_back("segment " + std::to_string(open->number) + ": " +
                            std::to_string(sr.tailBytes) +
                            " bytes of an unfinished record removed after an unclean stop");
    }
    if (sr.records == 0) {
      ::unlink(open->log.c_str());
      segNumber_ = open->number;
      return Ok{};
    }
    // Adopt the segment as if this run had written it, then seal it.
    segNumber_ = open->number;
    segChainPrev_ = head_;
    segFirstSeq_ = nextSeq_;
    segRecords_ = sr.records;
    segBytes_ = sr.goodBytes;
    head_ = durableHead_ = sr.lastHash;
    nextSeq_ = durableSeq_ = sr.lastSeq + 1;
    segMinNs_ = segMaxNs_ = 0;  // recomputed from the records by sealSegment()
    fd_ = ::open(open->log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) return Error{"log: cannot reopen " + open->log};
    if (!sealSegment()) return Error{"log: cannot seal " + open->log};
    ++segNumber_;
  }
  return Ok{};
}

// The previous run's checkpoint names the newest record it made durable. If the chain found on
// disk ends earlier, the newest segments were deleted or the open one was cut while the writer
// was stopped: that is said in the chain (an alarm record) before the checkpoint is overwritten,
// and segment numbers continue after the checkpoint's so that a deleted number is never reused.
void LogWriter::checkPreviousCheckpoint() {
  std::string text;
  const std::string path = checkpointPath(config_.dir);
  if (!readFileInto(path, text, 0)) {
    if (!sealed_.empty() || segNumber_ > 1)
      owedAlarms_.push_back(std::string(toString(AlarmKind::Integrity)) + ": the signed checkpoint of the log's head is missing (" +
                            path + "): deletion of the newest records cannot be ruled out");
    return;
  }
  auto cp = Checkpoint::parse(text);
  if (!cp || !cp->verify(key_.publicKey()) || cp->appliance != config_.applianceId) {
    owedAlarms_.push_back(std::string(toString(AlarmKind::Integrity)) + ": the checkpoint of the log's head " +
                          std::string(cp ? "does not verify with this appliance's key"
                                         : "is unreadable: " + cp.error().message));
    return;
  }
  const uint64_t found = nextSeq_ - 1;
  if (cp->lastSeq > found) {
    owedAlarms_.push_back(
        std::string(toString(AlarmKind::TailMissing)) + ": records seq " + std::to_string(found + 1) + ".." +
        std::to_string(cp->lastSeq) + " (up to segment " + std::to_string(cp->segment) +
        ", checkpoint written at " + formatRfc3339(cp->writtenNs) +
        ") are missing: the newest segments were deleted or the open segment was cut while the "
        "writer was stopped");
  }
  if (cp->segment >= segNumber_) segNumber_ = cp->segment + 1;
}

}  // namespace lbg::telemetry
